"""The alerts' tables.

- `alerts`: what to watch (metric, filters, groups, interval, zone, condition, min_n).
- `alert_evaluations`: one row per alert and evaluated interval (unique on the interval's
  start), written in the transaction that emits its `alert.triggered` events, so however
  many workers evaluate at once an interval is evaluated, and announced, once.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nps_service.db import Base, UTCDateTime


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(16))  # overall or a dimension
    filters: Mapped[dict[str, list[str]]] = mapped_column(JSON)  # tag -> values
    group_by: Mapped[list[str]] = mapped_column(JSON)
    interval: Mapped[str] = mapped_column(String(8))  # day | week
    tz: Mapped[str] = mapped_column(String(64))
    condition: Mapped[dict[str, Any]] = mapped_column(JSON)
    min_n: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The start of the newest interval evaluated (the scheduler skips an alert up to date).
    last_evaluated_start: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertEvaluation(Base):
    __tablename__ = "alert_evaluations"
    __table_args__ = (
        # Once per alert and interval, whichever worker gets there first.
        UniqueConstraint("alert_id", "interval_start"),
        # The evaluation log of an alert, newest first.
        Index("ix_alert_evaluations_alert_id_evaluated_at", "alert_id", "evaluated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    alert_id: Mapped[uuid.UUID] = mapped_column()
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime)
    interval_end: Mapped[datetime] = mapped_column(UTCDateTime)
    baseline_start: Mapped[datetime] = mapped_column(UTCDateTime)
    baseline_end: Mapped[datetime] = mapped_column(UTCDateTime)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    groups_evaluated: Mapped[int] = mapped_column(Integer)
    # The data of each `alert.triggered` event this evaluation emitted.
    triggered: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
