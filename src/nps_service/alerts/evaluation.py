"""Evaluating an alert on one interval: the figures of `/v1/scores/compare`, the condition
per group, and the record of it with its events, once per alert and interval.

Figures are exactly those of `GET /v1/scores/compare?from=<start>&to=<end>&
baseline_from=<previous start>&baseline_to=<start>` with the alert's zone, tag filters,
`group_by`, `min_n` and confidence (unweighted): Holm's adjustment runs across the groups
of the evaluation for the alert's metric, and a group with fewer than `min_n` answers in
either interval has null statistics and is never judged.

- `significant_drop`: `delta` < 0 and `p_value_adjusted` < 1 − confidence.
- `below`: the interval's NPS (n ≥ min_n) is below `value`.

The record is inserted with ON CONFLICT DO NOTHING on (alert, interval start) in the
transaction that emits one `alert.triggered` per triggering group: of workers evaluating
the same interval at once, one records it and announces it; the others return its record.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nps_service.alerts.intervals import Window, rfc3339
from nps_service.alerts.models import Alert, AlertEvaluation
from nps_service.alerts.schemas import Bounds, EvaluationOut
from nps_service.db import begin_writing
from nps_service.errors import NotFound
from nps_service.filters import ResponseFilter
from nps_service.rollups import SqlTotals, TotalsEngine
from nps_service.scores.compare import compute_comparison
from nps_service.scores.params import ScoreOptions
from nps_service.scores.service import metric_of
from nps_service.timezones import parse_time_zone
from nps_service.webhooks.outbox import ALERT_TRIGGERED, emit_event

_EVALUATIONS = cast(Table, AlertEvaluation.__table__)
FIGURES = ("n", "nps", "ci_low", "ci_high")
CHANGE = ("delta", "delta_ci_low", "delta_ci_high", "z", "p_value", "p_value_adjusted")


@dataclass(frozen=True)
class AlertSpec:
    """What an evaluation needs of an alert, as plain data (no ORM state to expire)."""

    id: uuid.UUID
    name: str
    metric: str
    filters: dict[str, list[str]]
    group_by: list[str]
    interval: str
    tz: str
    condition: dict[str, Any]
    min_n: int
    last_evaluated_start: datetime | None

    @classmethod
    def of(cls, alert: Alert) -> "AlertSpec":
        return cls(
            alert.id,
            alert.name,
            alert.metric,
            dict(alert.filters),
            list(alert.group_by),
            alert.interval,
            alert.tz,
            dict(alert.condition),
            alert.min_n,
            alert.last_evaluated_start,
        )

    @property
    def confidence(self) -> float:
        """The comparison's level: the condition's for `significant_drop`, else 0.95."""
        return float(self.condition.get("confidence", 0.95))


def judge(
    totals: TotalsEngine, alert: AlertSpec, window: Window
) -> tuple[int, list[dict[str, Any]]]:
    """How many groups were compared, and the event data of each group that triggers
    (without `evaluation_id`), in key order."""
    scope = ResponseFilter(
        start=window.start,
        end=window.end,
        tz=parse_time_zone(alert.tz),
        segments={name: tuple(values) for name, values in alert.filters.items()},
    )
    options = ScoreOptions(
        interval=None,
        group_by=list(alert.group_by),
        weighted=False,
        confidence=alert.confidence,
        min_n=alert.min_n,
        sort="key",
        limit=None,
    )
    result = compute_comparison(totals, scope, (window.baseline_start, window.start), options)
    triggered = []
    for group in result["groups"]:
        figures = metric_of(group, alert.metric)
        if _meets(alert, figures):
            triggered.append(_event_data(alert, window, group["key"], figures))
    return len(result["groups"]), triggered


def _meets(alert: AlertSpec, figures: dict[str, Any]) -> bool:
    condition = alert.condition
    if condition["type"] == "significant_drop":
        delta, adjusted = figures["delta"], figures["p_value_adjusted"]
        return (
            delta is not None
            and adjusted is not None
            and delta < 0
            and adjusted < 1 - float(condition["confidence"])
        )
    current = figures["current"]
    return bool(
        current["nps"] is not None
        and current["n"] >= alert.min_n
        and current["nps"] < float(condition["value"])
    )


def _event_data(
    alert: AlertSpec, window: Window, key: dict[str, Any], figures: dict[str, Any]
) -> dict[str, Any]:
    return {
        "alert_id": str(alert.id),
        "alert_name": alert.name,
        "metric": alert.metric,
        "condition": alert.condition,
        "group": key,
        "interval": {"start": rfc3339(window.start), "end": rfc3339(window.end)},
        "baseline_interval": {
            "start": rfc3339(window.baseline_start),
            "end": rfc3339(window.baseline_end),
        },
        "current": _plain({name: figures["current"][name] for name in FIGURES}),
        "baseline": _plain({name: figures["baseline"][name] for name in FIGURES}),
        **_plain({name: figures[name] for name in CHANGE}),
    }


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready numbers (the statistics may hand back numpy scalars)."""
    return {
        name: value if value is None or isinstance(value, int | float) else float(value)
        for name, value in values.items()
    }


def find_evaluation(
    session: Session, alert_id: uuid.UUID, start: datetime
) -> AlertEvaluation | None:
    statement = select(AlertEvaluation).where(
        AlertEvaluation.alert_id == alert_id, AlertEvaluation.interval_start == start
    )
    return session.scalars(statement).one_or_none()


def evaluate_window(
    session: Session, alert: AlertSpec, window: Window, *, max_groups: int, now: datetime
) -> tuple[EvaluationOut, bool]:
    """Evaluate `window` unless it was (True when this call recorded it); commits.

    The figures are read in one snapshot, then the record and its events are written in a
    transaction of their own that locks the alert (404 if it was deleted meanwhile).
    """
    existing = find_evaluation(session, alert.id, window.start)
    if existing is not None:
        session.rollback()
        return evaluation_out(existing), False
    groups, triggered = judge(SqlTotals(session, max_groups=max_groups), alert, window)
    session.rollback()  # end the read snapshot before writing
    return _record(session, alert.id, window, groups, triggered, now)


def _record(
    session: Session,
    alert_id: uuid.UUID,
    window: Window,
    groups: int,
    triggered: list[dict[str, Any]],
    now: datetime,
) -> tuple[EvaluationOut, bool]:
    begin_writing(session)
    statement = select(Alert).where(Alert.id == alert_id).with_for_update()
    stored = session.scalars(statement.execution_options(populate_existing=True)).one_or_none()
    if stored is None:
        session.rollback()
        raise NotFound(f"no alert with id {alert_id}")
    evaluation_id = uuid.uuid4()
    events = [{**data, "evaluation_id": str(evaluation_id)} for data in triggered]
    row = {
        "id": evaluation_id,
        "alert_id": alert_id,
        "interval_start": window.start,
        "interval_end": window.end,
        "baseline_start": window.baseline_start,
        "baseline_end": window.baseline_end,
        "evaluated_at": now,
        "groups_evaluated": groups,
        "triggered": events,
    }
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = (
        module.insert(_EVALUATIONS)
        .values(row)
        .on_conflict_do_nothing(index_elements=["alert_id", "interval_start"])
        .returning(_EVALUATIONS.c.id)
    )
    if session.execute(insert).first() is None:  # another worker got there first
        session.rollback()
        existing = find_evaluation(session, alert_id, window.start)
        assert existing is not None
        session.rollback()
        return evaluation_out(existing), False
    for data in events:
        emit_event(session, ALERT_TRIGGERED, data)
    if stored.last_evaluated_start is None or stored.last_evaluated_start < window.start:
        stored.last_evaluated_start = window.start
    session.commit()
    return evaluation_out(AlertEvaluation(**row)), True


def evaluation_out(row: AlertEvaluation) -> EvaluationOut:
    return EvaluationOut(
        id=row.id,
        alert_id=row.alert_id,
        interval=Bounds(start=row.interval_start, end=row.interval_end),
        baseline_interval=Bounds(start=row.baseline_start, end=row.baseline_end),
        evaluated_at=row.evaluated_at,
        groups_evaluated=row.groups_evaluated,
        triggered=list(row.triggered),
    )
