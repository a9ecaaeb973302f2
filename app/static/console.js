// Gatehouse console: small progressive enhancements. Every page works without this file.
"use strict";

function setupPicker(root) {
  const tools = root.querySelector("[data-picker-tools]");
  const filter = root.querySelector("[data-picker-filter]");
  const items = Array.from(root.querySelectorAll("[data-service]"));
  const status = root.querySelector("[data-picker-status]");
  const empty = root.querySelector("[data-picker-empty]");
  if (!tools || !filter || items.length === 0) return;
  tools.hidden = false;

  const apply = () => {
    const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const item of items) {
      const text = item.dataset.service;
      const match = words.every((word) => text.includes(word));
      item.hidden = !match;
      if (match) shown += 1;
    }
    status.textContent = words.length ? `${shown} of ${items.length} services shown` : "";
    if (empty) empty.hidden = shown !== 0;
  };
  filter.addEventListener("input", apply);
  // Enter in the filter box narrows the list; it must not submit the whole form.
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault();
  });
  for (const button of root.querySelectorAll("[data-select]")) {
    button.addEventListener("click", () => {
      const on = button.dataset.select === "all";
      for (const item of items) {
        if (!item.hidden) item.querySelector("input[type=checkbox]").checked = on;
      }
    });
  }
}

function selectText(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

async function copyText(element) {
  const text = element.textContent.trim();
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (error) {
      // permission refused: fall back to the selection
    }
  }
  selectText(element);
  try {
    return document.execCommand("copy");
  } catch (error) {
    return false;
  }
}

function setupCopy(button) {
  const target = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector(".copy-status");
  if (!target) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const copied = await copyText(target);
    if (!copied) selectText(target);
    if (status) status.textContent = copied ? "Copied" : "Selected: press Ctrl+C (⌘C) to copy";
  });
}

// A one-time secret must not come back from the back/forward cache.
function guardOneTime() {
  if (!document.querySelector("[data-one-time]")) return;
  window.addEventListener("pagehide", () => {
    for (const element of document.querySelectorAll("[data-one-time] .credential")) {
      element.textContent = "";
    }
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) window.location.reload();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-picker]").forEach(setupPicker);
  document.querySelectorAll("[data-copy]").forEach(setupCopy);
  guardOneTime();
});
