"""The display counts of a query's groups, from the same pieces as its answers' sums:
`display_rollups` slots, queued changes in those slots, and displays themselves where no
slot fits. Every statement returns the group's key columns, then shown, answered and
declined."""

import typing
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Table,
    cast,
    func,
    literal_column,
    select,
)

from nps_service.displays.models import Display, PendingDisplay
from nps_service.rollups.grains import ABSENT, ROLLUP_FIELDS, Grain
from nps_service.rollups.models import DISPLAY_COUNTS, display_rollups
from nps_service.rollups.plan import Piece
from nps_service.rollups.sources import Shape, grouped, key_columns, within

_DISPLAYS = typing.cast(Table, Display.__table__)
_PENDING = typing.cast(Table, PendingDisplay.__table__)


def _scope(table: Table, shape: Shape) -> list[ColumnElement[bool]]:
    """The query's range and tag filters, on shown_at and the display's tags; with
    buckets, only within the span where bucket offsets are known (the answers' span: a
    display outside it is in no bucket that has answers)."""
    scope = shape.scope
    conditions: list[ColumnElement[bool]] = []
    start, end = scope.start, scope.end
    if shape.interval is not None and shape.span is not None:
        start = max(start, shape.span[0]) if start else shape.span[0]
        end = min(end, shape.span[1]) if end else shape.span[1]
    if start is not None:
        conditions.append(table.c.shown_at >= start)
    if end is not None:
        conditions.append(table.c.shown_at < end)
    conditions += [table.c[name].in_(values) for name, values in scope.segments.items()]
    return conditions


def _total(column: ColumnElement[Any], label: str) -> ColumnElement[Any]:
    return cast(func.sum(column), BigInteger).label(label)


def raw_displays(shape: Shape, pieces: list[Piece] | None) -> Select[Any]:
    """Displays in scope (within the pieces, when given), counted as they stand."""
    table = _DISPLAYS
    keys = key_columns(shape, table.c.shown_at, {n: table.c[n] for n in shape.group_by})
    counts = [
        func.count().label("shown"),
        func.count(table.c.response_id).label("answered"),
        func.count(table.c.declined_at).label("declined"),
    ]
    statement = select(*keys, *counts).where(*_scope(table, shape))
    if pieces is not None:
        statement = statement.where(within(table.c.shown_at, pieces))
    return grouped(statement, keys)


def pending_displays(shape: Shape, pieces: list[Piece]) -> Select[Any]:
    """Changes not folded yet, inside the ranges that rollup slots answer."""
    table = _PENDING
    keys = key_columns(shape, table.c.shown_at, {n: table.c[n] for n in shape.group_by})
    counts = [_total(table.c[name], name) for name in DISPLAY_COUNTS]
    statement = select(*keys, *counts).where(
        *_scope(table, shape), within(table.c.shown_at, pieces)
    )
    return grouped(statement, keys)


def slot_displays(shape: Shape, grain: Grain, pieces: list[Piece]) -> list[Select[Any]]:
    """`display_rollups` slots of `grain` inside the pieces, one SELECT per level."""
    table = display_rollups
    fields = {name: func.nullif(table.c[name], ABSENT) for name in shape.group_by}
    keys = key_columns(shape, table.c.slot_start, fields)
    counts = [_total(table.c[name], name) for name in DISPLAY_COUNTS]
    common = [
        table.c.grain == literal_column(str(grain.id)),
        *(table.c[name].in_(values) for name, values in shape.scope.segments.items()),
        *(table.c[name] == ABSENT for name in ROLLUP_FIELDS if name not in grain.fields),
    ]
    if shape.interval is not None and shape.span is not None:
        common += [table.c.slot_start >= shape.span[0], table.c.slot_start < shape.span[1]]
    statements = []
    for level in grain.levels:
        mine = [piece for piece in pieces if piece.level == level]
        if mine:
            statement = select(*keys, *counts).where(
                *common, table.c.level == level.id, within(table.c.slot_start, mine)
            )
            statements.append(grouped(statement, keys))
    return statements
