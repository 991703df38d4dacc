"""The background evaluator: each enabled alert's latest closed interval, once.

Every server process may run one; the evaluations' unique (alert, interval start) makes
sure an interval is recorded and announced once however many run. An interval counts as
closed `alert_grace_seconds` after its end (late answers still arrive then). Only the
latest closed interval is evaluated: intervals missed while no scheduler ran are
backfilled with `POST /v1/alerts/{id}/evaluate?at=...`.
"""

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from nps_service.alerts.evaluation import AlertSpec, evaluate_window
from nps_service.alerts.intervals import latest_closed
from nps_service.alerts.models import Alert
from nps_service.alerts.schemas import EvaluationOut
from nps_service.config import Settings
from nps_service.db import database_trouble, make_session_factory
from nps_service.errors import NotFound
from nps_service.logs import SparseLog
from nps_service.timezones import parse_time_zone

logger = logging.getLogger(__name__)


def evaluate_due(engine: Engine, settings: Settings, now: datetime) -> list[EvaluationOut]:
    """One pass at `now`: the evaluations recorded by this call (triggered or not).

    An alert that fails is logged and skipped; a database outage ends the pass (raised).
    """
    cutoff = now - timedelta(seconds=settings.alert_grace_seconds)
    recorded = []
    with make_session_factory(engine)() as session:
        statement = select(Alert).where(Alert.enabled.is_(True)).order_by(Alert.created_at)
        alerts = [AlertSpec.of(alert) for alert in session.scalars(statement)]
        session.rollback()
        for alert in alerts:
            window = latest_closed(alert.interval, parse_time_zone(alert.tz), cutoff)
            if alert.last_evaluated_start == window.start:
                continue  # up to date: no query needed
            try:
                evaluation, created = evaluate_window(
                    session, alert, window, max_groups=settings.max_groups, now=now
                )
            except NotFound:  # deleted meanwhile
                session.rollback()
                continue
            except Exception as exc:
                session.rollback()
                if database_trouble(exc) is not None:
                    raise
                logger.exception("evaluating alert %s failed", alert.id)
                continue
            if created:
                recorded.append(evaluation)
    return recorded


class AlertScheduler:
    """A daemon thread that runs `evaluate_due` every `settings.alert_interval_seconds`
    (0: `start` does nothing)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._interval = settings.alert_interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-scheduler", daemon=True)
        self._sparse = SparseLog(logger, seconds=60)

    def start(self) -> None:
        if self._interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def run_once(self, now: datetime | None = None) -> list[EvaluationOut]:
        """One pass (tests call it with a fixed `now`)."""
        return evaluate_due(self._engine, self._settings, now or datetime.now(UTC))

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(self._interval):
            try:
                recorded = self.run_once()
            except Exception as exc:  # never ends the thread: tried again next tick
                if database_trouble(exc) is None:
                    logger.exception("evaluating alerts failed")
                else:  # an outage: one line per outage, not a traceback every tick
                    self._sparse.warning("down", f"alerts wait for the database: {exc}"[:300])
                failing = True
                continue
            if failing:
                logger.info("evaluating alerts again")
                failing = False
            triggered = sum(len(evaluation.triggered) for evaluation in recorded)
            if triggered:
                logger.info(
                    "alerts: %d intervals evaluated, %d triggered", len(recorded), triggered
                )
