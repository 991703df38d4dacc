"""Recording events in the caller's transaction (the outbox): delivered after it commits,
never lost if the process dies after that."""

from typing import Any

from sqlalchemy.orm import Session

from nps_service.webhooks.models import OutboxEvent

ALERT_TRIGGERED = "alert.triggered"
RESPONSE_CREATED = "response.created"
RESPONSE_DETRACTOR = "response.detractor"
EVENT_TYPES = (RESPONSE_CREATED, RESPONSE_DETRACTOR, ALERT_TRIGGERED)


def emit_event(session: Session, event_type: str, data: dict[str, Any]) -> None:
    """Queue an event with its `data` (JSON-ready) in the session's transaction; the
    caller commits. Response events are queued by the statements that store answers."""
    assert event_type in EVENT_TYPES
    session.add(OutboxEvent(kind=event_type, payload=data))
    session.flush()
