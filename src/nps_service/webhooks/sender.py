"""Sending due deliveries, signed per Standard Webhooks, at least once.

A sender leases the deliveries it takes (attempts + 1, `leased_until`) in one statement
that skips rows other processes hold, so one attempt at a time runs per delivery across
workers; a worker killed mid-attempt leaves its lease to expire, and then any worker sends
again with the same `webhook-id`. Outcomes are written only while the lease is still ours.
"""

import logging
import typing
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Table, or_, select, update
from sqlalchemy.engine import Engine
from standardwebhooks.webhooks import Webhook

from nps_service.webhooks.models import Delivery, WebhookEndpoint
from nps_service.webhooks.targets import TargetRefused, check_target

logger = logging.getLogger("nps_service.webhooks")
SEND_BATCH = 100
_DELIVERIES = typing.cast(Table, Delivery.__table__)
_ENDPOINTS = typing.cast(Table, WebhookEndpoint.__table__)


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    endpoint_id: uuid.UUID
    url: str
    secret: str
    body: str
    attempts: int  # this one included
    lease: datetime


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim(engine: Engine, lease_seconds: float, batch: int = SEND_BATCH) -> list[Attempt]:
    """Lease up to `batch` due deliveries of enabled endpoints, oldest due first."""
    now = datetime.now(UTC)
    lease = now + timedelta(seconds=lease_seconds)
    d, e = _DELIVERIES.c, _ENDPOINTS.c
    due = (
        select(d.id)
        .join(_ENDPOINTS, e.id == d.endpoint_id)
        .where(
            d.status == "pending",
            d.next_attempt_at <= now,
            or_(d.leased_until.is_(None), d.leased_until < now),
            e.enabled,
        )
        .order_by(d.next_attempt_at)
        .limit(batch)
    )
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        due = due.with_for_update(of=_DELIVERIES, skip_locked=True)
    statement = (
        update(_DELIVERIES)
        .where(d.id.in_(due))
        .values(attempts=d.attempts + 1, leased_until=lease, last_attempt_at=now)
        .returning(d.id, d.endpoint_id, d.body, d.attempts)
    )
    options = {} if postgres else {"sqlite_begin": "IMMEDIATE"}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        claimed = connection.execute(statement).all()
        if not claimed:
            return []
        ids = {row.endpoint_id for row in claimed}
        targets = {
            row.id: (row.url, row.secret)
            for row in connection.execute(select(e.id, e.url, e.secret).where(e.id.in_(ids)))
        }
    return [
        Attempt(row.id, row.endpoint_id, *targets[row.endpoint_id], row.body, row.attempts, lease)
        for row in claimed
    ]


def attempt(client: httpx.Client, item: Attempt, allow_private: bool) -> Outcome:
    """One signed POST; never raises."""
    try:
        check_target(item.url, allow_private)
        now = datetime.now(UTC)
        signature = Webhook(item.secret).sign(item.delivery_id, now, item.body)
        reply = client.post(
            item.url,
            content=item.body.encode(),
            headers={
                "content-type": "application/json",
                "user-agent": "nps-service-webhooks/1",
                "webhook-id": item.delivery_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signature,
            },
        )
        reply.close()
        return Outcome(reply.status_code, None if reply.is_success else f"HTTP {reply.status_code}")
    except TargetRefused as exc:
        return Outcome(None, f"refused: {exc}")
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:500])


def record(engine: Engine, item: Attempt, outcome: Outcome, schedule: Sequence[float]) -> None:
    """Write an attempt's outcome: succeeded; failed for good (410 also disables the
    endpoint); or pending again after the schedule's wait for this attempt."""
    now = datetime.now(UTC)
    d = _DELIVERIES.c
    values: dict[str, object] = {
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "leased_until": None,
    }
    gone = outcome.status_code == 410
    if outcome.succeeded:
        values |= {"status": "succeeded", "next_attempt_at": None}
    elif gone or item.attempts > len(schedule):
        values |= {"status": "failed", "next_attempt_at": None}
    else:
        wait = timedelta(seconds=schedule[item.attempts - 1])
        values |= {"status": "pending", "next_attempt_at": now + wait}
    with engine.begin() as connection:
        written = connection.execute(
            update(_DELIVERIES)
            .where(d.id == item.delivery_id, d.leased_until == item.lease)
            .values(**values)
        )
        if gone and written.rowcount:
            connection.execute(
                update(_ENDPOINTS)
                .where(_ENDPOINTS.c.id == item.endpoint_id)
                .values(
                    enabled=False,
                    disabled_reason=f"the receiver answered 410 Gone at {now.isoformat()}",
                    updated_at=now,
                )
            )
            logger.warning("webhook %s disabled: its receiver answered 410", item.endpoint_id)


def send_due(
    engine: Engine,
    pool: ThreadPoolExecutor,
    client: httpx.Client,
    *,
    timeout: float,
    schedule: Sequence[float],
    allow_private: bool,
    batch: int = SEND_BATCH,
) -> int:
    """Send one batch of due deliveries (concurrently, as many as the pool has threads);
    how many were attempted."""
    # The lease outlives an attempt's timeout by a margin, so it only lapses when the
    # process holding it died.
    items = claim(engine, lease_seconds=timeout * 2 + 5, batch=batch)

    def one(item: Attempt) -> None:
        record(engine, item, attempt(client, item, allow_private), schedule)

    for _ in pool.map(one, items):
        pass
    return len(items)
