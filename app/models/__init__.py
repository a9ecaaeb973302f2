"""Mapped classes only: no queries, no commits, no ``current_app``."""

from app.models.audit import AuditEvent
from app.models.change import ClientChange
from app.models.client import Client
from app.models.console_session import ConsoleSession
from app.models.metric_sample import MetricSample
from app.models.outbox import ClientReminder, OutboxMessage
from app.models.revocation import RevocationEvent, RevokedToken, UsedAssertion
from app.models.service import Service
from app.models.user import User, user_services

__all__ = [
    "AuditEvent",
    "Client",
    "ClientChange",
    "ConsoleSession",
    "ClientReminder",
    "MetricSample",
    "OutboxMessage",
    "RevocationEvent",
    "RevokedToken",
    "Service",
    "UsedAssertion",
    "User",
    "user_services",
]
