"""The `rollups` table: additive sums per (grain, level, segment key, slot)."""

from typing import Any

from sqlalchemy import (
    Column,
    Double,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    text,
)
from sqlalchemy.types import TypeEngine

from nps_service.db import Base, UTCDateTime
from nps_service.rollups.grains import ABSENT, MERCHANT_GRAIN, ROLLUP_FIELDS
from nps_service.rollups.moments import MOMENTS, MomentSum
from nps_service.survey import CLASSES, METRICS


def count_column(metric: str, klass: str) -> str:
    return f"{metric}_{klass}"


def weight_column(metric: str, klass: str) -> str:
    return f"{metric}_w_{klass}"


def squares_column(metric: str) -> str:
    return f"{metric}_w_squares"


def _sum_columns() -> list[Column[object]]:
    columns: list[Column[object]] = []
    for metric in METRICS:
        # 32-bit counts per slot: PostgreSQL sums int4 in an int8 accumulator, bigints in a
        # far slower numeric one (no slot of one segment holds 2 billion answers).
        columns += [Column(count_column(metric, k), Integer, nullable=False) for k in CLASSES]
        columns += [Column(weight_column(metric, k), Double, nullable=False) for k in CLASSES]
        columns.append(Column(squares_column(metric), Double, nullable=False))
    columns += [Column(moment.name, _moment_type(moment), nullable=False) for moment in MOMENTS]
    return columns


def _moment_type(moment: MomentSum) -> type[TypeEngine[Any]]:
    # int4 like the counts (PostgreSQL sums them in a fast int8 accumulator): Σx·y adds at
    # most 100 per answer, so a slot overflows only past 21 million answers, and then the
    # fold fails loudly rather than losing anything.
    return Double if moment.weighted else Integer


SUM_COLUMNS = [column.name for column in _sum_columns()]
COUNT_COLUMNS = [count_column(metric, k) for metric in METRICS for k in CLASSES]

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
    # Merchants of one category (rankings, scorecards' ranks): one contiguous index range.
    # On PostgreSQL the class counts ride along in the index, so an unweighted ranking reads
    # no table rows (a category's merchants over 90 days are thousands of rows scattered on
    # disk). Weight sums do not fit too: an index holds at most 32 columns.
    Index(
        "ix_rollups_merchants_by_category",
        "category",
        "level",
        "slot_start",
        # Every other key column is included too: queries pin them (to '') as well.
        postgresql_include=[
            *(name for name in ROLLUP_FIELDS if name != "category"),
            *COUNT_COLUMNS,
        ],
        postgresql_where=text(f"grain = {MERCHANT_GRAIN.id}"),
        sqlite_where=text(f"grain = {MERCHANT_GRAIN.id}"),
    ),
)

# Display counts per (grain, level, segment key, slot of shown_at): +1 shown per display,
# +1 declined and +1 answered as they happen, so a group's response rate is additive
# like its NPS and read from the same slots.
DISPLAY_COUNTS = ("shown", "answered", "declined")
display_rollups = Table(
    "display_rollups",
    Base.metadata,
    Column("grain", SmallInteger, primary_key=True),
    Column("level", SmallInteger, primary_key=True),
    *(Column(name, String(64), primary_key=True, server_default=ABSENT) for name in ROLLUP_FIELDS),
    Column("slot_start", UTCDateTime, primary_key=True),
    *(Column(name, Integer, nullable=False) for name in DISPLAY_COUNTS),
)
