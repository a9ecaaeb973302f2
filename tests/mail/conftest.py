"""Fixtures of the mail tests: a real SMTP server (aiosmtpd) on a free loopback port.

The ``config`` fixture is extended with ``GATEHOUSE_SMTP_URL`` pointing at it, so
the ``app`` of every mail test delivers to that server.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from app import create_app
from app.extensions import db


@dataclass(frozen=True)
class Received:
    """One message as the SMTP server got it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def email(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    @property
    def text(self) -> str:
        return self.email.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.email.get_body(("html",)).get_content()


class Inbox:
    """aiosmtpd handler: keeps what it accepts; can be told to refuse (``rcpt_reply`` etc.)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        raw = envelope.original_content or b""
        with self._lock:
            self.received.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(raw))
            )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        """Messages whose envelope names ``address``."""
        return [r for r in self.received if address in r.rcpt_tos]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """A real SMTP server that a test can stop and start again on the same port."""

    def __init__(self, **smtp_options: Any) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.options = smtp_options
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        return self.inbox.received

    def start(self) -> None:
        assert self._controller is None
        self._controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, **self.options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config(config: dict[str, object], smtp: SmtpServer) -> dict[str, object]:
    """The test app delivers to the ``smtp`` server."""
    return {**config, "GATEHOUSE_SMTP_URL": smtp.url}


@pytest.fixture
def make_app(config: dict[str, object]) -> Iterator[Callable[..., Flask]]:
    """``make_app(GATEHOUSE_SMTP_URL=…)``: another app on the same database (a second worker,
    other settings); its connections are closed after the test."""
    made: list[Flask] = []

    def build(**overrides: object) -> Flask:
        made.append(create_app({**config, **overrides}))
        return made[-1]

    yield build
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
