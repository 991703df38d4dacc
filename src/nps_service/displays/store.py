"""Storing displays exactly once (idempotent by id, like answers) and declines, each with
its change to the display counts queued for the rollups in the same transaction."""

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nps_service.db import begin_writing
from nps_service.displays.models import DISPLAY_CONTEXT, Display, PendingDisplay
from nps_service.displays.schemas import DeclineIn, DisplayIn, DisplayOut
from nps_service.errors import Conflict, FieldError, InvalidInput, NotFound
from nps_service.responses.schemas import ContextOut
from nps_service.survey import SEGMENT_FIELDS

_DISPLAYS = cast(Table, Display.__table__)
_QUEUE = insert(cast(Table, PendingDisplay.__table__))


def _content_hash(payload: DisplayIn) -> str:
    """What the client sent, without id and shown_at (a retry may omit shown_at)."""
    context = payload.context.model_dump() if payload.context else {}
    canonical = [
        payload.respondent_id,
        payload.where,
        [context.get(name) for name in DISPLAY_CONTEXT],
    ]
    encoded = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def _row(payload: DisplayIn, display_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    context = payload.context.model_dump() if payload.context else {}
    return {
        "id": display_id,
        "respondent_id": payload.respondent_id,
        "touchpoint": payload.where,
        **{name: context.get(name) for name in DISPLAY_CONTEXT},
        "shown_at": payload.shown_at or now,
        "shown_at_given": payload.shown_at is not None,
        "declined_at": None,
        "response_id": None,
        "received_at": now,
        "content_hash": _content_hash(payload),
    }


def queue_change(session: Session, display: Display | dict[str, Any], **change: int) -> None:
    """Queue +1 shown, declined or answered in the slot of the display's shown_at."""
    values = _as_dict(display)
    session.execute(
        _QUEUE,
        {
            "shown_at": values["shown_at"],
            **{name: values[name] for name in SEGMENT_FIELDS},
            "shown": change.get("shown", 0),
            "answered": change.get("answered", 0),
            "declined": change.get("declined", 0),
        },
    )


def create_display(session: Session, payload: DisplayIn, now: datetime) -> tuple[DisplayOut, bool]:
    """Store a new display (201) or recognise a retry (200); 409 for an id reused with
    other content."""
    row = _row(payload, payload.id or uuid.uuid4(), now)
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        module.insert(_DISPLAYS)
        .values(row)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(_DISPLAYS.c.id)
    )
    created = session.execute(statement).first() is not None
    if created:
        queue_change(session, row, shown=1)
        session.commit()
        return display_out(row), True
    stored = session.get(Display, row["id"])
    assert stored is not None  # the conflict was on this id
    same_time = not (stored.shown_at_given and row["shown_at_given"]) or (
        stored.shown_at == row["shown_at"]
    )
    session.rollback()
    if stored.content_hash != row["content_hash"] or not same_time:
        raise Conflict(
            "id already used for a different display",
            errors=[FieldError(pointer="/id", detail="id already used for different content")],
        )
    return display_out(stored), False


def decline_display(
    session: Session, display_id: uuid.UUID, payload: DeclineIn | None, now: datetime
) -> DisplayOut:
    """Mark a display declined; repeating it changes nothing; 409 once it is answered."""
    begin_writing(session)
    display = session.get(Display, display_id, with_for_update=True)
    if display is None:
        raise NotFound(f"no display with id {display_id}")
    if display.response_id is not None:
        session.rollback()
        raise Conflict(f"display {display_id} was answered (response {display.response_id})")
    if display.declined_at is None:
        declined_at = payload.declined_at if payload and payload.declined_at else now
        if declined_at < display.shown_at:
            session.rollback()
            raise InvalidInput(
                "declined_at is before the display's shown_at",
                errors=[FieldError(pointer="/declined_at", detail="must not be before shown_at")],
            )
        display.declined_at = declined_at
        queue_change(session, display, declined=1)
        session.commit()
    return display_out(display)


def get_display(session: Session, display_id: uuid.UUID) -> DisplayOut:
    display = session.get(Display, display_id)
    if display is None:
        raise NotFound(f"no display with id {display_id}")
    return display_out(display)


def _as_dict(display: Display | dict[str, Any]) -> dict[str, Any]:
    if isinstance(display, dict):
        return display
    return {column.name: getattr(display, column.name) for column in _DISPLAYS.columns}


def display_out(display: Display | dict[str, Any]) -> DisplayOut:
    values = _as_dict(display)
    return DisplayOut(
        id=values["id"],
        respondent_id=values["respondent_id"],
        touchpoint=values["touchpoint"],
        context=ContextOut(
            **{name: values[name] for name in DISPLAY_CONTEXT}, touchpoint=values["touchpoint"]
        ),
        shown_at=values["shown_at"],
        declined_at=values["declined_at"],
        response_id=values["response_id"],
        received_at=values["received_at"],
    )
