"""Settings: the documented defaults, and every bad value stops start-up naming the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import create_app
from app.config import ConfigError, load_settings


@pytest.fixture
def bare(monkeypatch, tmp_path) -> Path:
    """No GATEHOUSE_* in the environment and a working directory without a .env file."""
    for name in list(os.environ):
        if name.startswith("GATEHOUSE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults(bare):
    settings = load_settings({})
    instance = bare / "instance"
    assert settings.instance_dir == instance
    assert settings.database_url == f"sqlite:///{instance / 'gatehouse.db'}"
    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.audience == "http://127.0.0.1:8000"
    assert settings.resources == ("http://127.0.0.1:8000",)
    assert settings.keys_dir == bare / "keys"
    assert settings.signing_alg == "RS256"
    assert settings.token_ttl == 600
    assert settings.max_active_clients == 25
    assert settings.max_client_days == 366
    assert settings.secret_key is None
    assert settings.smtp_url is None
    assert settings.mail_from == "gatehouse@localhost"
    assert settings.redis_url is None
    assert settings.trusted_proxies == 0
    assert settings.allow_insecure_http is False
    assert settings.sign_in_slots == max(1, (os.cpu_count() or 2) // 2)


def test_dotenv_in_the_working_directory_is_read(bare):
    (bare / ".env").write_text("GATEHOUSE_TOKEN_TTL=120\nGATEHOUSE_MAX_ACTIVE_CLIENTS=3\n")
    settings = load_settings()
    assert (settings.token_ttl, settings.max_active_clients) == (120, 3)


def test_environment_beats_dotenv(bare, monkeypatch):
    (bare / ".env").write_text("GATEHOUSE_TOKEN_TTL=120\n")
    monkeypatch.setenv("GATEHOUSE_TOKEN_TTL", "300")
    assert load_settings().token_ttl == 300


def test_a_test_configuration_is_the_whole_configuration(bare, monkeypatch):
    """Neither the environment nor ``.env`` reaches an app built from a test configuration."""
    (bare / ".env").write_text("GATEHOUSE_TOKEN_TTL=120\n")
    monkeypatch.setenv("GATEHOUSE_SMTP_URL", "smtp://mail.example.com")
    monkeypatch.setenv("GATEHOUSE_REDIS_URL", "redis://cache.example.com")
    monkeypatch.setenv("GATEHOUSE_DATABASE_URL", "postgresql://db.example.com/prod")
    settings = load_settings({"GATEHOUSE_MAX_ACTIVE_CLIENTS": "3"})
    assert settings.max_active_clients == 3
    assert settings.token_ttl == 600
    assert (settings.smtp_url, settings.redis_url) == (None, None)
    assert settings.database_url.startswith("sqlite:///")


def test_audience_and_resources_follow_the_issuer(bare):
    settings = load_settings({"GATEHOUSE_ISSUER": "https://auth.example.com/"})
    assert settings.issuer == "https://auth.example.com"
    assert settings.audience == "https://auth.example.com"
    assert settings.resources == ("https://auth.example.com",)
    custom = load_settings(
        {
            "GATEHOUSE_ISSUER": "https://auth.example.com",
            "GATEHOUSE_AUDIENCE": "https://api.example.com",
        }
    )
    assert custom.resources == ("https://api.example.com",)


def test_good_values(bare):
    settings = load_settings(
        {
            "GATEHOUSE_TOKEN_TTL": "60",
            "GATEHOUSE_MAX_ACTIVE_CLIENTS": "1",
            "GATEHOUSE_SIGNING_ALG": "EdDSA",
            "GATEHOUSE_SMTP_URL": "smtp+starttls://user:pass@mail.example.com:587",
            "GATEHOUSE_DATABASE_URL": "postgresql://gh@db.example.com/gatehouse",
            "GATEHOUSE_RESOURCES": "https://api.example.com, urn:example:reports",
            "GATEHOUSE_SIGN_IN_SLOTS": "3",
        }
    )
    assert settings.sign_in_slots == 3
    assert settings.token_ttl == 60
    assert settings.max_active_clients == 1
    assert settings.signing_alg == "EdDSA"
    assert settings.database_url == "postgresql+psycopg://gh@db.example.com/gatehouse"
    assert settings.resources == ("https://api.example.com", "urn:example:reports")
    assert load_settings({"GATEHOUSE_TOKEN_TTL": "86400"}).token_ttl == 86400
    assert load_settings({"GATEHOUSE_SIGNING_ALG": "ES256"}).signing_alg == "ES256"
    assert load_settings({"GATEHOUSE_SMTP_URL": "smtps://mail.example.com"}).smtp_url


@pytest.mark.parametrize(
    "issuer",
    ["http://localhost:8000", "http://[::1]:8000", "http://127.0.0.1", "https://auth.example.com"],
)
def test_loopback_or_https_issuer_is_fine(bare, issuer):
    assert load_settings({"GATEHOUSE_ISSUER": issuer}).issuer == issuer


@pytest.mark.parametrize(
    ("written", "issuer", "https"),
    [
        ("HTTPS://auth.example.com/", "https://auth.example.com", True),
        ("  Https://auth.example.com  ", "https://auth.example.com", True),
        ("HTTP://127.0.0.1:8000", "http://127.0.0.1:8000", False),
    ],
)
def test_the_issuer_scheme_is_lower_cased_and_decides_https(bare, written, issuer, https):
    """RFC 3986 §6.2.2.1: the scheme is case-insensitive; ``HTTPS://`` must not turn off
    HSTS and Secure cookies, nor refuse plain http for ``HTTP://`` on loopback."""
    settings = load_settings({"GATEHOUSE_ISSUER": written})
    assert (settings.issuer, settings.serves_https) == (issuer, https)


def test_an_upper_case_http_scheme_still_needs_the_switch_for_another_host(bare):
    with pytest.raises(ConfigError, match="GATEHOUSE_ISSUER"):
        load_settings({"GATEHOUSE_ISSUER": "HTTP://auth.example.com"})


def test_plain_http_issuer_for_another_host_needs_the_explicit_switch(bare):
    with pytest.raises(ConfigError, match="GATEHOUSE_ISSUER"):
        load_settings({"GATEHOUSE_ISSUER": "http://auth.example.com"})
    settings = load_settings(
        {"GATEHOUSE_ISSUER": "http://auth.example.com", "GATEHOUSE_ALLOW_INSECURE_HTTP": "1"}
    )
    assert settings.issuer == "http://auth.example.com"


BAD = [
    ("GATEHOUSE_TOKEN_TTL", "ten minutes"),
    ("GATEHOUSE_TOKEN_TTL", "59"),
    ("GATEHOUSE_TOKEN_TTL", "86401"),
    ("GATEHOUSE_TOKEN_TTL", "600.5"),
    ("GATEHOUSE_TOKEN_TTL", "-600"),
    ("GATEHOUSE_MAX_ACTIVE_CLIENTS", "many"),
    ("GATEHOUSE_MAX_ACTIVE_CLIENTS", "0"),
    ("GATEHOUSE_MAX_ACTIVE_CLIENTS", "-1"),
    ("GATEHOUSE_MAX_CLIENT_DAYS", "0"),
    ("GATEHOUSE_MAX_CLIENT_DAYS", "a year"),
    ("GATEHOUSE_SIGNING_ALG", "HS256"),
    ("GATEHOUSE_SIGNING_ALG", "none"),
    ("GATEHOUSE_SIGNING_ALG", "rs256"),
    ("GATEHOUSE_ISSUER", "http://auth.example.com"),
    ("GATEHOUSE_ISSUER", "auth.example.com"),
    ("GATEHOUSE_ISSUER", "ftp://auth.example.com"),
    ("GATEHOUSE_ISSUER", "https://auth.example.com/?tenant=1"),
    ("GATEHOUSE_SMTP_URL", "mail.example.com:25"),
    ("GATEHOUSE_SMTP_URL", "http://mail.example.com"),
    ("GATEHOUSE_SMTP_URL", "smtp://"),
    ("GATEHOUSE_SMTP_URL", "smtp://mail.example.com:notaport"),
    ("GATEHOUSE_DATABASE_URL", "mysql://gh@db.example.com/gatehouse"),
    ("GATEHOUSE_DATABASE_URL", "gatehouse.db"),
    ("GATEHOUSE_RESOURCES", "not a uri"),
    ("GATEHOUSE_RESOURCES", "https://api.example.com, reports"),
    ("GATEHOUSE_RESOURCES", "https://api.example.com#frag"),
    ("GATEHOUSE_AUDIENCE", "my-api"),
    ("GATEHOUSE_ALLOW_INSECURE_HTTP", "maybe"),
    ("GATEHOUSE_TRUSTED_PROXIES", "-1"),
    ("GATEHOUSE_REDIS_URL", "localhost:6379"),
    ("GATEHOUSE_SIGN_IN_SLOTS", "0"),
    ("GATEHOUSE_SIGN_IN_SLOTS", "two"),
]


@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_a_bad_value_stops_create_app_naming_the_variable(bare, name, value):
    with pytest.raises(ConfigError, match=name):
        create_app(
            {
                name: value,
                "GATEHOUSE_INSTANCE_DIR": bare / "instance",
                "GATEHOUSE_KEYS_DIR": bare / "keys",
            }
        )
    assert not (bare / "instance").exists()


@pytest.mark.parametrize(("name", "value"), BAD[:3], ids=[f"{n}={v}" for n, v in BAD[:3]])
def test_a_bad_value_in_the_environment_is_caught_too(bare, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings()
