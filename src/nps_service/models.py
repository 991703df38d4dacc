"""Every table, imported in one place for Alembic and the schema check."""

from nps_service.alerts.models import Alert, AlertEvaluation
from nps_service.db import Base
from nps_service.displays.models import ContactRules, Display, PendingDisplay
from nps_service.keys.models import ApiKey
from nps_service.privacy.models import AuditEntry
from nps_service.responses.models import PendingRollup, Response
from nps_service.rollups.models import display_rollups, rollups
from nps_service.webhooks.models import Delivery, OutboxEvent, WebhookEndpoint

__all__ = [
    "Alert",
    "AlertEvaluation",
    "ApiKey",
    "AuditEntry",
    "Base",
    "ContactRules",
    "Delivery",
    "Display",
    "OutboxEvent",
    "PendingDisplay",
    "PendingRollup",
    "Response",
    "WebhookEndpoint",
    "display_rollups",
    "rollups",
]
