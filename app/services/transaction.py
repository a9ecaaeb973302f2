"""The one way services commit: ``with transaction(): ...``.

Services own the commit (rooms never commit). The block's changes are
committed together when it ends, or rolled back whole when it raises; a
unique-constraint violation (``IntegrityError``: the same change made at the
same moment elsewhere) becomes the domain's ``Conflict``. Blocks nest: an
inner block joins the outer one, and only the outermost commits, so an
operation spanning two services (deactivate a user and revoke their clients)
is one transaction owned by the module that combines them.

After the commit, this worker drops its cached snapshots of the clients the
block changed (``client_changed``), so its next request sees the change at
once; other workers see it within the cache's lifetime.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from app.database import wait_for_locks
from app.errors import Conflict
from app.extensions import db
from app.services.runtime import runtime

_DEPTH = "gatehouse.transaction_depth"
_CHANGED = "gatehouse.changed_clients"
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
        _forget_changed()


def client_changed(client_id: str) -> None:
    """Note that the current transaction changes this client (its snapshot is dropped after)."""
    db.session.info.setdefault(_CHANGED, set()).add(client_id)


def _patient_again(impatient: bool) -> None:
    if impatient:
        wait_for_locks(db.session, True)


def _rollback(impatient: bool = False) -> None:
    try:
        _patient_again(impatient)
    finally:
        db.session.rollback()
        db.session.info.pop(_CHANGED, None)


def _forget_changed() -> None:
    changed = db.session.info.pop(_CHANGED, ())
    cache = runtime().clients
    for client_id in changed:
        cache.forget(client_id)
