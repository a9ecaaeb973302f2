"""``gatehouse worker`` and ``gatehouse mail …``: deliver, list and retry notifications."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli.output import domain_errors, emit, json_option
from app.logs import configure_process_logging
from app.mail import worker as mail_worker
from app.services import outbox_delivery
from app.services.actors import Actor


@click.command()
@click.option("--once", is_flag=True, help="Run one pass (reminders, then due mail) and exit.")
@click.option(
    "--interval",
    default=mail_worker.DEFAULT_INTERVAL,
    show_default=True,
    type=click.FloatRange(0.05, 3600),
    help="Seconds between passes.",
)
@json_option
@with_appcontext
@domain_errors
def worker(once: bool, interval: float, as_json: bool) -> None:
    """Deliver queued email and expiry reminders until stopped (SIGTERM or Ctrl-C)."""
    if not once:
        configure_process_logging()
        mail_worker.run_forever(interval)
        return
    counts = mail_worker.run_once()
    emit(
        counts,
        as_json,
        lambda c: (
            f"reminders queued: {c['reminders']}  sent: {c['sent']}  "
            f"retrying: {c['retrying']}  failed: {c['failed']}"
        ),
    )


@click.group()
def mail() -> None:
    """The mail outbox: notifications about tokens."""


@mail.command("list")
@click.option("--status", type=click.Choice(["queued", "sent", "failed"]), default=None)
@click.option("--client", "client_id", default=None, help="Only messages about this client.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000))
@json_option
@with_appcontext
@domain_errors
def list_mail(status: str | None, client_id: str | None, limit: int, as_json: bool) -> None:
    """List messages, newest first."""
    found = outbox_delivery.list_messages(status=status, client_id=client_id, limit=limit)
    emit([outbox_delivery.describe(message) for message in found], as_json, _list_text)


LIST_HEADER = "ID\tSTATUS\tATTEMPTS\tRECIPIENT\tSUBJECT"


def _list_text(records: list[dict]) -> str:
    """A header row, one line per message; the last error under a message not sent, or
    sent after more than one attempt (a retry, or a repeat after an interrupted send)."""
    if not records:
        return "no messages"
    lines = [LIST_HEADER]
    for r in records:
        status = r["status"] + (" (.eml file)" if r["delivered_via"] == "file" else "")
        lines.append(f"{r['id']}\t{status}\t{r['attempts']}\t{r['recipient']}\t{r['subject']}")
        if r["last_error"] and (r["status"] != "sent" or r["attempts"] > 1):
            lines.append(f"\tlast error: {r['last_error']}")
    return "\n".join(lines)


@mail.command("retry")
@click.argument("message_id", type=int)
@json_option
@with_appcontext
@domain_errors
def retry(message_id: int, as_json: bool) -> None:
    """Queue a failed message again, for the worker's next pass."""
    message = outbox_delivery.retry_message(Actor.cli(), message_id)
    emit(
        outbox_delivery.describe(message),
        as_json,
        lambda r: f"message {r['id']} queued for the next worker pass ({r['recipient']})",
    )
