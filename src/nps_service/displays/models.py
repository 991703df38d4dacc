"""The displays' tables: `displays` (one row per prompt shown), `pending_display_rollup`
(changes to the display counts not yet folded into `display_rollups`) and
`contact_rules` (one row: the quiet periods and sampling)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from nps_service.db import Base, UTCDateTime

# Displays carry the answers' context tags, so scores can count them per segment.
DISPLAY_CONTEXT = ("merchant_id", "category", "channel", "region", "platform", "order_id")


class Display(Base):
    """One showing of the prompt to one person; later declined, or answered, or neither."""

    __tablename__ = "displays"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # NULL once retention removed it (NPS_RETENTION_DAYS).
    respondent_id: Mapped[str | None] = mapped_column(String(128))
    touchpoint: Mapped[str | None] = mapped_column(String(64))
    merchant_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    platform: Mapped[str | None] = mapped_column(String(64))
    order_id: Mapped[str | None] = mapped_column(String(64))
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Whether the client sent shown_at: a retry that omits it is still the same display.
    shown_at_given: Mapped[bool] = mapped_column(Boolean)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_id: Mapped[uuid.UUID | None] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        # Eligibility: one person's displays, newest first (a few rows per person).
        Index("ix_displays_respondent_id_shown_at", "respondent_id", "shown_at"),
        # Scores over ranges no rollup slot covers.
        Index("ix_displays_shown_at", "shown_at"),
        # A display answers to one response at most.
        Index("ix_displays_response_id", "response_id", unique=True),
    )


class PendingDisplay(Base):
    """A change to the display counts of one display's slot, not yet folded.

    +1 shown when a display is stored, +1 declined when it is declined, +1 answered (and
    -1 declined if it had been declined) when an answer names it: the counts stay additive
    sums, queued in the transaction that changed the display, like answers are.
    """

    __tablename__ = "pending_display_rollup"
    __table_args__ = (Index("ix_pending_display_rollup_shown_at", "shown_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime)
    merchant_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    platform: Mapped[str | None] = mapped_column(String(64))
    touchpoint: Mapped[str | None] = mapped_column(String(64))
    shown: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    answered: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    declined: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class ContactRules(Base):
    """The contact rules: one row (id 1), the JSON document `PUT /v1/contact-rules` stored."""

    __tablename__ = "contact_rules"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
