"""What many test packages share: the people of the ``people`` fixture, request headers,
an environment for subprocesses that holds none of the developer's settings, a
forked child's answer, and work started at the same moment."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable

PASSWORD = "correct horse battery staple"
ADMIN = "admin@example.com"
MEMBER = "rep@example.com"
OTHER = "other@example.com"


def basic_header(raw: bytes | str) -> dict[str, str]:
    """``Authorization: Basic base64(raw)`` for any raw bytes, well-formed or not."""
    data = raw.encode() if isinstance(raw, str) else raw
    return {"Authorization": "Basic " + base64.b64encode(data).decode("ascii")}


def basic_auth(client_id: str, secret: str) -> dict[str, str]:
    """HTTP Basic client credentials (our ids and secrets need no form-encoding)."""
    return basic_header(f"{client_id}:{secret}")


def clean_environment(**settings: object) -> dict[str, str]:
    """``os.environ`` without any ``GATEHOUSE_*``/``FLASK_*`` variable, plus ``settings``:
    what a test gives a ``gatehouse`` subprocess, so the developer's own settings
    (an SMTP server, a Redis, a database) never reach it. Passwords hash cheaply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEHOUSE_", "FLASK_"))}
    env["GATEHOUSE_ARGON2_PROFILE"] = "cheapest"
    env.update({k: str(v) for k, v in settings.items()})
    return env


def in_forked_child(work: Callable[[], str]) -> tuple[int, str]:
    """Run ``work`` in a child forked from this process, as a server forks a worker;
    the child's pid and what ``work`` returned. Whatever ``work`` changes in the
    process (its heap, its threads) stays in the child."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.write(write, work().encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        said = answer.read()
    os.waitpid(child, 0)
    return child, said


def at_once(*work: Callable[[], object]) -> list[object]:
    """Run each callable in its own thread, released together; what each returned or
    raised, in order."""
    start = threading.Barrier(len(work))
    outcomes: list[object] = [None] * len(work)

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = work[index]()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
