"""Tables for the pending tail and the rollups."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Double, Index, SmallInteger, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from nps_service.db import Base, UTCDateTime
from nps_service.responses.models import DIMENSIONS
from nps_service.rollups.grains import ABSENT, ROLLUP_FIELDS

METRICS = ("overall", *DIMENSIONS)
CLASSES = ("promoters", "passives", "detractors")


def count_column(metric: str, klass: str) -> str:
    return f"{metric}_{klass}"


def weight_column(metric: str, klass: str) -> str:
    return f"{metric}_w_{klass}"


def squares_column(metric: str) -> str:
    return f"{metric}_w_squares"


class PendingRollup(Base):
    """Stored answers not yet folded into the rollups, with their time.

    The time lets the folder take pending answers in time order, so one batch touches the
    rollup slots of one stretch of time instead of updating every slot of every batch.
    """

    __tablename__ = "pending_rollup"
    __table_args__ = (Index("ix_pending_rollup_submitted_at_id", "submitted_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _sum_columns() -> list[Column[object]]:
    columns: list[Column[object]] = []
    for metric in METRICS:
        columns += [Column(count_column(metric, k), BigInteger, nullable=False) for k in CLASSES]
        columns += [Column(weight_column(metric, k), Double, nullable=False) for k in CLASSES]
        columns.append(Column(squares_column(metric), Double, nullable=False))
    return columns


SUM_COLUMNS = [column.name for column in _sum_columns()]

rollups = Table(
    "rollups",
    Base.metadata,
    Column("grain", SmallInteger, primary_key=True),
    Column("level", SmallInteger, primary_key=True),
    *(Column(name, String(64), primary_key=True, server_default=ABSENT) for name in ROLLUP_FIELDS),
    Column("slot_start", UTCDateTime, primary_key=True),
    *_sum_columns(),
    # Unfiltered scans of one grain over a time range.
    Index("ix_rollups_grain_level_slot_start", "grain", "level", "slot_start"),
    # Merchants of one category (rankings) without scanning every merchant.
    Index("ix_rollups_grain_level_category_slot_start", "grain", "level", "category", "slot_start"),
)
