"""`SqlTotals`: the totals of a query from rollups where they answer exactly, in the database.

A query goes to the smallest grain holding every filtered and grouped field; its range is
cut per bucket into the cheapest cover by rollup slots (`plan`), and the sources (slots,
the pending tail in those slots, raw answers where no slot fits) are added up per group by
the database in one `UNION ALL` + `GROUP BY`, inside one snapshot. Queries no grain can
answer (two tags at once, property filters) are one grouped scan of the answers.
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from nps_service.db import as_utc_instant
from nps_service.errors import TooManyGroups
from nps_service.filters import MERCHANT_LIMIT, ResponseFilter, limited_to_merchants
from nps_service.responses.filtering import bounded_time
from nps_service.responses.models import Response
from nps_service.rollups.buckets import as_date, bucket_starts
from nps_service.rollups.display_sources import pending_displays, raw_displays, slot_displays
from nps_service.rollups.grains import LONGEST_SLOT, choose_grain
from nps_service.rollups.moments import moment_sums
from nps_service.rollups.plan import plan
from nps_service.rollups.snapshot import enter_snapshot
from nps_service.rollups.sources import (
    Shape,
    pending_statement,
    raw_statement,
    rollup_statements,
)
from nps_service.rollups.totals import GroupKey, GroupTotals, TotalsQuery, class_sum_labels


class SqlTotals:
    """The `TotalsEngine` over PostgreSQL or SQLite, reading through one request's session."""

    def __init__(
        self, session: Session, *, use_rollups: bool = True, max_groups: int | None = None
    ) -> None:
        self._session = session
        # False: always scan the answers (tests compare both paths).
        self._use_rollups = use_rollups
        # A grouped result with more groups is refused before any of it is built.
        self._max_groups = max_groups

    def group_totals(self, query: TotalsQuery) -> GroupTotals:
        """The sums of every (bucket, group fields) combination that has answers."""
        session = self._session
        # A merchant-limited key reads its merchants only, whatever the route asked.
        scope = limited_to_merchants(query.scope, session.info.get(MERCHANT_LIMIT))
        enter_snapshot(session)
        shape = Shape(
            _within_answer_time(scope),
            query.interval,
            list(query.group_by),
            query.weighted,
            query.moments,
            session.get_bind().dialect.name,
            displays=query.displays,
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
            totals = self._merge([raw_statement(shape, None)], shape)
            if shape.displays and not scope.properties:
                counted = self._merge_rows([raw_displays(shape, None)], shape)
                totals = replace(totals, displays=_aligned(totals, counted, shape))
            return totals
        boundaries = bucket_starts(interval, scope.tz, *span) if interval and span else []
        pieces = plan(grain, scope.start, scope.end, boundaries)
        sliced = [p for p in pieces if p.level is not None]
        raw = [p for p in pieces if p.level is None]
        statements, display_statements = [], []
        if sliced:
            statements += [
                *rollup_statements(shape, grain, sliced),
                pending_statement(shape, sliced),
            ]
            display_statements += [
                *slot_displays(shape, grain, sliced),
                pending_displays(shape, sliced),
            ]
        if raw:
            statements.append(raw_statement(shape, raw))
            display_statements.append(raw_displays(shape, raw))
        totals = self._merge(statements, shape)
        if shape.displays:
            counted = self._merge_rows(display_statements, shape)
            totals = replace(totals, displays=_aligned(totals, counted, shape))
        return totals

    def _span(self, scope: ResponseFilter) -> tuple[datetime, datetime] | None:
        """Where buckets need zone offsets and boundaries: the query's range within the
        first and last answer stored (two index probes, whatever the filters), in whole
        UTC days, widened by the longest slot (slots start before their first answer)."""
        first, last = self._session.execute(
            select(func.min(Response.submitted_at), func.max(Response.submitted_at))
        ).one()
        if first is None:
            return None
        start, end = as_utc_instant(first), as_utc_instant(last)
        assert start is not None
        assert end is not None
        if scope.start is not None:
            start = max(start, scope.start)
        if scope.end is not None:
            end = min(end, scope.end)
        day = timedelta(days=1)
        start = floor_to_day(start - LONGEST_SLOT)
        return start, floor_to_day(max(end, start) + LONGEST_SLOT) + day

    def _merge(self, statements: list[Select[Any]], shape: Shape) -> GroupTotals:
        """The sources' sums added up per group, as typed columns."""
        return _totals_of(list(self._merge_rows(statements, shape).values()), shape)

    def _merge_rows(
        self, statements: list[Select[Any]], shape: Shape
    ) -> dict[tuple[Any, ...], list[Any]]:
        """Run each source (in the request's snapshot) and add their rows up per group.

        The sources rarely share many groups (a 90-day series: 1,890 from rollup slots,
        a few from the pending tail), so adding in Python beats a UNION ALL and an outer
        GROUP BY over every group in the database (10 of a query's 20 ms there).
        """
        grouped_query = bool(shape.key_names)
        width = len(shape.key_names)
        limit = self._max_groups if grouped_query else None
        connection = self._session.connection()
        merged: dict[tuple[Any, ...], list[Any]] = {}
        for statement in statements:
            if limit is not None:
                statement = statement.limit(limit + 1)
            result = connection.execute(statement)
            # The driver's plain tuples: no result-row objects for thousands of groups.
            rows = result.cursor.fetchall() if result.cursor is not None else []
            result.close()
            for row in rows:
                key = tuple(row[:width])
                found = merged.get(key)
                if found is None:
                    merged[key] = list(row)
                else:
                    for index in range(width, len(row)):
                        found[index] = _plus(found[index], row[index])
            if limit is not None and len(merged) > limit:
                raise TooManyGroups(
                    f"more than {limit} groups (NPS_MAX_GROUPS); narrow from/to, add "
                    "filters, use a longer interval or group by fewer fields"
                )
        return merged


def _aligned(
    totals: GroupTotals, counted: dict[tuple[Any, ...], list[Any]], shape: Shape
) -> npt.NDArray[np.int64]:
    """Display counts in the order of the answers' groups (0 where none was shown)."""
    width = len(shape.key_names)
    by_key: dict[tuple[Any, ...], list[Any]] = {}
    for raw, row in counted.items():
        named = (_bucket_names([raw[0]])[0], *raw[1:]) if shape.interval else raw
        by_key[named] = row[width:]
    table = np.zeros((len(totals), 3), dtype=np.int64)
    names = shape.key_names
    for index, group in enumerate(totals.keys):
        found = by_key.get(tuple(group[name] for name in names))
        if found is not None:
            table[index] = [int(value or 0) for value in found]
    return table


def _plus(a: Any, b: Any) -> Any:
    """Sums of two sources (NULL: a source had no answer for that sum)."""
    return b if a is None else a if b is None else a + b


def _totals_of(rows: Sequence[Any], shape: Shape) -> GroupTotals:
    """The database's rows as typed columns (a query's thousands of groups at numpy speed)."""
    names = shape.key_names
    classes = len(class_sum_labels(shape.weighted))
    if not rows:
        if names:
            return GroupTotals.empty(shape.weighted)
        moments = [dict.fromkeys(_moment_names(shape), 0)] if shape.moments else None
        return GroupTotals.from_rows([{}], [[0] * classes], shape.weighted, moments)
    table = np.array(rows, dtype=object)
    sums = table[:, len(names) :]
    sums[sums == None] = 0  # noqa: E711 - elementwise: SUM over no row is NULL
    class_sums = sums[:, :classes].astype(np.float64 if shape.weighted else np.int64)
    if names:  # defensive: a group exists only where some answer is
        answered = np.abs(class_sums).sum(axis=1) > 0
        table, sums, class_sums = table[answered], sums[answered], class_sums[answered]
    columns = [table[:, index].tolist() for index in range(len(names))]
    if shape.interval is not None:
        columns[0] = _bucket_names(columns[0])
    keys: list[GroupKey] = (
        [dict(zip(names, key, strict=True)) for key in zip(*columns, strict=True)]
        if names
        else [{} for _ in range(len(table))]
    )
    moments = None
    if shape.moments:
        names_of_moments = _moment_names(shape)
        moments = [dict(zip(names_of_moments, row, strict=True)) for row in sums[:, classes:]]
    return GroupTotals.from_rows(keys, class_sums, shape.weighted, moments)


def _moment_names(shape: Shape) -> list[str]:
    return [moment.name for moment in moment_sums(shape.weighted)]


def _bucket_names(buckets: list[Any]) -> list[str]:
    """Local dates as YYYY-MM-DD (PostgreSQL gives dates, SQLite text); once per date."""
    named: dict[Any, str] = {}
    return [named.get(b) or named.setdefault(b, as_date(b).isoformat()) for b in buckets]


# No answer is older than 1970 (ingest refuses it) or far in the future, so bounds beyond
# these change nothing and are dropped; the plan's calendar arithmetic near the year 1 or
# 9999 would overflow.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC) - 2 * LONGEST_SLOT
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _within_answer_time(scope: ResponseFilter) -> ResponseFilter:
    start = scope.start if scope.start is not None and scope.start > _EARLIEST else None
    end = scope.end if scope.end is not None and scope.end < _LATEST else None
    if (start, end) == (scope.start, scope.end):
        return scope
    return replace(scope, start=start, end=end)


def floor_to_day(instant: datetime) -> datetime:
    """Midnight UTC of the instant's day (spans in whole days repeat, and cache)."""
    return instant.replace(hour=0, minute=0, second=0, microsecond=0)
