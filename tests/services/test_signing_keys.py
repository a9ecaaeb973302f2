"""The signing keys of a worker: threads arriving together all find the keys."""

from __future__ import annotations

import threading
import time

from app.errors import Unavailable
from app.security import key_pairs
from app.services import signing_keys
from app.services.signing_keys import KeyStore


def test_threads_arriving_while_the_keys_load_wait_for_them(session_key_dir, monkeypatch):
    """A fresh worker's first concurrent requests: while one thread reads the folder, the
    others must wait for it, not go on with no key (a 503 "no signing key")."""
    real_load = signing_keys.load_pem

    def slow_load(kid: str, pem: bytes) -> key_pairs.KeyPair:
        time.sleep(0.2)  # a folder read that takes a while
        return real_load(kid, pem)

    monkeypatch.setattr(signing_keys, "load_pem", slow_load)
    store = KeyStore(session_key_dir, 600)
    start = threading.Barrier(8)
    outcomes: list[object] = []

    def sign() -> None:
        start.wait()
        try:
            outcomes.append(store.signing_key().kid)
        except Unavailable as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=sign) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(kid, str) for kid in outcomes), outcomes
