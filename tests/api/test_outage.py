"""A database outage during an API call is a 503 in the API's error shape (as the
document says), and the API serves again by itself when the database is back."""

from __future__ import annotations

import time

from app.services import clients, days, users
from app.services.actors import Actor
from tests.api.conftest import Caller, assert_api_error, bearer_token
from tests.conftest import Credentials, postgres_admin
from tests.test_database_outage import outage_app  # noqa: F401 - the fixture


def test_an_outage_is_503_in_the_api_shape_and_heals(outage_app):  # noqa: F811
    app, name = outage_app
    http = app.test_client()
    with app.app_context():
        users.create_user(Actor.cli(), "owner@example.com", "Owner", role="admin")
        issued = clients.create_client(
            Actor.cli(),
            owner_email="owner@example.com",
            name="script",
            scopes=["manage"],
            expires_on=days.today(),
        )
        creds = Credentials(issued.client.client_id, issued.secret)
    caller = Caller(http, bearer_token(http, creds))
    assert caller.get("/clients").status_code == 200

    postgres_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'"
    postgres_admin(kill % name)  # the name is the fixture's own random hex
    time.sleep(0.3)  # let the change log's check fall due: it is what meets the outage
    response = caller.get("/clients")
    assert_api_error(response, 503, "temporarily_unavailable", fields=set())
    assert response.headers["Retry-After"] == "1"

    postgres_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert caller.get("/clients").status_code == 200
