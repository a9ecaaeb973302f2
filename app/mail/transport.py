"""Transports: SMTP (``GATEHOUSE_SMTP_URL``) or ``.eml`` files in ``instance/outbox/``.

A transport is used for one worker pass (``with transport: …``). The SMTP one
connects on the first message and reuses the connection; if it cannot connect,
every further message of the pass fails at once with the same error instead of
waiting out the timeout again.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import unquote, urlsplit

from app.config import Settings

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 20.0


class DeliveryError(Exception):
    """A message was not delivered. ``permanent``: retrying the same message cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    #: how a message sent by it left, as the outbox records it: ``smtp`` or ``file``
    via: str

    @property
    def label(self) -> str: ...

    def __enter__(self) -> Transport: ...

    def __exit__(self, *exc: object) -> None: ...

    def send(self, message: EmailMessage, name: str) -> None:
        """Deliver ``message`` (``name`` is a stable file-safe label for it) or raise."""


class SmtpTransport:
    """``smtp://`` (plain), ``smtp+starttls://`` (STARTTLS) or ``smtps://`` (implicit TLS)."""

    via = "smtp"

    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port or DEFAULT_PORTS[self.scheme]
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else ""
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None
        self._broken: str | None = None

    @property
    def label(self) -> str:
        """Where mail goes, for the logs (never the password)."""
        return f"delivering over {self.scheme}://{self.host}:{self.port}"

    def __enter__(self) -> SmtpTransport:
        self._broken = None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._disconnect(polite=True)

    def send(self, message: EmailMessage, name: str) -> None:
        if self._broken:
            raise DeliveryError(self._broken)
        connection = self._connection or self._connect()
        try:
            connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            self._disconnect(polite=True)
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{rcpt}: {_reply(c, m)}" for rcpt, (c, m) in exc.recipients.items())
            raise DeliveryError(
                f"recipient refused: {detail}", permanent=min(codes) >= 500
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            # the sender address is a configuration matter, not this message's fault
            self._disconnect(polite=True)
            raise DeliveryError(
                f"sender refused: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            self._disconnect(polite=True)
            raise DeliveryError(
                f"server refused the message: {_reply(exc.smtp_code, exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._disconnect(polite=False)
            raise DeliveryError(f"sending to {self.host}:{self.port} failed: {exc}") from None

    def _connect(self) -> smtplib.SMTP:
        connection: smtplib.SMTP | None = None
        try:
            if self.scheme == "smtps":
                connection = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.scheme == "smtp+starttls":
                    connection.starttls(context=ssl.create_default_context())
            if self.username:
                connection.login(self.username, self.password)
        except (smtplib.SMTPException, OSError) as exc:
            if connection is not None:
                connection.close()
            self._broken = f"SMTP server {self.host}:{self.port} unavailable: {_describe(exc)}"
            raise DeliveryError(self._broken) from None
        self._connection = connection
        return connection

    def _disconnect(self, *, polite: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if polite:
                connection.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            connection.close()


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    return str(exc) or type(exc).__name__


class FileTransport:
    """Writes each message as ``<name>.eml`` in a folder, for developers without SMTP."""

    via = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def label(self) -> str:
        """Where mail goes, for the logs."""
        return f"writing .eml files to {self.folder}"

    def __enter__(self) -> FileTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, message: EmailMessage, name: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # write then rename: a reader never sees half a file, a rerun overwrites
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(message.as_bytes())
                os.replace(temp, self.folder / f"{name}.eml")
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise DeliveryError(f"cannot write to {self.folder}: {exc}") from None


def transport_for(settings: Settings) -> SmtpTransport | FileTransport:
    """SMTP when ``GATEHOUSE_SMTP_URL`` is set, else ``.eml`` files in ``instance/outbox/``."""
    if settings.smtp_url:
        return SmtpTransport(settings.smtp_url)
    return FileTransport(settings.instance_dir / "outbox")
