"""Settings from ``GATEHOUSE_*`` variables (and a ``.env`` file), validated once.

``read_environment`` is the only reader of the process environment and of
``.env``; ``load_settings`` validates a mapping of variables. A test passes its
own mapping, which is then the whole configuration: nothing of the developer's
environment leaks in. A bad value raises ``ConfigError`` naming the variable,
which stops start-up.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from argon2 import Parameters, profiles
from dotenv import dotenv_values

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
SIGNING_ALGS = ("RS256", "ES256", "EdDSA")
#: argon2-cffi's named parameter sets; ``cheapest`` exists for test suites only
ARGON2_PROFILES = {
    "rfc_9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc_9106_high_memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Validated configuration, read once in ``create_app``."""

    instance_dir: Path
    database_url: str
    issuer: str
    audience: str
    resources: tuple[str, ...]
    keys_dir: Path
    signing_alg: str
    token_ttl: int
    max_active_clients: int
    max_client_days: int
    secret_key: str | None
    smtp_url: str | None
    mail_from: str
    redis_url: str | None
    trusted_proxies: int
    allow_insecure_http: bool
    admin_email: str | None
    admin_password: str | None
    auth_failures_per_minute: int
    #: password checks (console sign-ins) running at once in the instance
    sign_in_slots: int
    #: argon2id cost of people's passwords (``GATEHOUSE_ARGON2_PROFILE``)
    argon2: Parameters
    #: the bearer token ``/metrics`` requires (``GATEHOUSE_METRICS_TOKEN``), None: open
    metrics_token: str | None = None
    #: how often a served instance records its counters for the dashboard's history (0: never)
    metrics_sample_seconds: int = 60

    @property
    def serves_https(self) -> bool:
        """True when the issuer is https (cookies ``Secure``, HSTS sent, plain http refused);
        else it is plain http (loopback, or explicitly allowed). ``_url`` lower-cases the
        scheme, so the prefix decides."""
        return self.issuer.startswith("https://")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def _url(name: str, value: str, *, allow_insecure: bool) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an absolute http(s) URL, got {value!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} must not have a query or fragment, got {value!r}")
    if parts.scheme == "http" and not allow_insecure and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"{name} uses http:// for a non-loopback host ({parts.hostname}); use https:// "
            "or set GATEHOUSE_ALLOW_INSECURE_HTTP=1"
        )
    # RFC 3986 §6.2.2.1: the scheme is case-insensitive; lower-cased, "HTTPS://" is https
    # to every check made by prefix (HSTS, Secure cookies, the transport rule)
    return (parts.scheme + value[len(parts.scheme) :]).rstrip("/")


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _database_url(env: Mapping[str, str], instance_dir: Path) -> str:
    url = env.get("GATEHOUSE_DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance_dir / 'gatehouse.db'}"
    if not url.startswith(("sqlite://", "postgresql")):
        raise ConfigError(
            "GATEHOUSE_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL"
        )
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _smtp_url(env: Mapping[str, str]) -> str | None:
    url = env.get("GATEHOUSE_SMTP_URL", "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtp+starttls", "smtps") or not parts.hostname:
        raise ConfigError(
            "GATEHOUSE_SMTP_URL must look like smtp://[user:pass@]host[:port], "
            "smtp+starttls://… or smtps://…"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError("GATEHOUSE_SMTP_URL has an invalid port") from None
    return url


def _resources(env: Mapping[str, str], audience: str) -> tuple[str, ...]:
    raw = env.get("GATEHOUSE_RESOURCES", "").strip()
    if not raw:
        return (audience,)
    items = tuple(item.strip().rstrip("/") for item in raw.split(",") if item.strip())
    for item in items:
        parts = urlsplit(item)
        if not parts.scheme or not (parts.netloc or parts.path) or parts.fragment:
            raise ConfigError(
                f"GATEHOUSE_RESOURCES entries must be absolute URIs without a fragment, "
                f"got {item!r}"
            )
    return items


def _half_the_cores() -> int:
    """Password checks at once by default: half the cores, so integrations keep the rest."""
    return max(1, (os.cpu_count() or 2) // 2)


def _argon2(env: Mapping[str, str]) -> Parameters:
    name = env.get("GATEHOUSE_ARGON2_PROFILE", "").strip().lower() or "rfc_9106_low_memory"
    if name not in ARGON2_PROFILES:
        raise ConfigError(f"GATEHOUSE_ARGON2_PROFILE must be one of {', '.join(ARGON2_PROFILES)}")
    return ARGON2_PROFILES[name]


def _metrics_token(env: Mapping[str, str]) -> str | None:
    token = env.get("GATEHOUSE_METRICS_TOKEN", "").strip()
    if not token:
        return None
    if len(token) < 16 or not token.isascii() or not token.isprintable() or " " in token:
        raise ConfigError(
            "GATEHOUSE_METRICS_TOKEN must be at least 16 printable ASCII characters without spaces"
        )
    return token


def read_environment() -> dict[str, str]:
    """The variables of a real start: ``.env`` in the working directory, then the environment."""
    env = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    env.update(os.environ)
    return env


def load_settings(variables: Mapping[str, object] | None = None) -> Settings:
    """Validate ``variables`` (default: ``read_environment()``); they are the whole config."""
    source = read_environment() if variables is None else variables
    env = {k: str(v) for k, v in source.items()}

    instance_dir = Path(env.get("GATEHOUSE_INSTANCE_DIR") or "instance").absolute()
    allow_insecure = _bool(env, "GATEHOUSE_ALLOW_INSECURE_HTTP")
    issuer = _url(
        "GATEHOUSE_ISSUER",
        env.get("GATEHOUSE_ISSUER") or "http://127.0.0.1:8000",
        allow_insecure=allow_insecure,
    )
    audience = env.get("GATEHOUSE_AUDIENCE", "").strip() or issuer
    if "://" not in audience:
        raise ConfigError(f"GATEHOUSE_AUDIENCE must be an absolute URI, got {audience!r}")
    alg = env.get("GATEHOUSE_SIGNING_ALG", "").strip() or "RS256"
    if alg not in SIGNING_ALGS:
        raise ConfigError(f"GATEHOUSE_SIGNING_ALG must be one of {', '.join(SIGNING_ALGS)}")
    redis_url = env.get("GATEHOUSE_REDIS_URL", "").strip() or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("GATEHOUSE_REDIS_URL must be a redis:// or rediss:// URL")

    return Settings(
        instance_dir=instance_dir,
        database_url=_database_url(env, instance_dir),
        issuer=issuer,
        audience=audience,
        resources=_resources(env, audience),
        keys_dir=Path(env.get("GATEHOUSE_KEYS_DIR") or "keys").absolute(),
        signing_alg=alg,
        token_ttl=_int(env, "GATEHOUSE_TOKEN_TTL", 600, 60, 86400),
        max_active_clients=_int(env, "GATEHOUSE_MAX_ACTIVE_CLIENTS", 25, 1, 10000),
        max_client_days=_int(env, "GATEHOUSE_MAX_CLIENT_DAYS", 366, 1, 3660),
        secret_key=env.get("GATEHOUSE_SECRET_KEY") or None,
        smtp_url=_smtp_url(env),
        mail_from=env.get("GATEHOUSE_MAIL_FROM") or "gatehouse@localhost",
        redis_url=redis_url,
        trusted_proxies=_int(env, "GATEHOUSE_TRUSTED_PROXIES", 0, 0, 10),
        allow_insecure_http=allow_insecure,
        admin_email=env.get("GATEHOUSE_ADMIN_EMAIL") or None,
        admin_password=env.get("GATEHOUSE_ADMIN_PASSWORD") or None,
        auth_failures_per_minute=_int(env, "GATEHOUSE_AUTH_FAILURES_PER_MINUTE", 60, 1, 100000),
        sign_in_slots=_int(env, "GATEHOUSE_SIGN_IN_SLOTS", _half_the_cores(), 1, 64),
        argon2=_argon2(env),
        metrics_token=_metrics_token(env),
        metrics_sample_seconds=_int(env, "GATEHOUSE_METRICS_SAMPLE_SECONDS", 60, 0, 3600),
    )
