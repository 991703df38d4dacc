"""Turning outbox events into deliveries: one per event and endpoint that wants it.

One transaction reads a batch of outbox rows (skipping rows another process is fanning
out), writes their deliveries and deletes them: an event is fanned out exactly once,
whichever worker does it, and a crash in between leaves it in the outbox.
"""

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from nps_service.db import begin_writing
from nps_service.responses.models import Response
from nps_service.responses.rows import to_out
from nps_service.webhooks.models import RESPONSE_EVENT, Delivery, OutboxEvent, WebhookEndpoint
from nps_service.webhooks.outbox import RESPONSE_CREATED, RESPONSE_DETRACTOR

FAN_OUT_BATCH = 1000


def _event_body(event_type: str, at: datetime, data: dict[str, Any]) -> str:
    """`{"type", "timestamp", "data"}`, the exact text that is signed and sent."""
    stamp = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {"type": event_type, "timestamp": stamp, "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _matches(endpoint: WebhookEndpoint, tags: dict[str, Any]) -> bool:
    return all(tags.get(tag) in values for tag, values in endpoint.filters.items())


def _events_of(
    row: OutboxEvent, answers: dict[uuid.UUID, Response]
) -> Iterable[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(type, data, tags) of each event an outbox row stands for."""
    if row.kind != RESPONSE_EVENT:
        yield row.kind, row.payload or {}, {}
        return
    answer = answers.get(row.response_id) if row.response_id else None
    if answer is None:  # erased since: nothing to announce
        return
    data = to_out(answer).model_dump(mode="json")
    tags = data["context"]
    yield RESPONSE_CREATED, data, tags
    if answer.score <= 6:
        yield RESPONSE_DETRACTOR, data, tags


def fan_out(session: Session, batch: int = FAN_OUT_BATCH) -> int:
    """Fan out up to `batch` outbox events and commit; how many events were taken."""
    begin_writing(session)
    rows = list(
        session.scalars(
            select(OutboxEvent)
            .order_by(OutboxEvent.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    if not rows:
        session.rollback()
        return 0
    endpoints = list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled)))
    wanted = {event for endpoint in endpoints for event in endpoint.events}
    answer_ids = [r.response_id for r in rows if r.kind == RESPONSE_EVENT and r.response_id]
    answers: dict[uuid.UUID, Response] = {}
    if answer_ids and wanted & {RESPONSE_CREATED, RESPONSE_DETRACTOR}:
        found = session.scalars(select(Response).where(Response.id.in_(answer_ids)))
        answers = {answer.id: answer for answer in found}
    now = datetime.now(UTC)
    deliveries = []
    for row in rows:
        if not wanted:
            break
        for event_type, data, tags in _events_of(row, answers):
            body = _event_body(event_type, row.created_at, data)
            for endpoint in endpoints:
                if event_type in endpoint.events and (not tags or _matches(endpoint, tags)):
                    deliveries.append(
                        {
                            "id": f"msg_{uuid.uuid4().hex}",
                            "endpoint_id": endpoint.id,
                            "response_id": row.response_id,
                            "event": event_type,
                            "body": body,
                            "status": "pending",
                            "attempts": 0,
                            "created_at": now,
                            "next_attempt_at": now,
                        }
                    )
    if deliveries:
        session.execute(insert(Delivery), deliveries)
    session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_([r.id for r in rows])))
    session.commit()
    return len(rows)
