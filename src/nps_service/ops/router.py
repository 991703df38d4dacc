"""Liveness, readiness and metrics: no API key needed."""

from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from nps_service.db import as_utc_instant
from nps_service.migrate import current_revision
from nps_service.responses.models import PendingRollup

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str | None
    expected_migration: str | None


@router.get("/healthz", name="healthz", summary="The process is alive")
def healthz() -> Health:
    """Answers 200 while the process runs, without touching the database: for liveness probes."""
    return Health(status="ok")


@router.get(
    "/readyz",
    name="readyz",
    response_model=Readiness,
    summary="The database is reachable and migrated",
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
def readyz(request: Request) -> Readiness | JSONResponse:
    """200 when the database answers and its schema is at this version's migration head, otherwise
    503: for readiness probes and load balancers."""
    engine = request.app.state.engine
    expected = request.app.state.expected_revision
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revision(engine)
    except SQLAlchemyError:
        body = Readiness(
            status="unavailable",
            database="unreachable",
            migration=None,
            expected_migration=expected,
        )
        return JSONResponse(body.model_dump(), status_code=503)
    ready = current == expected
    body = Readiness(
        status="ok" if ready else "unavailable",
        database="ok",
        migration=current,
        expected_migration=expected,
    )
    return body if ready else JSONResponse(body.model_dump(), status_code=503)


@router.get(
    "/metrics",
    name="metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> PlainTextResponse:
    """Every worker's counters added up, and the pending tail as the database sees it."""
    registry = request.app.state.metrics.collector_registry()
    tail = CollectorRegistry()
    tail.register(PendingTail(request.app.state.background_engine))
    text = generate_latest(registry) + generate_latest(tail)
    return PlainTextResponse(text, media_type=CONTENT_TYPE_LATEST)


class PendingTail(Collector):
    """Answers waiting to be folded into the rollups, and how long the oldest has waited:
    read from the queue at each scrape, so the figure is the same whichever worker answers."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        try:
            with self._engine.connect() as connection:
                count, oldest = connection.execute(
                    select(func.count(), func.min(PendingRollup.queued_at))
                ).one()
        except SQLAlchemyError:
            return  # the database is down: /readyz says so; no figure rather than a wrong one
        # SQLite gives the server default's text ('YYYY-MM-DD HH:MM:SS', UTC).
        instant = as_utc_instant(oldest)
        age = 0.0 if instant is None else (datetime.now(UTC) - instant).total_seconds()
        yield GaugeMetricFamily("nps_pending_answers", "Answers not folded yet", value=count)
        yield GaugeMetricFamily(
            "nps_pending_oldest_seconds",
            "How long the oldest pending answer has waited",
            value=max(age, 0.0),
        )
