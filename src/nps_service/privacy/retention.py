"""Retention (NPS_RETENTION_DAYS): old answers and displays lose their personal fields.

Answers submitted, and displays shown, more than `days` ago keep their scores, ratings,
tags (but `order_id`), weight and times; `respondent_id`, `comment`, `properties` and
`order_id` become NULL. Scores are unchanged: the rollups never held those fields. Delivered
webhook payloads of that age (they carry the answers) are deleted from the delivery log.
Batches of 5,000 rows, each its own short transaction, so writers never wait long; on
PostgreSQL one process at a time (an advisory lock), and running twice changes nothing.
"""

import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, insert, null, or_, select, text, update
from sqlalchemy.engine import Engine

from nps_service.config import Settings
from nps_service.db import database_trouble
from nps_service.displays.models import Display
from nps_service.logs import SparseLog
from nps_service.privacy.models import AuditEntry
from nps_service.responses.models import Response
from nps_service.webhooks.models import Delivery

logger = logging.getLogger("nps_service.privacy")
RETENTION_LOCK_KEY = 7_412_290_115
BATCH = 5_000
APPLIED = "retention.applied"


def apply_retention(engine: Engine, days: int, now: datetime | None = None) -> dict[str, int]:
    """Remove personal fields older than `days`; what was changed (and log it, if any)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            if not connection.scalar(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": RETENTION_LOCK_KEY}
            ):
                return {}
            connection.commit()
        try:
            counts = {
                "responses": _batches(connection, _old_answers(cutoff), _clear_answers),
                "displays": _batches(connection, _old_displays(cutoff), _clear_displays),
            }
            with connection.begin():
                counts["deliveries"] = connection.execute(
                    delete(Delivery).where(
                        Delivery.created_at < cutoff, Delivery.status != "pending"
                    )
                ).rowcount
                if any(counts.values()):
                    details: dict[str, Any] = {**counts, "days": days, "before": cutoff.isoformat()}
                    connection.execute(
                        insert(AuditEntry).values(
                            id=uuid.uuid4(),
                            at=datetime.now(UTC),
                            action=APPLIED,
                            key_id=None,
                            details=details,
                        )
                    )
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": RETENTION_LOCK_KEY})
                connection.commit()
    return counts


def _old_answers(cutoff: datetime) -> Any:
    personal = or_(
        Response.respondent_id.is_not(None),
        Response.comment.is_not(None),
        Response.properties.is_not(None),
        Response.order_id.is_not(None),
    )
    return select(Response.id).where(Response.submitted_at < cutoff, personal).limit(BATCH)


def _clear_answers(ids: list[Any]) -> Any:
    return (
        update(Response)
        .where(Response.id.in_(ids))
        # SQL NULL, not JSON null: the next run's IS NOT NULL must not find it again.
        .values(respondent_id=None, comment=None, properties=null(), order_id=None)
    )


def _old_displays(cutoff: datetime) -> Any:
    personal = or_(Display.respondent_id.is_not(None), Display.order_id.is_not(None))
    return select(Display.id).where(and_(Display.shown_at < cutoff, personal)).limit(BATCH)


def _clear_displays(ids: list[Any]) -> Any:
    return update(Display).where(Display.id.in_(ids)).values(respondent_id=None, order_id=None)


def _batches(connection: Any, find: Any, clear: Any) -> int:
    total = 0
    while True:
        with connection.begin():
            ids = list(connection.scalars(find))
            if ids:
                connection.execute(clear(ids).execution_options(synchronize_session=False))
        total += len(ids)
        if len(ids) < BATCH:
            return total


class RetentionJob:
    """A daemon thread applying retention every `retention_interval_seconds`."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)
        self._sparse = SparseLog(logger, seconds=600)

    @property
    def enabled(self) -> bool:
        return (
            self._settings.retention_days is not None
            and self._settings.retention_interval_seconds > 0
        )

    def start(self) -> None:
        if self.enabled:
            self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(timeout=30)

    def _run(self) -> None:
        days = self._settings.retention_days
        assert days is not None
        while not self._stop.wait(self._settings.retention_interval_seconds):
            try:
                counts = apply_retention(self._engine, days)
                if any(counts.values()):
                    logger.info("retention removed personal fields: %s", counts)
            except Exception as exc:  # retried next time
                if database_trouble(exc) is None:
                    logger.exception("retention failed")
                else:
                    self._sparse.warning("down", f"retention waits for the database: {exc}"[:300])
