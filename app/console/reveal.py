"""Carry a new client secret from the POST that made it to the one page that shows it.

The secret goes into the session cookie encrypted (Fernet, with a key derived
from the app's secret key) and is removed when the page renders it, so a reload
or the back button finds nothing to show (POST-redirect-GET). It is readable for
        "nonce": console_sessions.expect_reveal(session_token() or ""),
        "sealed": sealed,
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, session

from app.console.access import session_token
from app.services import console_sessions

KEY = "gatehouse.reveal"
TTL = 300


@dataclass(frozen=True)
class Reveal:
    client_id: str
    #: None for a key client (``private_key_jwt``): there is no secret to show
    secret: str | None
    rotated: bool
    previous_valid_until: str | None


def _fernet() -> Fernet:
    key = current_app.secret_key
    key_bytes = key.encode() if isinstance(key, str) else bytes(key)
    raw = hashlib.sha256(b"gatehouse-console-reveal\0" + key_bytes).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


def keep(
    client_id: str, secret: str | None, *, rotated: bool, previous_valid_until: datetime | None
) -> None:
    """Hold ``secret`` for the next render of ``client_id``'s secret page."""
    sealed = secret if secret is None else _fernet().encrypt(secret.encode()).decode()
    session[KEY] = {
        "client_id": client_id,
        "nonce": console_sessions.expect_reveal(session_token() or ""),
        "sealed": sealed,
        "rotated": rotated,
        "previous_valid_until": previous_valid_until.isoformat() if previous_valid_until else None,
    }


def take(client_id: str) -> Reveal | None:
    """The held secret for ``client_id``, removed from the session; None if gone or stale."""
    held = session.get(KEY)
    if not isinstance(held, dict) or held.get("client_id") != client_id:
        return None
    session.pop(KEY, None)
    if not console_sessions.consume_reveal(session_token(), held.get("nonce")):
        return None  # shown already, to this cookie or a copy of it
    try:
        sealed = held["sealed"]
        secret = None if sealed is None else _fernet().decrypt(sealed.encode(), ttl=TTL).decode()
    except (InvalidToken, KeyError, AttributeError):
        return None
    return Reveal(client_id, secret, bool(held.get("rotated")), held.get("previous_valid_until"))
