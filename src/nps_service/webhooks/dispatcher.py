"""The webhook dispatcher: a daemon thread in every server process that fans out the
outbox and sends due deliveries. Any number of processes may run one: fan-out skips rows
another holds, sending leases each delivery (see `fanout`, `sender`)."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy.engine import Engine

from nps_service.config import Settings
from nps_service.db import database_trouble, make_session_factory
from nps_service.logs import SparseLog
from nps_service.webhooks.fanout import FAN_OUT_BATCH, fan_out
from nps_service.webhooks.sender import SEND_BATCH, send_due

logger = logging.getLogger("nps_service.webhooks")


def dispatch_once(
    engine: Engine, settings: Settings, pool: ThreadPoolExecutor, client: httpx.Client
) -> tuple[int, int]:
    """Fan out and send, a batch of each in turn, until neither has a full batch left;
    (events, attempts). In turn, not fan-out first: under sustained ingest the outbox
    never empties, and sending must not wait for it (measured: nothing was sent)."""
    sessions = make_session_factory(engine)
    events = attempts = 0
    while True:
        with sessions() as session:
            taken = fan_out(session)
        sent = send_due(
            engine,
            pool,
            client,
            timeout=settings.webhook_timeout_seconds,
            schedule=settings.webhook_retry_seconds,
            allow_private=settings.webhook_allow_private,
        )
        events, attempts = events + taken, attempts + sent
        if taken < FAN_OUT_BATCH and sent < SEND_BATCH:
            return events, attempts


def http_client(settings: Settings) -> httpx.Client:
    """No redirects (a receiver must not bounce us elsewhere), no proxies from the
    environment unless configured, bounded connections."""
    return httpx.Client(
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=settings.webhook_concurrency),
    )


class Dispatcher:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-dispatcher", daemon=True)
        self._sparse = SparseLog(logger, seconds=60)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._settings.webhook_timeout_seconds + 5)

    def _run(self) -> None:
        settings = self._settings
        with (
            ThreadPoolExecutor(settings.webhook_concurrency, thread_name_prefix="webhook") as pool,
            http_client(settings) as client,
        ):
            while not self._stop.wait(settings.webhook_interval_seconds):
                try:
                    dispatch_once(self._engine, settings, pool, client)
                except Exception as exc:  # retried next tick; nothing is lost
                    if database_trouble(exc) is None:
                        logger.exception("webhook dispatch failed")
                    else:
                        self._sparse.warning("down", f"webhooks wait for the database: {exc}"[:300])
