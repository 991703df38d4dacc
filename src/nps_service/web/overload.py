"""Overload is a fast 503 with Retry-After, never a request that waits without end.

Each process serves at most `limit` API requests at once (the database pool and the worker
threads are what they would otherwise queue for without bound); a request beyond that
waits up to `wait` seconds for a turn and then gets 503. Health, readiness and metrics
are never held back.
"""

import asyncio

from sqlalchemy.pool import Pool
from starlette.types import ASGIApp, Receive, Scope, Send

from nps_service.metrics import Metrics
from nps_service.web.problems import RETRY_BUSY_SECONDS, problem_response

_UNLIMITED = ("/healthz", "/readyz", "/metrics")


class ConcurrencyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, limit: int, wait: float, metrics: Metrics, pools: dict[str, Pool]
    ) -> None:
        self.app = app
        self.limit = limit
        self.wait = wait
        self.metrics = metrics
        self.pools = pools  # sampled as requests come and go, for the pool gauges
        self._turns: asyncio.Semaphore | None = None  # made in the server's event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNLIMITED:
            await self.app(scope, receive, send)
            return
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.limit)
        try:
            if self._turns.locked():  # wait_for costs a task: only when it has to wait
                self.metrics.waiting.inc()
                try:
                    await asyncio.wait_for(self._turns.acquire(), timeout=self.wait)
                finally:
                    self.metrics.waiting.dec()
            else:
                await self._turns.acquire()
        except TimeoutError:
            self.metrics.shed.labels("concurrency").inc()
            response = problem_response(
                503,
                f"the server is handling {self.limit} requests at once; retry shortly",
                slug="service-unavailable",
                headers={"Retry-After": str(RETRY_BUSY_SECONDS)},
            )
            await response(scope, receive, send)
            return
        self.metrics.in_flight.inc()
        self._sample_pools()
        try:
            await self.app(scope, receive, send)
        finally:
            self._turns.release()
            self.metrics.in_flight.dec()

    def _sample_pools(self) -> None:
        for name, pool in self.pools.items():
            self.metrics.pool_in_use.labels(name).set(getattr(pool, "checkedout", _none)())


def _none() -> int:
    return 0  # pools without a count (SQLite in memory)
