"""A client refused for authenticating from outside its allowed networks.

Its credentials were right, so either the integration moved or they leaked: every
refusal goes to the audit log with the address, and the owner (and creator) hear of
it by email at most once an hour per client, whichever worker or instance refused.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update

from app.extensions import db
from app.models import Client
from app.models.types import utcnow
from app.services import audit, outbox
from app.services.actors import Actor
from app.services.transaction import transaction

#: at most one email per client in this period
ALERT_EVERY = timedelta(hours=1)


def record(client_id: str, address: str) -> None:
    """Audit the refusal from ``address``; mail the owner unless mailed within the hour.

    The conditional UPDATE decides the "once an hour" between workers: of two
    simultaneous refusals, the second waits for the first's row lock, then matches
    no row and queues no email.
    """
    actor = Actor(label=f"client:{client_id}", user=None, is_admin=False, address=address)
    now = utcnow()
    last_alert = Client.network_alert_at
    not_lately = or_(last_alert.is_(None), last_alert <= now - ALERT_EVERY)
    with transaction():
        audit.record(actor, "client.network_refused", client_id, address=address)
        due = db.session.execute(
            update(Client)
            .where(Client.client_id == client_id, not_lately)
            .values(network_alert_at=now)
            .execution_options(synchronize_session=False)
        )
        if due.rowcount == 1:
            client = db.session.scalars(select(Client).where(Client.client_id == client_id)).one()
            outbox.queue_client_event(client, "network_refused", actor, now, address=address)
