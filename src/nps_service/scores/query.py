"""One grouped SQL query that returns additive class totals per group and metric."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from nps_service.filters import ResponseFilter
from nps_service.responses.models import DIMENSIONS, Response
from nps_service.scores.buckets import Interval, as_date, bucket_expr
from nps_service.scores.stats import ClassTotals

METRICS = ("overall", *DIMENSIONS)
_METRIC_COLUMNS = {"overall": Response.score, **{d: getattr(Response, d) for d in DIMENSIONS}}


@dataclass(frozen=True)
class GroupTotals:
    """Key fields and per-metric totals of one group."""

    key: dict[str, Any]
    metrics: dict[str, ClassTotals]


def _aggregates(weighted: bool) -> list[ColumnElement[Any]]:
    columns: list[ColumnElement[Any]] = []
    for name, column in _METRIC_COLUMNS.items():
        classes = {
            "promoters": column >= 9,
            "passives": column.between(7, 8),
            "detractors": column <= 6,
        }
        for label, condition in classes.items():
            columns.append(func.count().filter(condition).label(f"{name}__{label}"))
        if weighted:
            for label, condition in classes.items():
                columns.append(
                    func.sum(Response.weight).filter(condition).label(f"{name}__w_{label}")
                )
            columns.append(
                func.sum(Response.weight * Response.weight)
                .filter(column.is_not(None))
                .label(f"{name}__w_squares")
            )
    return columns


def _span(session: Session, scope: ResponseFilter) -> tuple[datetime, datetime] | None:
    """The first and last submitted_at in scope: buckets need the zone's offsets there."""
    first, last = session.execute(
        select(func.min(Response.submitted_at), func.max(Response.submitted_at)).where(
            *scope.where()
        )
    ).one()
    if first is None:
        return None
    return _as_datetime(first), _as_datetime(last)


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
) -> list[GroupTotals]:
    """Class totals for every (bucket, group fields) combination that has responses."""
    keys: list[ColumnElement[Any]] = []
    if interval is not None:
        span = _span(session, scope)
        if span is None:
            return []
        dialect = session.get_bind().dialect.name
        keys.append(bucket_expr(dialect, interval, scope.tz, *span).label("bucket"))
    keys.extend(getattr(Response, name).label(name) for name in group_by)
    statement: Select[Any] = select(*keys, *_aggregates(weighted)).where(*scope.where())
    if keys:
        statement = statement.group_by(*keys)
    results = []
    for row in session.execute(statement).mappings():
        key: dict[str, Any] = {}
        if interval is not None:
            key["bucket"] = as_date(row["bucket"]).isoformat()
        key.update({name: row[name] for name in group_by})
        results.append(GroupTotals(key, {name: _totals(row, name, weighted) for name in METRICS}))
    return results


def _totals(row: Any, metric: str, weighted: bool) -> ClassTotals:
    counts = {
        label: int(row[f"{metric}__{label}"] or 0)
        for label in ("promoters", "passives", "detractors")
    }
    if not weighted:
        return ClassTotals(**counts)
    return ClassTotals(
        **counts,
        weight_promoters=float(row[f"{metric}__w_promoters"] or 0.0),
        weight_passives=float(row[f"{metric}__w_passives"] or 0.0),
        weight_detractors=float(row[f"{metric}__w_detractors"] or 0.0),
        weight_squares=float(row[f"{metric}__w_squares"] or 0.0),
    )
