"""`/v1/alerts` (scope `admin`): alerts, their evaluation log, evaluation on demand."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Response as HttpResponse

from nps_service.alerts.evaluation import AlertSpec, evaluate_window
from nps_service.alerts.intervals import Window, latest_closed
from nps_service.alerts.schemas import (
    AlertIn,
    AlertOut,
    AlertPage,
    AlertPatch,
    EvaluationOut,
    EvaluationPage,
)
from nps_service.alerts.store import (
    alert_out,
    create_alert,
    delete_alert,
    list_alerts,
    list_evaluations,
    load_alert,
    update_alert,
)
from nps_service.errors import FieldError, InvalidInput
from nps_service.keys.dependencies import AdminKey
from nps_service.timezones import parse_time_bound, parse_time_zone
from nps_service.web.body_limit import require_json
from nps_service.web.openapi import problems
from nps_service.web.pages import PageCursor, PageLimit
from nps_service.web.session import SessionDep, SettingsDep

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.post(
    "",
    name="create",
    status_code=201,
    dependencies=[Depends(require_json)],
    summary="Create an alert",
    responses=problems(400, 401, 403, 413, 415, 422),
)
def create(payload: AlertIn, session: SessionDep, _key: AdminKey) -> AlertOut:
    """Each closed `interval` (local days, or ISO weeks from Monday 00:00, in `tz`) is
    compared with the one before it, per group, with the statistics of
    `/v1/scores/compare`; each group meeting `condition` emits one `alert.triggered`.
    `min_n` (default 30: fewer answers make noise, not news) is the answers a group needs
    in both intervals to be judged."""
    return create_alert(session, payload, datetime.now(UTC))


@router.get("", name="list", summary="Alerts, newest first", responses=problems(401, 403, 422))
def list_(
    session: SessionDep, _key: AdminKey, limit: PageLimit = 100, cursor: PageCursor = None
) -> AlertPage:
    """Every alert rule with its condition, filters and interval, paged with `cursor`."""
    items, next_cursor = list_alerts(session, limit, cursor)
    return AlertPage(items=items, next_cursor=next_cursor)


@router.get("/{alert_id}", name="get", summary="One alert", responses=problems(401, 403, 404, 422))
def get(alert_id: uuid.UUID, session: SessionDep, _key: AdminKey) -> AlertOut:
    """The alert rule with this id."""
    found = alert_out(load_alert(session, alert_id))
    session.rollback()
    return found


@router.patch(
    "/{alert_id}",
    name="update",
    dependencies=[Depends(require_json)],
    summary="Change an alert (any field, `enabled` too)",
    responses=problems(400, 401, 403, 404, 413, 415, 422),
)
def update(
    alert_id: uuid.UUID, payload: AlertPatch, session: SessionDep, _key: AdminKey
) -> AlertOut:
    """The fields given replace the stored ones; intervals evaluated before stay as they
    were evaluated."""
    return update_alert(session, alert_id, payload, datetime.now(UTC))


@router.delete(
    "/{alert_id}",
    name="delete",
    status_code=204,
    summary="Delete an alert and its evaluation log",
    responses=problems(401, 403, 404, 422),
)
def delete(alert_id: uuid.UUID, session: SessionDep, _key: AdminKey) -> HttpResponse:
    """Deletes the rule and its evaluations; webhook events it already emitted stay in the delivery
    log."""
    delete_alert(session, alert_id)
    return HttpResponse(status_code=204)


@router.get(
    "/{alert_id}/events",
    name="events",
    summary="An alert's evaluation log, newest first",
    responses=problems(401, 403, 404, 422),
)
def events(
    alert_id: uuid.UUID,
    session: SessionDep,
    _key: AdminKey,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
) -> EvaluationPage:
    """Every evaluated interval (by the scheduler or on demand), with the groups that
    triggered and the data of the events they emitted."""
    items, next_cursor = list_evaluations(session, alert_id, limit, cursor)
    return EvaluationPage(items=items, next_cursor=next_cursor)


@router.post(
    "/{alert_id}/evaluate",
    name="evaluate",
    status_code=201,
    summary="Evaluate the latest interval that ended at or before `at`",
    responses={
        200: {"description": "That interval was evaluated before", "model": EvaluationOut},
        **problems(401, 403, 404, 422),
    },
)
def evaluate(
    alert_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    _key: AdminKey,
    http: HttpResponse,
    at: Annotated[
        str | None,
        Query(
            description="RFC 3339 (or a date: midnight in the alert's zone); not in the "
            "future; default now."
        ),
    ] = None,
) -> EvaluationOut:
    """201 with a new evaluation (its events emitted); 200 with the stored one when that
    interval was evaluated before (nothing emitted again). Works on disabled alerts too,
    and takes no grace period: for backfills and tests."""
    alert = AlertSpec.of(load_alert(session, alert_id))
    session.rollback()
    now = datetime.now(UTC)
    window = _window(alert, _instant(at, alert.tz, now))
    evaluation, created = evaluate_window(
        session, alert, window, max_groups=settings.max_groups, now=now
    )
    if not created:
        http.status_code = 200
    return evaluation


def _window(alert: AlertSpec, instant: datetime) -> Window:
    try:
        return latest_closed(alert.interval, parse_time_zone(alert.tz), instant)
    except (ValueError, OverflowError) as exc:  # before the year 1 and its baseline
        detail = "too early: the interval and its baseline must start after the year 1"
        raise InvalidInput(
            f"at: {detail}", errors=[FieldError(parameter="at", detail=detail)]
        ) from exc


def _instant(raw: str | None, tz: str, now: datetime) -> datetime:
    if raw is None:
        return now
    try:
        instant = parse_time_bound(raw, parse_time_zone(tz))
    except (ValueError, OverflowError) as exc:
        detail = str(exc)
    else:
        if instant <= now:
            return instant
        detail = "must not be in the future: an interval is evaluated once it has closed"
    raise InvalidInput(f"at: {detail}", errors=[FieldError(parameter="at", detail=detail)])
