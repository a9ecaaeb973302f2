"""Signing keys in ``GATEHOUSE_KEYS_DIR``: one ``<kid>.pem`` per key, newest signs.

Keys are parsed once and kept as objects. The folder is looked at again at
most once a second (one ``stat``), so a ``gatehouse keys rotate`` run by
another process is picked up by every worker without a restart. A retired key
stays published until every token it can have signed has expired: its
successor's creation time plus the token lifetime plus a minute of clock slack.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.errors import Unavailable
from app.security.key_pairs import KeyPair, generate_private_key, load_pem, to_pem

log = logging.getLogger(__name__)
KID_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
RESCAN_SECONDS = 1.0
CLOCK_SLACK = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyInfo:
    """A key with its place in the rotation, for ``keys list`` and the JWKS."""

    key: KeyPair
    created_at: datetime
    retired_at: datetime | None
    published_until: datetime | None

    @property
    def state(self) -> str:
        if self.retired_at is None:
            return "active"
        if self.published_until and self.published_until > datetime.now(UTC):
            return "retired"
        return "expired"


def new_kid(now: datetime) -> str:
    """A kid that sorts by creation time: ``YYYYMMDDTHHMMSSZ-xxxxxxxx``."""
    return f"{now.strftime(KID_TIME_FORMAT)}-{secrets.token_hex(4)}"


def _load(path: Path) -> KeyPair | None:
    """A key file parsed, or None (logged) when it is unreadable: one bad file must not
    take the keys that work down with it."""
    try:
        return load_pem(path.stem, path.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        log.error("ignoring signing key file %s: %s", path.name, exc)
        return None


def _created_at(path: Path) -> datetime:
    try:
        return datetime.strptime(path.stem.split("-", 1)[0], KID_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)


class KeyStore:
    """The signing keys of one app, cached in memory."""

    def __init__(self, directory: Path, token_ttl: int) -> None:
        self.directory = directory
        self.token_ttl = timedelta(seconds=token_ttl)
        self._infos: list[KeyInfo] = []
        self._by_kid: dict[str, KeyInfo] = {}
        self._stamp: tuple[float, int] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        #: bumped whenever the folder is re-read: results derived from the keys expire with it
        self.generation = 0

    # -- reading -----------------------------------------------------------
    def _folder_stamp(self) -> tuple[float, int]:
        stat = self.directory.stat()
        return stat.st_mtime, stat.st_ino

    def _reload(self) -> None:
        paths = sorted(self.directory.glob("*.pem"), key=lambda p: (_created_at(p), p.stem))
        pairs = [(pair, _created_at(p)) for p in paths if (pair := _load(p)) is not None]
        infos = []
        for index, (pair, created) in enumerate(pairs):
            retired = pairs[index + 1][1] if index + 1 < len(pairs) else None
            until = retired + self.token_ttl + CLOCK_SLACK if retired else None
            infos.append(KeyInfo(pair, created, retired, until))
        self._infos = infos
        self._by_kid = {info.key.kid: info for info in infos}
        self.generation += 1

    def refresh(self, force: bool = False) -> None:
        """Re-read the folder if it changed (checked at most once a second).

        ``_checked`` moves only once a check is complete: a thread arriving while
        another reloads waits for it rather than going on with no keys yet.
        """
        if not force and time.monotonic() - self._checked < RESCAN_SECONDS:
            return
        with self._lock:
            now = time.monotonic()
            if not force and now - self._checked < RESCAN_SECONDS:
                return  # another thread checked while this one waited
            try:
                stamp = self._folder_stamp()
            except OSError as exc:
                self._checked = now  # keys already loaded serve for the next second
                raise Unavailable(
                    f"signing keys folder {self.directory} is unreachable: {exc}"
                ) from None
            if force or stamp != self._stamp:
                self._reload()
                self._stamp = stamp
            self._checked = now

    def infos(self) -> list[KeyInfo]:
        """Every key in the folder, oldest first."""
        self.refresh()
        return list(self._infos)

    def signing_key(self) -> KeyPair:
        """The newest key: the one that signs."""
        self.refresh()
        if not self._infos:
            raise Unavailable(f"no signing key in {self.directory}; run 'gatehouse init'")
        return self._infos[-1].key

    def published(self) -> list[KeyPair]:
        """Keys whose tokens may still be alive: the signer and recently retired ones."""
        self.refresh()
        return [info.key for info in self._infos if info.state != "expired"]

    def find(self, kid: str) -> KeyPair | None:
        """A published key by kid, or None (also for a retired key past its publication)."""
        self.refresh()
        info = self._by_kid.get(kid)
        if info is None or (info.retired_at is not None and info.state == "expired"):
            return None
        return info.key

    # -- writing -----------------------------------------------------------
    def create(self, alg: str) -> KeyPair:
        """Write a new key (mode 0600); it becomes the signing key."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.refresh(force=True)
        now = datetime.now(UTC).replace(microsecond=0)
        if self._infos and now <= self._infos[-1].created_at:
            now = self._infos[-1].created_at + timedelta(seconds=1)
        kid = new_kid(now)
        private_key = generate_private_key(alg)
        path = self.directory / f"{kid}.pem"
        partial = path.with_suffix(".pem.partial")  # other workers only read *.pem
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_pem(private_key))
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(partial, path)  # atomic: a reader sees no key or the whole key
        self.refresh(force=True)
        return KeyPair(kid, alg, private_key)

    def ensure(self, alg: str) -> KeyPair | None:
        """Create a key if the folder has none; return it, or None if one existed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.refresh(force=True)
        return None if self._infos else self.create(alg)
