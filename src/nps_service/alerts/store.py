"""Alerts stored, read, changed and deleted; their evaluation log in pages."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from nps_service.alerts.evaluation import evaluation_out
from nps_service.alerts.models import Alert, AlertEvaluation
from nps_service.alerts.schemas import AlertIn, AlertOut, AlertPatch, EvaluationOut
from nps_service.db import begin_writing
from nps_service.errors import NotFound
from nps_service.web.pages import decode_uuid_position, encode_position


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut.model_validate(
        {
            "id": alert.id,
            "name": alert.name,
            "metric": alert.metric,
            "filters": alert.filters,
            "group_by": alert.group_by,
            "interval": alert.interval,
            "tz": alert.tz,
            "condition": alert.condition,
            "min_n": alert.min_n,
            "enabled": alert.enabled,
            "created_at": alert.created_at,
            "updated_at": alert.updated_at,
            "last_evaluated_start": alert.last_evaluated_start,
        }
    )


def _columns(payload: AlertIn | AlertPatch, fields: set[str]) -> dict[str, Any]:
    """The stored form of the given fields (the condition with its defaults filled in)."""
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(payload, name)
        if name == "condition":
            value = value.model_dump()
        elif name in ("filters", "group_by") and value is None:
            value = {} if name == "filters" else []
        values[name] = value
    return values


def create_alert(session: Session, payload: AlertIn, now: datetime) -> AlertOut:
    alert = Alert(
        id=uuid.uuid4(),
        created_at=now,
        updated_at=now,
        last_evaluated_start=None,
        **_columns(payload, set(AlertIn.model_fields)),
    )
    session.add(alert)
    session.commit()
    return alert_out(alert)


def load_alert(session: Session, alert_id: uuid.UUID) -> Alert:
    """The stored alert, or 404."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert with id {alert_id}")
    return alert


def update_alert(
    session: Session, alert_id: uuid.UUID, payload: AlertPatch, now: datetime
) -> AlertOut:
    """The given fields replace the stored ones; past evaluations stay as they were."""
    begin_writing(session)
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        session.rollback()
        raise NotFound(f"no alert with id {alert_id}")
    for name, value in _columns(payload, payload.model_fields_set).items():
        setattr(alert, name, value)
    alert.updated_at = now
    session.commit()
    return alert_out(alert)


def delete_alert(session: Session, alert_id: uuid.UUID) -> None:
    """The alert and its evaluation log (events already emitted stay in the outbox)."""
    begin_writing(session)
    deleted = session.execute(delete(Alert).where(Alert.id == alert_id).returning(Alert.id))
    if deleted.first() is None:
        session.rollback()
        raise NotFound(f"no alert with id {alert_id}")
    session.execute(delete(AlertEvaluation).where(AlertEvaluation.alert_id == alert_id))
    session.commit()


def list_alerts(
    session: Session, limit: int, cursor: str | None
) -> tuple[list[AlertOut], str | None]:
    """Newest first, keyset-paginated on (created_at, id)."""
    statement = select(Alert)
    if cursor:
        after_time, after_id = decode_uuid_position(cursor)
        statement = statement.where(
            or_(
                Alert.created_at < after_time,
                and_(Alert.created_at == after_time, Alert.id < after_id),
            )
        )
    statement = statement.order_by(Alert.created_at.desc(), Alert.id.desc())
    rows = list(session.scalars(statement.limit(limit + 1)))
    session.rollback()
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_position(page[-1].created_at, str(page[-1].id)) if more else None
    return [alert_out(row) for row in page], next_cursor


def list_evaluations(
    session: Session, alert_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[EvaluationOut], str | None]:
    """An alert's evaluation log, newest evaluation first, keyset-paginated on
    (evaluated_at, id); 404 for an unknown alert."""
    load_alert(session, alert_id)
    statement = select(AlertEvaluation).where(AlertEvaluation.alert_id == alert_id)
    if cursor:
        after_time, after_id = decode_uuid_position(cursor)
        statement = statement.where(
            or_(
                AlertEvaluation.evaluated_at < after_time,
                and_(AlertEvaluation.evaluated_at == after_time, AlertEvaluation.id < after_id),
            )
        )
    statement = statement.order_by(AlertEvaluation.evaluated_at.desc(), AlertEvaluation.id.desc())
    rows = list(session.scalars(statement.limit(limit + 1)))
    session.rollback()
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_position(page[-1].evaluated_at, str(page[-1].id)) if more else None
    return [evaluation_out(row) for row in page], next_cursor
