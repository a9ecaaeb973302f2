"""Allowed networks and leaked-credential reports against a live ``gatehouse serve``: a client
bound to a network is refused from another loopback address (a real socket bound to
127.0.0.2) and through a trusted proxy hop; a reported secret is dead within a second and
its owner gets the email, delivered by ``gatehouse worker`` over real SMTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, OutboxMessage
from app.security.secrets import generate_secret
from tests.conftest import Credentials, Factory
from tests.live.calls import TIMEOUT, access_token, introspect, token_response
from tests.live.server import LiveServer, free_port, run_cli, running_server, server_env
from tests.mail.conftest import SmtpServer

CC = {"grant_type": "client_credentials"}


class SourceAddress(HTTPAdapter):
    """Connections from a chosen local address (any 127.x.y.z is this machine on Linux)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", SourceAddress(address))
    return session


def token_from(url: str, address: str, creds: Credentials, **headers: str) -> requests.Response:
    with session_from(address) as session:
        return session.post(
            f"{url}/token",
            data=CC,
            auth=(creds.client_id, creds.secret),
            headers=headers,
            timeout=TIMEOUT,
        )


def refusal_addresses(app, client_id: str) -> list[str | None]:
    with app.app_context():
        query = select(AuditEvent.address).where(
            AuditEvent.target == client_id, AuditEvent.action == "client.network_refused"
        )
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def mails(app, client_id: str, kind: str) -> list[OutboxMessage]:
    with app.app_context():
        query = select(OutboxMessage).where(
            OutboxMessage.client_id == client_id, OutboxMessage.kind == kind
        )
        return list(db.session.scalars(query))


def test_a_bound_client_is_refused_from_another_loopback_address(
    app, live_server: LiveServer, factory: Factory
):
    creds = factory.client(allowed_networks=["127.0.0.1/32"])
    url = live_server.url
    assert token_from(url, "127.0.0.1", creds).status_code == 200
    refused = token_from(url, "127.0.0.2", creds)
    wrong = token_from(url, "127.0.0.2", Credentials(creds.client_id, generate_secret()))
    assert refused.status_code == wrong.status_code == 401
    assert refused.json() == wrong.json()
    assert token_from(url, "127.0.0.3", creds).status_code == 401
    assert refusal_addresses(app, creds.client_id) == ["127.0.0.2", "127.0.0.3"]
    (alert,) = mails(app, creds.client_id, "network_refused")  # once an hour, not twice
    assert "127.0.0.2" in alert.text_body


@pytest.fixture
def proxied_server(
    database_url: str, session_key_dir: Path, tmp_path: Path, server_logs
) -> Iterator[LiveServer]:
    """``gatehouse serve`` behind one trusted proxy hop (``GATEHOUSE_TRUSTED_PROXIES=1``)."""
    port = free_port()
    env = server_env(
        database_url,
        session_key_dir,
        tmp_path / "instance",
        f"http://127.0.0.1:{port}",
        GATEHOUSE_TRUSTED_PROXIES="1",
    )
    with running_server(env, port, tmp_path / "proxied.log", workers=1) as server:
        server_logs.append(server)
        yield server


def test_the_address_a_trusted_proxy_forwards_is_the_one_checked(
    app, live_server: LiveServer, proxied_server: LiveServer, factory: Factory
):
    """The test plays the proxy: it connects from 127.0.0.1 and forwards the client's address."""
    creds = factory.client(allowed_networks=["192.0.2.0/24"])
    behind = proxied_server.url
    assert token_from(behind, "127.0.0.1", creds, **{"X-Forwarded-For": "192.0.2.10"}).ok
    outside = token_from(behind, "127.0.0.1", creds, **{"X-Forwarded-For": "198.51.100.7"})
    assert outside.status_code == 401
    # without a trusted proxy, the header is the client's own word: ignored
    direct = token_from(live_server.url, "127.0.0.1", creds, **{"X-Forwarded-For": "192.0.2.10"})
    assert direct.status_code == 401
    assert refusal_addresses(app, creds.client_id) == ["198.51.100.7", "127.0.0.1"]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def test_a_reported_secret_is_dead_within_a_second_and_its_owner_told(
    app, live_server: LiveServer, factory: Factory, smtp: SmtpServer, tmp_path: Path
):
    url = live_server.url
    owner = factory.user("leaky@example.com", role="member", services=["jobs"])
    creds = factory.client(owner=owner, name="CI deploy")
    spy = factory.introspector()
    token = access_token(url, creds)
    for _ in range(4):  # both workers know the client
        assert token_response(url, creds).status_code == 200
    answer = requests.post(
        f"{url}/credentials/revoke",
        json={"credentials": ["a line of a log", creds.secret]},
        timeout=TIMEOUT,
    )
    reported = time.monotonic()
    assert (answer.status_code, answer.json()) == (202, {"received": 2})
    while token_response(url, creds).status_code == 200:
        assert time.monotonic() - reported < 1.0, "the reported secret works after a second"
        time.sleep(0.05)
    time.sleep(max(0.0, 1.0 - (time.monotonic() - reported)))
    assert introspect(url, spy, token) == {"active": False}

    env = live_server.env | {"GATEHOUSE_SMTP_URL": smtp.url}
    delivered = run_cli(env, "worker", "--once", cwd=tmp_path)
    assert delivered.returncode == 0, delivered.stderr
    (mail,) = [m for m in smtp.inbox.to(owner) if "revoked" in m.email["Subject"]]
    # (a long subject is folded; the parser keeps the folding white space)
    assert mail.email["Subject"].strip() == (
        "Gatehouse: token 'CI deploy' revoked: its secret was reported as exposed"
    )
    assert "reported as exposed" in mail.text and "public repository" in mail.text
    assert creds.secret not in mail.raw.decode(errors="replace")
    with app.app_context():
        (entry,) = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.target == creds.client_id, AuditEvent.action == "client.revoke"
            )
        )
        assert (entry.actor, entry.address) == ("leak-report", "127.0.0.1")
