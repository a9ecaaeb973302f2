"""Gatehouse: an OAuth 2.0 authorization server for machine-to-machine access.

The package itself imports nothing: ``app.resource``, what a resource service
imports to verify tokens offline, must load with only PyJWT and cryptography,
never Flask or the database. ``create_app`` therefore loads the server stack
(``app.factory``) when it is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: Mapping[str, object] | None = None) -> Flask:
    """Build a Gatehouse app: see ``app.factory.create_app``."""
    from app.factory import create_app as build

    return build(test_config)
