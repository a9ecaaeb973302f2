"""Console sign-in: the password check, behind the guards that keep it affordable.

A password check costs ~0.2 s of a core (argon2id), whoever the email names,
so every guard is checked before any hash runs:

1. failed sign-ins from the address, whatever the emails: 20 a minute;
2. failed sign-ins for the email from the address: 5 in 15 minutes lock the
   pair, even with the right password;
3. password checks running at once in the instance (``GATEHOUSE_SIGN_IN_SLOTS``):
   none free, and the sign-in is refused at once (503), never queued behind
   the hashes of others.

Only failures are counted; a success clears its email's count. Every refusal but
"busy" is written to the audit log (address, email as typed, why; never the password).
"""

from __future__ import annotations

from app.models import User
from app.security.networks import limit_key
from app.services import audit, users
from app.services.runtime import runtime
from app.services.slots import NoSlotFree

#: seconds a person is asked to wait when every password check slot is busy
BUSY_RETRY = 1


class SignInRefused(Exception):
    """The attempt was not checked: ``status`` 429 (too many failures) or 503 (busy);
    ``reason`` is ``address``, ``account`` or ``busy``."""

    def __init__(self, status: int, retry_after: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.retry_after, self.reason = status, retry_after, reason


def sign_in(email: str, password: str, address: str) -> User | None:
    """The active user with these credentials, None when they are wrong, or
    ``SignInRefused`` when a guard stops the attempt before the password is checked."""
    state = runtime()
    typed, email = email, users.normalise_email(email)
    pair = f"{email}|{limit_key(address)}"  # an IPv6 address counts as its /64
    for limiter, key, reason in (
        (state.login_address_failures, address, "address"),
        (state.login_failures, pair, "account"),
    ):
        if wait := limiter.retry_after(key):
            audit.sign_in_failed(typed, address, locked=True)
            raise SignInRefused(429, wait, reason)
    try:
        with state.password_slots.taken():
            user = users.authenticate(email, password)
    except NoSlotFree:
        raise SignInRefused(503, BUSY_RETRY, "busy") from None
    if user is None:
        audit.sign_in_failed(typed, address)
        state.login_address_failures.record_failure(address)
        state.login_failures.record_failure(pair)
    else:
        state.login_failures.forget(pair)
    return user
