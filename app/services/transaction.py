"""The one way services commit: ``with transaction(): ...``.

Services own the commit (rooms never commit). The block's changes are
committed together when it ends, or rolled back whole when it raises; a
unique-constraint violation (``IntegrityError``: the same change made at the
same moment elsewhere) becomes the domain's ``Conflict``. Blocks nest: an
inner block joins the outer one, and only the outermost commits, so an
operation spanning two services (deactivate a user and revoke their clients)
is one transaction owned by the module that combines them.

Changes that cached state depends on are declared in the block
(``client_changed``, ``token_denied``): they are written to the change log with
the commit (``change_feed.write``), this worker drops its own cached copies at
once, and the instance's shared counter tells its other workers on their next
request (other instances learn of it from the log, see ``change_feed``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from app.database import wait_for_locks
from app.errors import Conflict
from app.extensions import db
from app.services import change_feed
from app.services.runtime import runtime

_DEPTH = "gatehouse.transaction_depth"
_CHANGED = "gatehouse.changed_clients"
_DENIED = "gatehouse.denied_jtis"
CONCURRENT = "the same change was made at the same moment; try again"


@contextmanager
def transaction(conflict: str = CONCURRENT, *, wait: bool = True) -> Iterator[None]:
    """Commit the block's changes together, or none of them; see the module docstring.

    ``wait=False`` (an outermost block only): a write that meets a lock held by another
    connection fails at once with ``OperationalError`` instead of waiting for it.
    """
    info = db.session.info
    depth = info.get(_DEPTH, 0)
    impatient = not wait and depth == 0
    info[_DEPTH] = depth + 1
    try:
        if impatient:
            wait_for_locks(db.session, False)
        yield
        if depth == 0:
            change_feed.write(info.get(_CHANGED, ()), info.get(_DENIED, ()))
            _patient_again(impatient)
            db.session.commit()
    except IntegrityError:
        if depth == 0:
            _rollback(impatient)
        raise Conflict(conflict) from None
    except BaseException:
        if depth == 0:
            _rollback(impatient)
        raise
    finally:
        info[_DEPTH] = depth
    if depth == 0:
        _publish()


def client_changed(client_id: str) -> None:
    """Note that the current transaction changes this client (every cached copy is dropped)."""
    db.session.info.setdefault(_CHANGED, set()).add(client_id)


def token_denied(jti: str) -> None:
    """Note that the current transaction puts this token on the denylist."""
    db.session.info.setdefault(_DENIED, set()).add(jti)


def _patient_again(impatient: bool) -> None:
    if impatient:
        wait_for_locks(db.session, True)


def _rollback(impatient: bool = False) -> None:
    try:
        _patient_again(impatient)
    finally:
        db.session.rollback()
        db.session.info.pop(_CHANGED, None)
        db.session.info.pop(_DENIED, None)


def _publish() -> None:
    """After a commit: this worker applies its own changes, then tells the instance's others."""
    changed, denied = db.session.info.pop(_CHANGED, ()), db.session.info.pop(_DENIED, ())
    if not changed and not denied:
        return
    state = runtime()
    for client_id in changed:
        state.clients.forget(client_id)
    for jti in denied:
        state.denylist.add(jti)
    state.changes.counter.bump()
