"""The audit log: administrators read every entry, members theirs and their clients'."""

from __future__ import annotations

from app.api.blueprint import api
from app.api.replies import AuditEventPage, audit_event_out, page_of
from app.api.schemas import AuditQuery
from app.services import audit
from app.services.actors import Actor


@api.operation("GET", "/audit-events", tag="audit", query=AuditQuery, result=AuditEventPage)
def list_audit_events(caller: Actor, query: AuditQuery) -> AuditEventPage:
    """Audit entries, newest first

    Administrators read every entry; members the changes they made (in person or through a
    `manage` client) and those made to their clients or their account. `actor` and `target`
    match text anywhere, ignoring case; `since` and `until` are inclusive UTC days.
    """
    page = audit.list_events(
        caller,
        by=query.actor,
        target=query.target,
        since=query.since,
        until=query.until,
        page=query.page,
        per_page=query.per_page,
        clamp=False,
    )
    return page_of(AuditEventPage, page, audit_event_out)
