"""The API blueprint under ``/api/v1`` and its ``Api``, on which each route module declares
its operations."""

from __future__ import annotations

from flask import Blueprint

from app.api import auth, errors
from app.api.operations import Api

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)
api = Api(bp, title="Gatehouse management API", version="1", authenticate=auth.authenticate)
errors.register(bp)
