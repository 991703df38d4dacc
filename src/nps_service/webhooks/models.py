"""The webhooks' tables.

- `webhook_outbox`: events not yet fanned out to endpoints. Answers' events are written by
  the statement that stores the answers (only while some endpoint is enabled), alerts'
  events by the evaluation that triggers them: a crash after a commit loses none.
- `webhook_endpoints`: where to send which events, with the signing secret.
- `webhook_deliveries`: one event for one endpoint; its id is the `webhook-id` header of
  every attempt, so receivers can drop repeats.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, SmallInteger, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from nps_service.db import Base, UTCDateTime

RESPONSE_EVENT = "response"  # an outbox row for a stored answer: created, and detractor if 0-6


class OutboxEvent(Base):
    __tablename__ = "webhook_outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(32))  # RESPONSE_EVENT or an event type
    response_id: Mapped[uuid.UUID | None] = mapped_column()
    score: Mapped[int | None] = mapped_column(SmallInteger)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    filters: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # Why it was disabled by the service (a 410 from the receiver), if it was.
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # Needed in clear to sign; shown once, at creation, never returned again.
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the webhook-id
    endpoint_id: Mapped[uuid.UUID] = mapped_column()
    # The answer an answer's event carries: erasing its author drops the delivery.
    response_id: Mapped[uuid.UUID | None] = mapped_column()
    event: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)  # the exact JSON sent (signed as is)
    status: Mapped[str] = mapped_column(String(16))  # pending | succeeded | failed
    attempts: Mapped[int] = mapped_column(Integer)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A sender holds a delivery until then; if it dies, another takes it after.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # What is due: pending deliveries by time.
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        # An endpoint's log, newest first.
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at"),
        Index("ix_webhook_deliveries_response_id", "response_id"),
    )


# Whether an enabled endpoint wants answers' events (response.created or .detractor):
# only then are they written. Without one, ingest pays one probe of a tiny table; an
# endpoint for alerts only costs nothing more (measured: writing and discarding the events
# took 27-50% of batch ingest).
ANSWER_SUBSCRIBERS = (
    "EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled "
    "AND CAST(events AS TEXT) LIKE '%\"response.%')"
)


def queue_answer_events(inserted: str) -> str:
    """SQL (PostgreSQL) queueing one outbox row per answer of the CTE `inserted` (which
    returns id and score), only while an enabled endpoint subscribes to answers."""
    return (
        "INSERT INTO webhook_outbox (kind, response_id, score) "  # noqa: S608 - constants
        f"SELECT '{RESPONSE_EVENT}', id, score FROM {inserted} WHERE {ANSWER_SUBSCRIBERS}"
    )
