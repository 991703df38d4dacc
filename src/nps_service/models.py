"""Every table, imported in one place for Alembic and the schema check."""

from nps_service.db import Base
from nps_service.displays.models import ContactRules, Display, PendingDisplay
from nps_service.keys.models import ApiKey
from nps_service.responses.models import PendingRollup, Response
from nps_service.rollups.models import display_rollups, rollups

__all__ = [
    "ApiKey",
    "Base",
    "ContactRules",
    "Display",
    "PendingDisplay",
    "PendingRollup",
    "Response",
    "display_rollups",
    "rollups",
]
