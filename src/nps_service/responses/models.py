"""The answers' tables: `responses` (one row per answer) and `pending_rollup`, the queue of
answers not yet folded into the rollups, written in the same statement as each answer."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Double,
    Index,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from nps_service.db import Base, UTCDateTime
from nps_service.survey import CONTEXT_FIELDS, DIMENSIONS, SEGMENT_FIELDS

# What a client sends, flattened into columns (also the CSV import layout).
ANSWER_COLUMNS = (
    "id",
    "respondent_id",
    "score",
    *DIMENSIONS,
    "comment",
    *CONTEXT_FIELDS,
    "weight",
    "properties",
    "submitted_at",
)
# Every stored column: the answer, then what the server adds.
# (`display_id` is not in the CSV layout: imports carry no displays.)
STORED_COLUMNS = (
    *ANSWER_COLUMNS,
    "display_id",
    "submitted_at_given",
    "received_at",
    "content_hash",
)


class Response(Base):
    """One stored answer; dimension ratings and context tags are nullable columns."""

    __tablename__ = "responses"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # NULL once retention removed it (NPS_RETENTION_DAYS).
    respondent_id: Mapped[str | None] = mapped_column(String(128))
    score: Mapped[int] = mapped_column(SmallInteger)
    logistics: Mapped[int | None] = mapped_column(SmallInteger)
    product: Mapped[int | None] = mapped_column(SmallInteger)
    service: Mapped[int | None] = mapped_column(SmallInteger)
    app: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    merchant_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    platform: Mapped[str | None] = mapped_column(String(64))
    touchpoint: Mapped[str | None] = mapped_column(String(64))
    order_id: Mapped[str | None] = mapped_column(String(64))
    weight: Mapped[float] = mapped_column(Double, default=1.0)
    properties: Mapped[dict[str, Any] | None] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql")
    )
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Whether the client sent submitted_at: a retry that omits it is still the same answer.
    submitted_at_given: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # SHA-256 of the canonical client payload (without id and submitted_at): idempotency check.
    content_hash: Mapped[str] = mapped_column(String(64))
    # The display (`displays`) this answers, when the client named one.
    display_id: Mapped[uuid.UUID | None] = mapped_column()

    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),
        CheckConstraint("logistics BETWEEN 0 AND 10", name="logistics_range"),
        CheckConstraint("product BETWEEN 0 AND 10", name="product_range"),
        CheckConstraint("service BETWEEN 0 AND 10", name="service_range"),
        CheckConstraint("app BETWEEN 0 AND 10", name="app_range"),
        CheckConstraint("weight > 0", name="weight_positive"),
        # Time range scans and newest-first keyset pagination.
        Index("ix_responses_submitted_at_id", "submitted_at", "id"),
        # The most common dashboard filters.
        Index("ix_responses_merchant_id_submitted_at", "merchant_id", "submitted_at"),
        Index("ix_responses_category_submitted_at", "category", "submitted_at"),
        Index("ix_responses_respondent_id_submitted_at", "respondent_id", "submitted_at"),
    )


class PendingRollup(Base):
    """Stored answers not yet folded into the rollups, with what folding needs of them.

    A copy, not a reference: reading the pending tail (every score query does) and folding
    it never join the answers, so their cost follows the tail's size whatever the planner
    believes about a table that fills and empties all day. The time lets the folder take
    pending answers in time order, so one batch touches the rollup slots of one stretch
    of time instead of updating every slot of every batch.
    """

    __tablename__ = "pending_rollup"
    __table_args__ = (Index("ix_pending_rollup_submitted_at_id", "submitted_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[int] = mapped_column(SmallInteger)
    logistics: Mapped[int | None] = mapped_column(SmallInteger)
    product: Mapped[int | None] = mapped_column(SmallInteger)
    service: Mapped[int | None] = mapped_column(SmallInteger)
    app: Mapped[int | None] = mapped_column(SmallInteger)
    weight: Mapped[float] = mapped_column(Double)
    merchant_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    platform: Mapped[str | None] = mapped_column(String(64))
    touchpoint: Mapped[str | None] = mapped_column(String(64))
    # When it was queued (the database's clock): how long the oldest has waited is the
    # folder's lag that operators watch.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


# What the pending queue copies of each new answer (every column of PendingRollup).
PENDING_COLUMNS = ("id", "submitted_at", "score", *DIMENSIONS, "weight", *SEGMENT_FIELDS)


def queue_new_answers(inserted: str) -> str:
    """SQL that copies the rows of the CTE `inserted` (which returns PENDING_COLUMNS) into
    the pending queue, in the statement that stored them."""
    columns = ", ".join(PENDING_COLUMNS)
    return f"INSERT INTO pending_rollup ({columns}) SELECT {columns} FROM {inserted}"  # noqa: S608


# What `INSERT INTO responses ... RETURNING` must give `queue_new_answers`.
RETURNING_PENDING = "RETURNING " + ", ".join(PENDING_COLUMNS)
