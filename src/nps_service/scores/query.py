"""Additive class totals per group and metric, from rollups where they can answer exactly.

A query is answered either by one grouped scan of `responses` (the raw path, for field
combinations no rollup holds), or by adding up three sources read in one snapshot:
rollup slots inside the range, the pending (not yet folded) answers in those same slots,
and raw answers in the few ranges no slot fits.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from nps_service.filters import ResponseFilter
from nps_service.properties import bounded_time
from nps_service.responses.models import DIMENSIONS, Response
from nps_service.rollups.grains import ABSENT, LONGEST_SLOT, ROLLUP_FIELDS, Grain, choose_grain
from nps_service.rollups.models import (
    CLASSES,
    METRICS,
    PendingRollup,
    count_column,
    rollups,
    squares_column,
    weight_column,
)
from nps_service.rollups.moments import PLAIN_MOMENTS, MomentSum, moment_sums
from nps_service.rollups.plan import Piece, plan
from nps_service.scores.buckets import Interval, as_date, bucket_expr, bucket_starts
from nps_service.scores.stats import ClassTotals

_METRIC_COLUMNS = {"overall": Response.score, **{d: getattr(Response, d) for d in DIMENSIONS}}


@dataclass(frozen=True)
class GroupTotals:
    """Key fields and the additive sums of one group, in `sum_labels(weighted)` order."""

    key: dict[str, Any]
    sums: list[Any]
    weighted: bool
    moments: bool = False  # complete-case moment sums follow the class sums

    @property
    def by_label(self) -> dict[str, Any]:
        return dict(zip(sum_labels(self.weighted, self.moments), self.sums, strict=True))

    @property
    def metrics(self) -> dict[str, ClassTotals]:
        """The sums per metric (the scores service reads `sums` directly, for speed)."""
        return _metric_totals(self.by_label, self.weighted)


@dataclass(frozen=True)
class _Shape:
    """What every source must group by and sum."""

    interval: Interval | None
    group_by: list[str]
    weighted: bool
    span: tuple[datetime, datetime] | None
    dialect: str
    scope: ResponseFilter
    moments: bool


def sum_labels(weighted: bool, moments: bool = False) -> list[str]:
    """Per metric: the class counts, then (weighted) the class weights and Σw²; then,
    if asked, the complete-case moments (`rollups.moments`)."""
    labels = []
    for metric in METRICS:
        labels += [f"{metric}__{k}" for k in CLASSES]
        if weighted:
            labels += [f"{metric}__w_{k}" for k in CLASSES] + [f"{metric}__w_squares"]
    if moments:
        labels += [moment.name for moment in moment_sums(weighted)]
    return labels


# Sums that are whole numbers: counts and unweighted moments.
_INTEGER_LABELS = frozenset(
    [f"{metric}__{k}" for metric in METRICS for k in CLASSES]
    + [moment.name for moment in PLAIN_MOMENTS]
)
_COMPLETE_CASE = and_(*(getattr(Response, d).is_not(None) for d in DIMENSIONS))


def _moment_term(moment: MomentSum) -> ColumnElement[Any]:
    """What a moment adds up for one answer (the fold multiplies in the same order)."""
    factors: list[Any] = moment.terms(Response.weight, _METRIC_COLUMNS)
    term = factors[0]
    for factor in factors[1:]:
        term = term * factor
    result: ColumnElement[Any] = term
    return result


def _moment_aggregates(weighted: bool) -> list[ColumnElement[Any]]:
    """Complete-case moments over answer rows."""
    columns: list[ColumnElement[Any]] = []
    for moment in moment_sums(weighted):
        if not moment.factors and not moment.weighted:
            total: ColumnElement[Any] = func.count()
        else:
            total = func.sum(_moment_term(moment))
        columns.append(total.filter(_COMPLETE_CASE).label(moment.name))
    return columns


def _row_aggregates(weighted: bool, moments: bool) -> list[ColumnElement[Any]]:
    """Sums over answer rows, labelled as `sum_labels` lists them."""
    columns: list[ColumnElement[Any]] = []
    for name, column in _METRIC_COLUMNS.items():
        classes = {
            "promoters": column >= 9,
            "passives": column.between(7, 8),
            "detractors": column <= 6,
        }
        columns += [func.count().filter(c).label(f"{name}__{k}") for k, c in classes.items()]
        if weighted:
            columns += [
                func.sum(Response.weight).filter(c).label(f"{name}__w_{k}")
                for k, c in classes.items()
            ]
            columns.append(
                func.sum(Response.weight * Response.weight)
                .filter(column.is_not(None))
                .label(f"{name}__w_squares")
            )
    if moments:
        columns += _moment_aggregates(weighted)
    return columns


def _summed(column: ColumnElement[Any], label: str) -> ColumnElement[Any]:
    """SUM that stays an integer for counts (PostgreSQL sums bigints as numeric)."""
    total: ColumnElement[Any] = func.sum(column)
    if label in _INTEGER_LABELS:
        total = cast(total, BigInteger)
    return total.label(label)


def _rollup_aggregates(weighted: bool, moments: bool) -> list[ColumnElement[Any]]:
    """Sums over rollup rows, labelled as `sum_labels` lists them."""
    columns: list[ColumnElement[Any]] = []
    for metric in METRICS:
        columns += [_summed(rollups.c[count_column(metric, k)], f"{metric}__{k}") for k in CLASSES]
        if weighted:
            columns += [
                func.sum(rollups.c[weight_column(metric, k)]).label(f"{metric}__w_{k}")
                for k in CLASSES
            ]
            columns.append(
                func.sum(rollups.c[squares_column(metric)]).label(f"{metric}__w_squares")
            )
    if moments:
        columns += [
            _summed(rollups.c[moment.name], moment.name) for moment in moment_sums(weighted)
        ]
    return columns


def _within(column: SQLColumnExpression[datetime], pieces: Iterable[Piece]) -> ColumnElement[bool]:
    ranges = []
    for piece in pieces:
        bounds = []
        if piece.start is not None:
            bounds.append(column >= piece.start)
        if piece.end is not None:
            bounds.append(column < piece.end)
        ranges.append(and_(True, *bounds))
    return or_(false(), *ranges)


def _keys(
    shape: _Shape, time: SQLColumnExpression[datetime], fields: Mapping[str, ColumnElement[Any]]
) -> list[ColumnElement[Any]]:
    keys: list[ColumnElement[Any]] = []
    if shape.interval is not None and shape.span is not None:
        keys.append(
            bucket_expr(time, shape.dialect, shape.interval, shape.scope.tz, *shape.span).label(
                "bucket"
            )
        )
    keys += [fields[name].label(name) for name in shape.group_by]
    return keys


def _grouped(statement: Select[Any], keys: list[ColumnElement[Any]]) -> Select[Any]:
    return statement.group_by(*keys) if keys else statement


def _raw_statement(
    shape: _Shape, pieces: list[Piece] | None, *, pending_only: bool = False
) -> Select[Any]:
    """Answer rows in scope (and within the pieces, when given; not folded yet, if asked)."""
    fields = {name: getattr(Response, name) for name in shape.group_by}
    keys = _keys(shape, Response.submitted_at, fields)
    statement = select(*keys, *_row_aggregates(shape.weighted, shape.moments)).where(
        *shape.scope.where()
    )
    if pending_only:
        # The time test on the pending table's own (indexed) copy keeps this a short index
        # scan of the pending tail, whatever the planner believes about the answers.
        statement = statement.join(PendingRollup, PendingRollup.id == Response.id)
    if pieces is not None:
        time = PendingRollup.submitted_at if pending_only else Response.submitted_at
        statement = statement.where(_within(time, pieces))
    return _grouped(statement, keys)


def _pending_statement(shape: _Shape, pieces: list[Piece]) -> Select[Any]:
    """Answers not folded yet, inside the ranges the rollup pieces cover."""
    return _raw_statement(shape, pieces, pending_only=True)


# Up to this many slot ranges, each is its own SELECT: a single range is an index(-only)
# scan, while an OR of ranges makes PostgreSQL fetch every table row through a bitmap.
SEPARATE_RANGES = 16


def _rollup_statements(shape: _Shape, grain: Grain, pieces: list[Piece]) -> list[Select[Any]]:
    fields = {name: func.nullif(rollups.c[name], ABSENT) for name in shape.group_by}
    keys = _keys(shape, rollups.c.slot_start, fields)
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
            *common, rollups.c.level == level.id, _within(rollups.c.slot_start, group)
        )
        statements.append(_grouped(statement, keys))
    return statements


def _span(session: Session, scope: ResponseFilter) -> tuple[datetime, datetime] | None:
    """Around the first and last submitted_at in scope: where buckets need zone offsets."""
    first, last = session.execute(
        select(func.min(Response.submitted_at), func.max(Response.submitted_at)).where(
            *scope.where()
        )
    ).one()
    if first is None:
        return None
    # Widened by the longest slot: rollup slots start before the first answer in them,
    # and their bucket, offset and boundaries must be right too.
    return _as_datetime(first) - LONGEST_SLOT, _as_datetime(last) + LONGEST_SLOT


def _as_datetime(value: datetime | str) -> datetime:
    """min()/max() lose the column type on SQLite and come back as naive UTC text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def group_totals(
    session: Session,
    scope: ResponseFilter,
    *,
    interval: Interval | None,
    group_by: list[str],
    weighted: bool,
    moments: bool = False,
    use_rollups: bool = True,
) -> list[GroupTotals]:
    """Class totals (and, if asked, complete-case moments) for every (bucket, group
    fields) combination that has responses."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        _enter_snapshot(session)
    shape = _Shape(interval, group_by, weighted, None, dialect, scope, moments)
    with bounded_time(session, bool(scope.properties)):
        return _totals(session, shape, use_rollups)


def _enter_snapshot(session: Session) -> None:
    """PostgreSQL: one REPEATABLE READ snapshot for every score query of the transaction.

    Rollups, pending tail and raw rows must come from one snapshot, or an answer folded
    between two reads would be counted twice or not at all; an endpoint that aggregates
    several times (compare, scorecards) then also sees one state of the data.
    """
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_SNAPSHOT) is transaction:
        return
    if session.in_transaction():
        session.rollback()  # only the key lookup ran: start the snapshot fresh
    connection = session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    # Hash, don't sort on disk; and compiling these short queries to machine code (JIT)
    # costs more than running them.
    connection.execute(
        text("SELECT set_config('work_mem', '32MB', true), set_config('jit', 'off', true)")
    )
    session.info[_SNAPSHOT] = session.get_transaction()


_SNAPSHOT = "nps_score_snapshot"


def _totals(session: Session, shape: _Shape, use_rollups: bool) -> list[GroupTotals]:
    scope, interval, group_by = shape.scope, shape.interval, shape.group_by
    span = None
    if interval is not None:
        span = _span(session, scope)
        if span is None:
            return []
        shape = replace(shape, span=span)
    # Rollups keep no properties: property filters are answered from the answers.
    grain = (
        choose_grain({*scope.segments, *group_by}) if use_rollups and not scope.properties else None
    )
    if grain is None:
        statements = [_raw_statement(shape, None)]
    else:
        boundaries = bucket_starts(interval, scope.tz, *span) if interval and span else []
        pieces = plan(grain, scope.start, scope.end, boundaries)
        sliced = [p for p in pieces if p.level is not None]
        raw = [p for p in pieces if p.level is None]
        statements = []
        if sliced:
            statements += [
                *_rollup_statements(shape, grain, sliced),
                _pending_statement(shape, sliced),
            ]
        if raw:
            statements.append(_raw_statement(shape, raw))
    return _merge(session, statements, shape)


def _merge(session: Session, statements: list[Select[Any]], shape: _Shape) -> list[GroupTotals]:
    """Add up the sources' rows per group in the database: one result row per group."""
    labels = sum_labels(shape.weighted, shape.moments)
    names = _key_names(shape)
    width = len(names)
    if len(statements) == 1:
        merged = statements[0]
    else:
        sources = union_all(*statements).subquery()
        keys: list[ColumnElement[Any]] = [sources.c[name] for name in names]
        merged = _grouped(
            select(*keys, *(_summed(sources.c[label], label) for label in labels)), keys
        )
    bucketed = shape.interval is not None
    grouped = bool(shape.interval or shape.group_by)
    # Core rows (plain tuples), not ORM rows: thousands of groups come back.
    rows = session.connection().execute(merged).all()
    groups = []
    for row in rows:
        sums = [value or 0 for value in row[width:]]
        if grouped and not any(sums):
            continue  # defensive: a group exists only where some answer is
        key = dict(zip(names, row[:width]))  # noqa: B905 - same length
        if bucketed:
            key["bucket"] = as_date(key["bucket"]).isoformat()
        groups.append(GroupTotals(key, sums, shape.weighted, shape.moments))
    if not groups and not grouped:
        groups.append(GroupTotals({}, [0] * len(labels), shape.weighted, shape.moments))
    return groups


def _key_names(shape: _Shape) -> list[str]:
    return (["bucket"] if shape.interval else []) + shape.group_by


def _metric_totals(sums: dict[str, Any], weighted: bool) -> dict[str, ClassTotals]:
    result = {}
    for metric in METRICS:
        counts = {k: int(sums[f"{metric}__{k}"]) for k in CLASSES}
        if weighted:
            result[metric] = ClassTotals(
                **counts,
                weight_promoters=float(sums[f"{metric}__w_promoters"]),
                weight_passives=float(sums[f"{metric}__w_passives"]),
                weight_detractors=float(sums[f"{metric}__w_detractors"]),
                weight_squares=float(sums[f"{metric}__w_squares"]),
            )
        else:
            result[metric] = ClassTotals(**counts)
    return result
