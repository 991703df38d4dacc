"""`SqlTotals`: the totals of a query from rollups where they answer exactly, in the database.

A query goes to the smallest grain holding every filtered and grouped field; its range is
cut per bucket into the cheapest cover by rollup slots (`plan`), and the sources (slots,
the pending tail in those slots, raw answers where no slot fits) are added up per group by
the database in one `UNION ALL` + `GROUP BY`, inside one snapshot. Queries no grain can
answer (two tags at once, property filters) are one grouped scan of the answers.
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, union_all
from sqlalchemy.orm import Session

from nps_service.filters import ResponseFilter
from nps_service.responses.filtering import bounded_time, filter_conditions
from nps_service.responses.models import Response
from nps_service.rollups.buckets import as_date, bucket_starts
from nps_service.rollups.grains import LONGEST_SLOT, choose_grain
from nps_service.rollups.moments import moment_sums
from nps_service.rollups.plan import plan
from nps_service.rollups.snapshot import enter_snapshot
from nps_service.rollups.sources import (
    Shape,
    grouped,
    pending_statement,
    raw_statement,
    rollup_statements,
    sum_labels,
    summed,
)
from nps_service.rollups.totals import GroupKey, GroupTotals, TotalsQuery, class_sum_labels


class SqlTotals:
    """The `TotalsEngine` over PostgreSQL or SQLite, reading through one request's session."""

    def __init__(self, session: Session, *, use_rollups: bool = True) -> None:
        self._session = session
        # False: always scan the answers (tests compare both paths).
        self._use_rollups = use_rollups

    def group_totals(self, query: TotalsQuery) -> GroupTotals:
        """The sums of every (bucket, group fields) combination that has answers."""
        session = self._session
        enter_snapshot(session)
        shape = Shape(
            query.scope,
            query.interval,
            list(query.group_by),
            query.weighted,
            query.moments,
            session.get_bind().dialect.name,
        )
        with bounded_time(session, bool(query.scope.properties)):
            return self._totals(shape)

    def _totals(self, shape: Shape) -> GroupTotals:
        scope, interval = shape.scope, shape.interval
        span = None
        if interval is not None:
            span = self._span(scope)
            if span is None:
                return GroupTotals.empty(shape.weighted)
            shape = replace(shape, span=span)
        # Rollups keep no properties: property filters are answered from the answers.
        grain = None
        if self._use_rollups and not scope.properties:
            grain = choose_grain({*scope.segments, *shape.group_by})
        if grain is None:
            return self._merge([raw_statement(shape, None)], shape)
        boundaries = bucket_starts(interval, scope.tz, *span) if interval and span else []
        pieces = plan(grain, scope.start, scope.end, boundaries)
        sliced = [p for p in pieces if p.level is not None]
        raw = [p for p in pieces if p.level is None]
        statements = []
        if sliced:
            statements += [
                *rollup_statements(shape, grain, sliced),
                pending_statement(shape, sliced),
            ]
        if raw:
            statements.append(raw_statement(shape, raw))
        return self._merge(statements, shape)

    def _span(self, scope: ResponseFilter) -> tuple[datetime, datetime] | None:
        """Around the first and last submitted_at in scope: where buckets need zone offsets."""
        first, last = self._session.execute(
            select(func.min(Response.submitted_at), func.max(Response.submitted_at)).where(
                *filter_conditions(scope)
            )
        ).one()
        if first is None:
            return None
        # Widened by the longest slot: rollup slots start before the first answer in them,
        # and their bucket, offset and boundaries must be right too.
        return _as_datetime(first) - LONGEST_SLOT, _as_datetime(last) + LONGEST_SLOT

    def _merge(self, statements: list[Select[Any]], shape: Shape) -> GroupTotals:
        """Add up the sources' rows per group in the database: one result row per group."""
        labels = sum_labels(shape.weighted, shape.moments)
        names = shape.key_names
        if len(statements) == 1:
            merged = statements[0]
        else:
            sources = union_all(*statements).subquery()
            keys: list[ColumnElement[Any]] = [sources.c[name] for name in names]
            sums = (summed(sources.c[label], label) for label in labels)
            merged = grouped(select(*keys, *sums), keys)
        # Core rows (plain tuples), not ORM rows: thousands of groups come back.
        rows = self._session.connection().execute(merged).all()
        return _totals_of(rows, shape)


def _totals_of(rows: Sequence[Any], shape: Shape) -> GroupTotals:
    names = shape.key_names
    width = len(names)
    classes = len(class_sum_labels(shape.weighted))
    moment_names = [moment.name for moment in moment_sums(shape.weighted)]
    grouped_query = bool(names)
    keys: list[GroupKey] = []
    sums: list[list[Any]] = []
    moments: list[Mapping[str, int | float]] = []
    for row in rows:
        values = [value or 0 for value in row[width:]]
        if grouped_query and not any(values):
            continue  # defensive: a group exists only where some answer is
        key = dict(zip(names, row[:width], strict=True))
        if shape.interval is not None:
            key["bucket"] = as_date(key["bucket"]).isoformat()
        keys.append(key)
        sums.append(values[:classes])
        if shape.moments:
            moments.append(dict(zip(moment_names, values[classes:], strict=True)))
    if not keys and not grouped_query:
        keys.append({})
        sums.append([0] * classes)
        if shape.moments:
            moments.append(dict.fromkeys(moment_names, 0))
    return GroupTotals.from_rows(keys, sums, shape.weighted, moments)


def _as_datetime(value: datetime | str) -> datetime:
    """min()/max() lose the column type on SQLite and come back as naive UTC text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
