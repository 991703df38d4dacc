"""The middleware that records every request's route, status and time."""

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nps_service.metrics import Metrics


class MetricsMiddleware:
    """Counts and times every request by its route template (bounded label values)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(
                time.perf_counter() - started
            )


def _route_template(scope: Scope) -> str:
    # The router records the matched route in the scope; unmatched paths share one label.
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))
