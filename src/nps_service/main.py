"""The application factory: settings and engine are built here, never at import time."""

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from nps_service import __version__
from nps_service.alerts.router import router as alerts_router
from nps_service.alerts.scheduler import AlertScheduler
from nps_service.config import Settings, get_settings
from nps_service.dashboard.router import router as dashboard_router
from nps_service.db import background_pool, create_db_engine, make_session_factory, request_pool
from nps_service.displays import router as displays_routes
from nps_service.drivers.router import router as drivers_router
from nps_service.keys.dependencies import KnownKeys
from nps_service.logs import AccessLogMiddleware
from nps_service.merchants.params import RANKINGS
from nps_service.merchants.router import router as merchants_router
from nps_service.metrics import Metrics
from nps_service.migrate import head_revision
from nps_service.ops.metrics import MetricsMiddleware
from nps_service.ops.router import router as ops_router
from nps_service.privacy import router as privacy_routes
from nps_service.privacy.retention import RetentionJob
from nps_service.responses.fast_path import SingleAnswerFastPath
from nps_service.responses.router import router as responses_router
from nps_service.responses.writer import IngestWriter
from nps_service.rollups import Folder, Upkeep
from nps_service.scores.params import INTERVAL_ENUM, SORT_ENUM
from nps_service.scores.router import router as scores_router
from nps_service.survey import METRICS, SEGMENT_FIELDS
from nps_service.web.body_limit import BodySizeLimitMiddleware
from nps_service.web.negotiation import NegotiationMiddleware
from nps_service.web.openapi import customise_openapi, operation_id
from nps_service.web.overload import ConcurrencyLimitMiddleware
from nps_service.web.problems import install_error_handlers
from nps_service.web.rate_limit import install_rate_limits
from nps_service.web.security_headers import install_security_headers
from nps_service.web.strict_query import install_strict_query
from nps_service.webhooks.dispatcher import Dispatcher
from nps_service.webhooks.router import router as webhooks_router
from nps_service.widget.router import router as widget_router

DESCRIPTION = """Collects NPS survey answers and computes a platform's **global NPS**: the
overall score plus promoter/passive/detractor breakdowns over logistics, product, service
and app, with confidence intervals, time buckets in any zone, and segment breakdowns.

Authenticate with `Authorization: Bearer <api key>`. Errors are RFC 9457 problem+json.

Conventions: operation ids are `<tag>_<action>` in snake case (`responses_create`,
`scores_get`) and never change once published. Lists page with `limit` and an opaque
`cursor`. Query parameters are absent or a value, never null; an unknown one is a 422.
Every read that returns rows has a CSV twin at the same path with `.csv` (`bom=true`
for Excel), and the JSON path also answers CSV for `format=csv` or `Accept: text/csv`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for the given settings (tests pass their own database URL)."""
    settings = settings or get_settings()
    engine = create_db_engine(settings, request_pool(settings))
    background = create_db_engine(settings, background_pool(settings))
    metrics = Metrics()
    writer = IngestWriter(engine, metrics)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        folder = Folder(background, settings.rollup_interval_seconds, metrics)
        upkeep = Upkeep(background, settings.upkeep_interval_seconds, metrics)
        dispatcher = Dispatcher(background, settings)
        alerts = AlertScheduler(background, settings)
        retention = RetentionJob(background, settings)
        retention.start()  # only when NPS_RETENTION_DAYS is set
        if settings.alert_interval_seconds > 0:
            alerts.start()
        if settings.webhook_interval_seconds > 0:
            dispatcher.start()
        if settings.rollup_interval_seconds > 0:
            folder.start()
        if settings.upkeep_interval_seconds > 0:
            upkeep.start()
        # What exists once the app is up (modules, routes, pools) lives as long as the
        # process: keep it out of the cyclic collector's full passes, which would otherwise
        # walk it again and again while a large score response is being built.
        gc.freeze()
        yield
        if settings.rollup_interval_seconds > 0:
            folder.stop()
        if settings.upkeep_interval_seconds > 0:
            upkeep.stop()
        if settings.webhook_interval_seconds > 0:
            dispatcher.stop()
        if settings.alert_interval_seconds > 0:
            alerts.stop()
        retention.stop()
        writer.stop()
        engine.dispose()
        background.dispose()

    app = FastAPI(
        title="nps-service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs and /redoc are served by the dashboard package with local assets.
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        # FastAPI's own OpenTelemetry spans, metrics and logs run on every request even with
        # nothing to export (no SDK configured); the service exports Prometheus metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.engine = engine
    # Folding, maintenance and exports: connections of their own, without statement bounds.
    app.state.background_engine = background
    app.state.exports = threading.BoundedSemaphore(settings.max_concurrent_exports)
    app.state.writer = writer
    app.state.known_keys = known_keys = KnownKeys()
    app.state.session_factory = make_session_factory(engine)
    # Single reads that need no transaction (eligibility): no BEGIN/ROLLBACK round trips.
    app.state.autocommit_sessions = make_session_factory(
        engine.execution_options(isolation_level="AUTOCOMMIT")
    )
    app.state.expected_revision = head_revision(engine)
    app.state.metrics = metrics

    install_error_handlers(app)
    app.include_router(responses_router)
    app.include_router(displays_routes.displays)
    app.include_router(displays_routes.asking)
    app.include_router(displays_routes.rules)
    app.include_router(scores_router)
    app.include_router(merchants_router)
    app.include_router(drivers_router)
    app.include_router(webhooks_router)
    app.include_router(alerts_router)
    app.include_router(privacy_routes.respondents)
    app.include_router(privacy_routes.audit)
    app.include_router(ops_router)
    app.include_router(widget_router)
    app.include_router(dashboard_router)

    # The last added is outermost: metrics and the access log see every request; CORS
    # headers go on every answer, 429 and 503 included; rate limits come before the
    # concurrency limit (a flood is refused without queueing) and before the single-answer
    # fast path (its answers are limited too); the body limit runs before any parsing.
    app.add_middleware(SingleAnswerFastPath, writer=writer, known_keys=known_keys)
    app.add_middleware(NegotiationMiddleware, api=app)  # 406: outside the fast path too
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        ConcurrencyLimitMiddleware,
        limit=settings.max_concurrent_requests,
        wait=settings.db_pool_timeout_seconds,
        metrics=metrics,
        pools={"requests": engine.pool, "background": background.pool},
    )
    install_rate_limits(app, settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            expose_headers=["Content-Disposition", "Retry-After"],
            max_age=600,
        )
    install_security_headers(app)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    install_strict_query(app)
    customise_openapi(
        app,
        {
            "Segment": list(SEGMENT_FIELDS),
            "Interval": INTERVAL_ENUM["enum"],
            "Metric": list(METRICS),
            "ScoreSort": SORT_ENUM["enum"],
            "MerchantSort": RANKINGS,
        },
    )
    logging.getLogger("nps_service").setLevel(settings.log_level.upper())
    return app


def app_from_environment() -> Any:
    """Factory for `uvicorn --factory nps_service.main:app_from_environment`."""
    return create_app()
