"""Failed client authentications per source address: 429 beyond the limit.

The limiter counts in one-minute windows aligned to the clock; ``in_one_window``
reruns a check (with a new address) if a minute boundary fell inside it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest

from app import create_app
from app.extensions import db
from app.security.secrets import generate_secret
from tests.conftest import Credentials
from tests.oauth.helpers import CC, access_token, assert_oauth_error

LIMIT = 5
OTHER_ADDRESS = "10.9.9.9"


def _fresh_name() -> str:
    """A source "address" no test has used (the limiter counts any string)."""
    return f"test-{uuid.uuid4().hex}"


def in_one_window(check: Callable[[str], None], fresh: Callable[[], str] = _fresh_name) -> None:
    """Run ``check(address)`` with a fresh source address (``fresh()``), within one
    limiter window.

    Counts are per address and per clock minute: if a minute boundary fell inside a
    failed run, the count restarted half-way, so run once more with a new address.
    """
    for attempt in range(2):
        window = int(time.time() // 60)
        try:
            check(fresh())
            return
        except AssertionError:
            if attempt or int(time.time() // 60) == window:
                raise


def _wrong(creds: Credentials) -> dict[str, str]:
    """Basic credentials with a well-formed but wrong secret."""
    return Credentials(creds.client_id, generate_secret()).basic


def _fail(http, creds: Credentials, address: str | None = None):
    environ = {"REMOTE_ADDR": address} if address else {}
    return http.post("/token", data=CC, headers=_wrong(creds), environ_base=environ)


def _assert_429(response) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit(), response.headers
    # a sliding window: the rest of this minute, and at most a fifth of the next (5 a minute)
    assert 1 <= int(retry_after) <= 60 + 60 // LIMIT
    assert response.mimetype == "application/json"
    assert response.json["error"]
    assert response.json["error_description"]


@pytest.fixture
def limited(config):
    config["GATEHOUSE_AUTH_FAILURES_PER_MINUTE"] = LIMIT
    return config


def test_failures_beyond_the_limit_get_429(limited, request):
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    creds = factory.client()

    def check(address: str) -> None:
        for _ in range(LIMIT):
            assert_oauth_error(_fail(http, creds, address), 401, "invalid_client")
        _assert_429(_fail(http, creds, address))
        _assert_429(_fail(http, creds, address))
        # malformed headers and missing credentials are failures too, and are throttled
        environ = {"REMOTE_ADDR": address}
        bad = {"Authorization": "Basic ???"}
        _assert_429(http.post("/token", data=CC, headers=bad, environ_base=environ))
        _assert_429(http.post("/token", data=CC, environ_base=environ))

    in_one_window(check)


def test_correct_credentials_still_work_while_the_address_is_limited(limited, request):
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    attacked, legit = factory.client(), factory.client()
    spy = factory.introspector()

    def check(address: str) -> None:
        environ = {"REMOTE_ADDR": address}
        for _ in range(LIMIT + 2):
            _fail(http, attacked, address)
        _assert_429(_fail(http, attacked, address))
        # same address, right credentials: never throttled by another client's failures
        for creds in (legit, attacked):
            response = http.post("/token", data=CC, headers=creds.basic, environ_base=environ)
            assert response.status_code == 200, response.get_data(as_text=True)
        token = access_token(http, legit)
        response = http.post(
            "/introspect", data={"token": token}, headers=spy.basic, environ_base=environ
        )
        assert response.status_code == 200 and response.json["active"] is True
        _assert_429(_fail(http, attacked, address))  # successes did not reset the count

    in_one_window(check)


def test_another_address_is_unaffected(limited, request):
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    creds = factory.client()

    def check(address: str) -> None:
        for _ in range(LIMIT + 1):
            _fail(http, creds, address)
        _assert_429(_fail(http, creds, address))
        assert_oauth_error(_fail(http, creds, OTHER_ADDRESS), 401, "invalid_client")
        environ = {"REMOTE_ADDR": OTHER_ADDRESS}
        ok = http.post("/token", data=CC, headers=creds.basic, environ_base=environ)
        assert ok.status_code == 200

    in_one_window(check)


def _fresh_ipv6_64() -> str:
    """The first four groups of an IPv6 /64 no test has used (documentation range)."""
    groups = uuid.uuid4().hex[:8]
    return f"2001:db8:{groups[:4]}:{groups[4:]}"


def _fresh_ipv4() -> str:
    """An address in the benchmarking range (RFC 2544) no test has likely used."""
    number = uuid.uuid4().int
    return f"198.{18 + number % 2}.{number >> 8 & 255}.{number >> 16 & 255}"


def test_every_address_of_one_ipv6_64_shares_one_count(limited, logged, request):
    """A caller holding a /64 could step to a new address whenever refused: counted as one,
    while the log names each exact address."""
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    creds = factory.client()

    def check(network: str) -> None:
        tried = [f"{network}::{host}" for host in range(1, LIMIT + 1)]
        for address in tried:
            assert_oauth_error(_fail(http, creds, address), 401, "invalid_client")
        _assert_429(_fail(http, creds, f"{network}:ffff:ffff:ffff:fffe"))
        failed = {e["address"] for e in logged() if e.get("event") == "client_auth_failed"}
        assert set(tried) <= failed
        # the next /64 is another caller's
        neighbour = f"{network[:-4]}{(int(network[-4:], 16) + 1) % 0x10000:04x}::1"
        assert_oauth_error(_fail(http, creds, neighbour), 401, "invalid_client")

    in_one_window(check, fresh=_fresh_ipv6_64)


def test_an_ipv4_address_written_as_ipv6_is_counted_as_itself(limited, request):
    """Dual-stack sockets report IPv4 callers as ``::ffff:a.b.c.d``: one caller, one count."""
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    creds = factory.client()

    def check(address: str) -> None:
        for _ in range(LIMIT):
            assert_oauth_error(_fail(http, creds, f"::ffff:{address}"), 401, "invalid_client")
        _assert_429(_fail(http, creds, address))

    in_one_window(check, fresh=_fresh_ipv4)


def test_ports_a_proxy_adds_do_not_split_the_count(limited, request):
    """Behind a proxy that writes ``address:port`` into X-Forwarded-For, each connection
    has its own port: the count is still the address's."""
    limited["GATEHOUSE_TRUSTED_PROXIES"] = "1"
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    creds = factory.client()

    def forwarded(address: str, port: int):
        headers = _wrong(creds) | {"X-Forwarded-For": f"{address}:{port}"}
        return http.post("/token", data=CC, headers=headers)

    def check(address: str) -> None:
        for port in range(50_000, 50_000 + LIMIT):
            assert_oauth_error(forwarded(address, port), 401, "invalid_client")
        _assert_429(forwarded(address, 61_000))

    in_one_window(check, fresh=_fresh_ipv4)


def test_the_test_clients_default_address_is_counted(limited, request):
    """Without environ_base the test client is 127.0.0.1: the limit applies there too."""
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    creds = factory.client()
    statuses = [_fail(http, creds).status_code for _ in range(2 * LIMIT + 2)]
    assert 429 in statuses, statuses  # at most one window boundary can fall inside


def test_failures_on_introspect_and_revoke_count_too(limited, request):
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    creds = factory.client()

    def check(address: str) -> None:
        environ = {"REMOTE_ADDR": address}
        for index in range(LIMIT):
            path = ("/introspect", "/revoke")[index % 2]
            response = http.post(
                path, data={"token": "x"}, headers=_wrong(creds), environ_base=environ
            )
            assert_oauth_error(response, 401, "invalid_client")
        _assert_429(
            http.post(
                "/introspect", data={"token": "x"}, headers=_wrong(creds), environ_base=environ
            )
        )

    in_one_window(check)


def test_default_limit_is_60_a_minute(http, factory):
    """Beyond 60 failures a minute from one address; the 60th is still a 401."""
    creds = factory.client()

    def check(address: str) -> None:
        for attempt in range(60):
            response = _fail(http, creds, address)
            assert response.status_code == 401, (attempt, response.status_code)
        _assert_429(_fail(http, creds, address))

    in_one_window(check)


# -- shared through Redis --------------------------------------------------------------------
def test_two_instances_share_the_count_through_redis(limited, redis_url, address_prefix, request):
    limited["GATEHOUSE_REDIS_URL"] = redis_url
    app_a = request.getfixturevalue("app")
    app_b = request.getfixturevalue("second_app")
    assert app_a is not app_b
    factory = request.getfixturevalue("factory")
    creds, other = factory.client(), factory.client()
    http_a, http_b = app_a.test_client(), app_b.test_client()

    def check(address: str) -> None:
        for _ in range(LIMIT):
            assert_oauth_error(_fail(http_a, creds, address), 401, "invalid_client")
        _assert_429(_fail(http_a, creds, address))
        # app B never saw those failures itself, yet answers 429 for that address
        _assert_429(_fail(http_b, other, address))
        # right credentials on B from that address still work; another address is untouched
        environ = {"REMOTE_ADDR": address}
        ok = http_b.post("/token", data=CC, headers=other.basic, environ_base=environ)
        assert ok.status_code == 200, ok.get_data(as_text=True)
        assert_oauth_error(_fail(http_b, other, f"{address}-2"), 401, "invalid_client")

    in_one_window(check, fresh=lambda: f"{address_prefix}-{uuid.uuid4().hex}")


def test_without_redis_the_instance_folder_shares_the_count(limited, tmp_path, request):
    """Without Redis: two apps on one instance folder (two workers of one ``gatehouse serve``)
    share the count; an instance with a folder of its own keeps its own."""
    http_a = request.getfixturevalue("app").test_client()
    same_instance = create_app(limited)
    http_b = same_instance.test_client()
    creds = request.getfixturevalue("factory").client()
    elsewhere = create_app({**limited, "GATEHOUSE_INSTANCE_DIR": tmp_path / "another-instance"})

    def check(address: str) -> None:
        for attempt in range(LIMIT):
            _fail((http_a, http_b)[attempt % 2], creds, address)
        _assert_429(_fail(http_a, creds, address))
        _assert_429(_fail(http_b, creds, address))
        assert_oauth_error(_fail(elsewhere.test_client(), creds, address), 401, "invalid_client")

    try:
        in_one_window(check)
    finally:
        for other in (same_instance, elsewhere):
            with other.app_context():
                db.engine.dispose()
