"""``GATEHOUSE_SMTP_URL``: a malformed value stops start-up naming it; user and password work."""

from __future__ import annotations

import os

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from app import create_app
from app.cli import cli
from app.config import ConfigError
from app.mail.transport import SmtpTransport
from app.mail.worker import run_once
from tests.helpers import clean_environment
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import later, outbox

BAD_URLS = [
    "http://mail.example.com",
    "mail.example.com:25",
    "smtp://",
    "smtp://mail.example.com:notaport",
    "smtp://mail.example.com:99999",
    "smtps:/mail.example.com",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_malformed_smtp_url_stops_create_app(config, url):
    with pytest.raises(ConfigError, match="GATEHOUSE_SMTP_URL"):
        create_app({**config, "GATEHOUSE_SMTP_URL": url})


def test_a_malformed_smtp_url_stops_the_cli(config):
    """The real entry point (not the test app): start-up reads the environment and stops."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GATEHOUSE_")}
    env.update(clean_environment(**{**config, "GATEHOUSE_SMTP_URL": "smtp//mail.example.com"}))
    result = CliRunner().invoke(cli, ["worker", "--once"], env=env)
    assert result.exit_code != 0
    assert "GATEHOUSE_SMTP_URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_transport_reads_scheme_port_and_url_encoded_credentials():
    plain = SmtpTransport("smtp://mail.example.com")
    assert (plain.host, plain.port, plain.username) == ("mail.example.com", 25, None)
    assert SmtpTransport("smtp+starttls://mail.example.com").port == 587
    assert SmtpTransport("smtps://mail.example.com").port == 465
    auth = SmtpTransport("smtps://ops%40example.com:p%3Ass%2Fw%40rd@mail.example.com:2465")
    assert (auth.username, auth.password, auth.port) == ("ops@example.com", "p:ss/w@rd", 2465)
    assert "p:ss" not in auth.label and "rd@" not in auth.label


class Authenticator:
    """Accepts one login; remembers what it was given."""

    def __init__(self, login: str, password: str) -> None:
        self.expected = (login.encode(), password.encode())
        self.seen: list[tuple[bytes, bytes]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.seen.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == self.expected
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd replies 535


@pytest.fixture
def auth_smtp():
    authenticator = Authenticator("ops@example.com", "p:ss/w@rd")
    server = SmtpServer(authenticator=authenticator, auth_require_tls=False)
    server.start()
    yield server, authenticator
    server.stop()


@pytest.mark.parametrize(("password", "delivered"), [("p%3Ass%2Fw%40rd", True), ("wrong", False)])
def test_smtp_login_with_credentials_from_the_url(
    app, make_app, factory, auth_smtp, password, delivered
):
    server, authenticator = auth_smtp
    factory.user("rep@example.com")
    factory.client(owner="rep@example.com")
    url = f"smtp://ops%40example.com:{password}@127.0.0.1:{server.port}"
    authed = make_app(GATEHOUSE_SMTP_URL=url)
    with authed.app_context():
        counts = run_once(later(seconds=1))
    assert authenticator.seen[0][0] == b"ops@example.com"
    if delivered:
        assert counts["sent"] == 1 and len(server.received) == 1
    else:
        assert counts["retrying"] == 1 and server.received == []
        assert "535" in outbox(app)[0]["last_error"]
