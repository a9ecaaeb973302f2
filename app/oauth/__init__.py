"""The protocol room: token, introspection, revocation, metadata, JWKS, revocation feed,
leaked-credential reports."""

from flask import Flask

from app.oauth import leak_report, metadata, views
from app.oauth.server import build_server


def init_oauth(app: Flask) -> None:
    """Build this app's AuthorizationServer and register the protocol routes."""
    build_server(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(metadata.bp)
    app.register_blueprint(leak_report.bp)
