"""The API reference for people: the OpenAPI document flattened into rows for a page.

The page is rendered on the server from the same document the API serves, so it
cannot drift from it, and it needs no script (the console's Content-Security-Policy
allows none inline, and nothing is loaded from elsewhere).
"""

from __future__ import annotations

from typing import Any

REF = "#/components/schemas/"
RULES = {
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "minimum": "≥ {}",
    "maximum": "≤ {}",
    "minItems": "at least {} items",
    "maxItems": "at most {} items",
    "default": "default {}",
}


def type_of(schema: dict[str, Any]) -> str:
    """A short type for people: ``string (date)``, ``array of ClientOut``, ``string | null``."""
    if "$ref" in schema:
        return schema["$ref"].removeprefix(REF)
    if "anyOf" in schema:
        return " | ".join(type_of(option) for option in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(str(value) for value in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return "array of " + type_of(schema.get("items", {}))
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def rules_of(schema: dict[str, Any]) -> str:
    """The constraints of a field, in words (patterns are left to the JSON document)."""
    flat = next((s for s in schema.get("anyOf", []) if s.get("type") != "null"), schema)
    found = []
    for key, words in RULES.items():
        value = flat.get(key, schema.get(key))
        if value is not None and (key != "default" or value != []):
            found.append(words.format('""' if value == "" else value))
    return ", ".join(found)


def spans(text: str) -> list[tuple[str, bool]]:
    """Text with `backtick` code spans as ``(text, is_code)`` pieces, for the template to
    escape and wrap (the descriptions are written for both the document and the page)."""
    return [(piece, index % 2 == 1) for index, piece in enumerate(text.split("`")) if piece]


def fields_of(document: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """One row per field of a component: name, type, required, rules, description."""
    schema = document["components"]["schemas"][name]
    required = set(schema.get("required", []))
    return [
        {
            "name": field,
            "type": type_of(prop),
            "required": field in required,
            "rules": rules_of(prop),
            "description": prop.get("description", ""),
        }
        for field, prop in schema.get("properties", {}).items()
    ]


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation with its method, path, parameters, body model and responses."""
    found = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            responses = [
                {
                    "status": status,
                    "description": response["description"],
                    "model": next(
                        (type_of(c["schema"]) for c in response.get("content", {}).values()),
                        "",
                    ),
                }
                for status, response in op["responses"].items()
            ]
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": op["operationId"],
                    "summary": op["summary"],
                    "description": spans(op.get("description", "")),
                    "secured": bool(op.get("security")),
                    "parameters": [
                        {**p, "type": type_of(p["schema"]), "rules": rules_of(p["schema"])}
                        for p in op.get("parameters", [])
                    ],
                    "body": type_of(body["schema"]) if body else None,
                    "body_required": op.get("requestBody", {}).get("required", False),
                    "responses": responses,
                }
            )
    return found
