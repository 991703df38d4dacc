"""The three sources of a query's sums, each one grouped SELECT.

- rollup slots inside the range (`rollup_statements`),
- the pending answers, not folded yet, in those same slots (`pending_statement`),
- raw answers, for ranges no slot fits or field combinations no rollup holds
  (`raw_statement`).

Every statement returns the group's key columns and then its sums, labelled as
`sum_labels` lists them, so the engine can add them up with one `UNION ALL` + `GROUP BY`.
"""

import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    SQLColumnExpression,
    Table,
    and_,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
)

from nps_service.filters import ResponseFilter
from nps_service.responses.filtering import filter_conditions
from nps_service.responses.models import PendingRollup, Response
from nps_service.rollups.buckets import bucket_expr
from nps_service.rollups.grains import ABSENT, ROLLUP_FIELDS, Grain
from nps_service.rollups.models import count_column, rollups, squares_column, weight_column
from nps_service.rollups.moments import PLAIN_MOMENTS, MomentSum, moment_sums
from nps_service.rollups.plan import Piece
from nps_service.rollups.totals import class_sum_labels
from nps_service.survey import CLASSES, DIMENSIONS, METRICS, Interval

_RESPONSES = typing.cast(Table, Response.__table__)
_PENDING = typing.cast(Table, PendingRollup.__table__)
# Up to this many slot ranges, each is its own SELECT: a single range is an index(-only)
# scan, while an OR of ranges makes PostgreSQL fetch every table row through a bitmap.
SEPARATE_RANGES = 16


@dataclass(frozen=True)
class Shape:
    """What every source must group by and sum."""

    scope: ResponseFilter
    interval: Interval | None
    group_by: list[str]
    weighted: bool
    moments: bool
    dialect: str
    span: tuple[datetime, datetime] | None = None  # where buckets need zone offsets
    displays: bool = False  # also count displays per group

    @property
    def key_names(self) -> list[str]:
        return (["bucket"] if self.interval else []) + self.group_by


def sum_labels(weighted: bool, moments: bool) -> list[str]:
    """The class sums (`totals.class_sum_labels`), then the moments if asked."""
    labels = class_sum_labels(weighted)
    if moments:
        labels += [moment.name for moment in moment_sums(weighted)]
    return labels


# Sums that are whole numbers: counts and unweighted moments.
_INTEGER_LABELS = frozenset(
    [f"{metric}__{k}" for metric in METRICS for k in CLASSES]
    + [moment.name for moment in PLAIN_MOMENTS]
)


def _metric_columns(table: Table) -> dict[str, ColumnElement[Any]]:
    """The overall score and each rating, in answers or in pending answers."""
    return {"overall": table.c.score, **{d: table.c[d] for d in DIMENSIONS}}


def _moment_term(table: Table, moment: MomentSum) -> ColumnElement[Any]:
    """What a moment adds up for one answer (the fold multiplies in the same order)."""
    factors: list[Any] = moment.terms(table.c.weight, _metric_columns(table))
    term = factors[0]
    for factor in factors[1:]:
        term = term * factor
    result: ColumnElement[Any] = term
    return result


def _moment_aggregates(table: Table, weighted: bool) -> list[ColumnElement[Any]]:
    """Complete-case moments over answer rows."""
    complete_case = and_(*(table.c[d].is_not(None) for d in DIMENSIONS))
    columns: list[ColumnElement[Any]] = []
    for moment in moment_sums(weighted):
        if not moment.factors and not moment.weighted:
            total: ColumnElement[Any] = func.count()
        else:
            total = func.sum(_moment_term(table, moment))
        columns.append(total.filter(complete_case).label(moment.name))
    return columns


def _row_aggregates(table: Table, weighted: bool, moments: bool) -> list[ColumnElement[Any]]:
    """Sums over answer rows, labelled as `sum_labels` lists them."""
    weight = table.c.weight
    columns: list[ColumnElement[Any]] = []
    for name, column in _metric_columns(table).items():
        classes = {
            "promoters": column >= 9,
            "passives": column.between(7, 8),
            "detractors": column <= 6,
        }
        columns += [func.count().filter(c).label(f"{name}__{k}") for k, c in classes.items()]
        if weighted:
            columns += [
                func.sum(weight).filter(c).label(f"{name}__w_{k}") for k, c in classes.items()
            ]
            columns.append(
                func.sum(weight * weight).filter(column.is_not(None)).label(f"{name}__w_squares")
            )
    if moments:
        columns += _moment_aggregates(table, weighted)
    return columns


def summed(column: ColumnElement[Any], label: str) -> ColumnElement[Any]:
    """SUM that stays an integer for counts (PostgreSQL sums bigints as numeric)."""
    total: ColumnElement[Any] = func.sum(column)
    if label in _INTEGER_LABELS:
        total = cast(total, BigInteger)
    return total.label(label)


def _rollup_aggregates(weighted: bool, moments: bool) -> list[ColumnElement[Any]]:
    """Sums over rollup rows, labelled as `sum_labels` lists them."""
    columns: list[ColumnElement[Any]] = []
    for metric in METRICS:
        columns += [summed(rollups.c[count_column(metric, k)], f"{metric}__{k}") for k in CLASSES]
        if weighted:
            columns += [
                func.sum(rollups.c[weight_column(metric, k)]).label(f"{metric}__w_{k}")
                for k in CLASSES
            ]
            columns.append(
                func.sum(rollups.c[squares_column(metric)]).label(f"{metric}__w_squares")
            )
    if moments:
        columns += [summed(rollups.c[moment.name], moment.name) for moment in moment_sums(weighted)]
    return columns


def within(column: SQLColumnExpression[datetime], pieces: Iterable[Piece]) -> ColumnElement[bool]:
    ranges = []
    for piece in pieces:
        bounds = []
        if piece.start is not None:
            bounds.append(column >= piece.start)
        if piece.end is not None:
            bounds.append(column < piece.end)
        ranges.append(and_(True, *bounds))
    return or_(false(), *ranges)


def key_columns(
    shape: Shape, time: SQLColumnExpression[datetime], fields: Mapping[str, ColumnElement[Any]]
) -> list[ColumnElement[Any]]:
    keys: list[ColumnElement[Any]] = []
    if shape.interval is not None and shape.span is not None:
        bucket = bucket_expr(time, shape.dialect, shape.interval, shape.scope.tz, *shape.span)
        keys.append(bucket.label("bucket"))
    keys += [fields[name].label(name) for name in shape.group_by]
    return keys


def grouped(statement: Select[Any], keys: list[ColumnElement[Any]]) -> Select[Any]:
    """`statement` grouped by `keys` (none: one row)."""
    return statement.group_by(*keys) if keys else statement


def raw_statement(shape: Shape, pieces: list[Piece] | None) -> Select[Any]:
    """Answers in scope (and within the pieces, when given), from `responses`."""
    return _answers_statement(_RESPONSES, shape, pieces)


def pending_statement(shape: Shape, pieces: list[Piece]) -> Select[Any]:
    """Answers not folded yet inside the ranges the rollup pieces cover, from the queue
    alone: its rows carry everything a score needs, so no join can turn this into a scan
    of all answers, whatever the planner believes about the queue's size."""
    return _answers_statement(_PENDING, shape, pieces)


def _answers_statement(table: Table, shape: Shape, pieces: list[Piece] | None) -> Select[Any]:
    fields = {name: table.c[name] for name in shape.group_by}
    keys = key_columns(shape, table.c.submitted_at, fields)
    aggregates = _row_aggregates(table, shape.weighted, shape.moments)
    conditions = filter_conditions(shape.scope, None if table is _RESPONSES else table)
    statement = select(*keys, *aggregates).where(*conditions)
    if pieces is not None:
        statement = statement.where(within(table.c.submitted_at, pieces))
    return grouped(statement, keys)


def rollup_statements(shape: Shape, grain: Grain, pieces: list[Piece]) -> list[Select[Any]]:
    """Rollup slots of `grain` inside the pieces: one SELECT per range (or per level)."""
    fields = {name: func.nullif(rollups.c[name], ABSENT) for name in shape.group_by}
    keys = key_columns(shape, rollups.c.slot_start, fields)
    common = [
        # Inline, not a bound parameter: a partial index on one grain must match the plan
        # even when the driver has turned the statement into a prepared, generic one.
        rollups.c.grain == literal_column(str(grain.id)),
        *(rollups.c[name].in_(values) for name, values in shape.scope.segments.items()),
        # Fields the grain does not keep hold '' : saying so lets the primary key's order
        # (grain, level, merchant, category, ...) narrow the scan to the rows asked for.
        *(rollups.c[name] == ABSENT for name in ROLLUP_FIELDS if name not in grain.fields),
    ]
    if len(pieces) <= SEPARATE_RANGES:
        groups = [[piece] for piece in pieces]
    else:
        groups = [[p for p in pieces if p.level == level] for level in grain.levels]
    statements = []
    for group in groups:
        if not group:
            continue
        level = group[0].level
        assert level is not None  # only slot pieces reach here, grouped by level
        statement = select(*keys, *_rollup_aggregates(shape.weighted, shape.moments)).where(
            *common, rollups.c.level == level.id, within(rollups.c.slot_start, group)
        )
        statements.append(grouped(statement, keys))
    return statements
