"""The management API room: JSON under ``/api/v1`` for scripts holding a ``manage`` token.

Each route module declares its operations on ``app.api.blueprint.api`` when imported;
every rule they apply is a call into ``app.services``. ``app.api.openapi`` builds the
OpenAPI 3.1 document from the same declarations.
"""

from __future__ import annotations

from flask import Flask

# the route modules register their operations when imported
from app.api import audit_routes, client_routes, document, service_routes, user_routes  # noqa: F401
from app.api.blueprint import bp


def init_api(app: Flask) -> None:
    """Register the API's routes (``/api/`` is a machine path: no session, no CSRF)."""
    app.register_blueprint(bp)
