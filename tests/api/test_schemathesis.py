"""The API driven from its own OpenAPI document by schemathesis: no server error, and no
response the document does not describe (status, content type, body, headers).

Every built-in check runs, in positive and negative modes, plus ``no_secret_leak``.
The document is the one the app serves (checked here); the app behind it is each
test's ``app`` fixture, reached through ``CURRENT``. The number of generated examples
per operation is ``API_FUZZ_EXAMPLES`` (default 25; CI time stays well under a minute).

Rules JSON Schema cannot state are met before a call, so a request the document
calls valid is one the server must accept (the ``positive_data_acceptance`` check):
an expiry between today and 366 days ahead, service keys of the catalogue, an owner
who exists, a public key that can be registered, networks that exist. A request that
breaks them is refused with a 422 naming the field (tests/api/test_bad_input.py and
tests/api/test_client_credentials.py). Half the well-formed client ids are swapped for a
real client's, so reading, editing, rotating and revoking one succeed too.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from app.api.document import document
from tests.api.conftest import Caller
from tests.assertions import jwk_set, session_key
from tests.helpers import ADMIN, MEMBER

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
SECRET = re.compile(r"gts_[0-9A-Za-z]{49}")
#: the operations whose success answer carries a new secret, once
SECRET_BEARERS = {"create_client", "rotate_secret"}
KEY = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,63}$")
EMAIL = re.compile(r"^[^@]+@[^@]+$")
NETWORK = re.compile(r"^[0-9A-Fa-f.:/]{1,49}$")
CLIENT_ID = re.compile(r"^[0-9A-Za-z]{24}$")
SERVICES = ["jobs", "candidates", "employees"]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    # one app and one token serve all of an operation's examples, on purpose
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class CurrentApp:
    """The WSGI app schemathesis calls: the current test's ``app``."""

    app: Flask | None = None
    token: str | None = None
    #: a client of the caller's, for the operations on one client
    client_id: str | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None, "no app: use the `fuzzed` fixture"
        return self.app(environ, start_response)


CURRENT = CurrentApp()
schema = schemathesis.openapi.from_dict(copy.deepcopy(document()))  # it edits what it gets
schema.app = CURRENT


@schema.auth(refresh_interval=None)  # each test has its own token
class ManageToken:
    """The bearer token through schemathesis' auth, so cases without it stay negative."""

    def get(self, case: Any, ctx: Any) -> str | None:
        return CURRENT.token

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.check
def no_secret_leak(ctx: Any, response: Any, case: Any) -> None:
    """A secret appears only in the answer that creates or rotates it."""
    text = response.text or ""
    headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    allowed = case.operation.definition.raw.get("operationId") in SECRET_BEARERS
    if SECRET.search(headers) or (
        SECRET.search(text) and not (allowed and response.status_code < 300)
    ):
        raise AssertionError("a client secret in a response that must not carry one")


def _meet_rules(case: Any) -> None:
    """Make a schema-valid body or query also meet the rules JSON Schema cannot state."""
    body = case.body if isinstance(case.body, dict) else {}
    expires = body.get("expires_on")
    if isinstance(expires, str) and len(expires) == 10:
        try:
            dt.date.fromisoformat(expires)
        except ValueError:
            pass
        else:
            body["expires_on"] = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    services = body.get("services")
    if isinstance(services, list):
        body["services"] = [
            SERVICES[i % len(SERVICES)] if isinstance(s, str) and KEY.match(s) else s
            for i, s in enumerate(services)
        ]
    if isinstance(body.get("jwks"), dict):
        body["jwks"] = jwk_set(session_key("ec"))
    networks = body.get("allowed_networks")
    if isinstance(networks, list):
        body["allowed_networks"] = [
            f"10.{i}.0.0/16" if isinstance(n, str) and NETWORK.match(n) else n
            for i, n in enumerate(networks)
        ]
    for place in (body, case.query if isinstance(case.query, dict) else {}):
        owner = place.get("owner")
        if isinstance(owner, str) and EMAIL.match(owner) and len(owner) <= 254:
            place["owner"] = MEMBER if "@" in owner and owner[0] < "m" else ADMIN
    path = case.path_parameters if isinstance(case.path_parameters, dict) else {}
    client_id = path.get("client_id")
    if isinstance(client_id, str) and CLIENT_ID.match(client_id) and ord(client_id[0]) % 2:
        path["client_id"] = CURRENT.client_id


@pytest.fixture
def fuzzed(app: Flask, admin: Caller, member: Caller) -> Caller:
    """The current app, an administrator's ``manage`` token and a member's client."""
    CURRENT.app, CURRENT.token = app, admin.token
    CURRENT.client_id = member.create(name="Fuzzed", services=["jobs"])["client_id"]
    yield admin
    CURRENT.app = CURRENT.token = CURRENT.client_id = None


def test_the_fuzzed_document_is_the_served_one(http):
    assert http.get("/api/v1/openapi.json").json == document()


@schema.parametrize()
@FUZZ
def test_every_operation_conforms_to_the_document(case, fuzzed):
    _meet_rules(case)
    case.call_and_validate()
