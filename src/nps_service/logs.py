"""JSON-lines logging for the server, so log shippers get fields, not prose.

Nothing personal and no key reaches a log line: the access log names the route template
(`/v1/respondents/{respondent_id}`), never the path's ids or its query string, and a
client address only by its network (/24, IPv6 /48); database errors are logged without
their parameters (engines use `hide_parameters`) and without PostgreSQL's `DETAIL`, which
quotes the failing row; every message and traceback is scrubbed of both once more here.
"""

import ipaddress
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What a database error quotes of the data: PostgreSQL's DETAIL (the failing row, a key's
# value) up to the next section, and SQLAlchemy's parameters.
_PERSONAL = re.compile(
    r"^(DETAIL:.*?)(?=^\[SQL|^HINT:|^CONTEXT:|^\(Background|^The above|^During handling|\Z)"
    r"|^\[parameters: .*?\]$",
    re.MULTILINE | re.DOTALL,
)


def scrub(text: str) -> str:
    """The text without the data a database error quotes (see `_PERSONAL`)."""
    if "DETAIL:" not in text and "[parameters: " not in text:
        return text
    return _PERSONAL.sub(
        lambda m: "[parameters hidden]" if m.group(1) is None else "DETAIL: (hidden)\n", text
    )


@lru_cache(maxsize=4096)
def client_network(host: str) -> str:
    """An address reduced to its network (IPv4 /24, IPv6 /48): enough to see where traffic
    comes from, not who sent it."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network((address, prefix), strict=False))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and access-log fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if (
            record.name == "uvicorn.access"
            and isinstance(record.args, tuple)
            and len(record.args) == 5
        ):
            # uvicorn's own access log, if it is on: no query string, no full address.
            client, method, path, version, status = record.args
            entry.update(
                message="request",
                client=client_network(str(client).rpartition(":")[0]),
                method=method,
                path=str(path).partition("?")[0],
                http_version=version,
                status=status,
            )
        else:
            entry["message"] = scrub(record.getMessage())
        fields = getattr(record, "http", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(level: str) -> dict[str, Any]:
    """A logging.config dict for uvicorn and the service's own loggers."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "nps_service.logs.JsonFormatter"}},
        "handlers": {"default": handler},
        "loggers": {
            name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "nps_service")
        },
    }


access_logger = logging.getLogger("nps_service.access")


def _first_segments(path: str) -> str:
    """A path no route matched (or answered before routing: 413, 429, 503), with every
    segment after the second masked: `/v1/respondents/*`."""
    parts = path.split("/")
    return "/".join(parts[:3] + ["*"] * len(parts[3:]))[:200]


class AccessLogMiddleware:
    """One line per request (uvicorn's access log is off): method, route template, status,
    duration and the client's network. The template, not the path: paths carry ids
    (`DELETE /v1/respondents/u_123`) and query strings carry people
    (`/v1/eligibility?respondent_id=...`). No key either (the routes know which key a
    request used; this layer would only know the secret)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        if not access_logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send_wrapper)
            return

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            client = scope.get("client")
            route = getattr(scope.get("route"), "path", None)
            fields = {
                "method": scope["method"],
                "path": route if isinstance(route, str) else _first_segments(scope["path"]),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "client": client_network(str(client[0])) if client else None,
                "request_id": request_id,
                # The id of the key the route checked (never the key), when it did.
                "key_id": scope.get("state", {}).get("key_id"),
            }
            access_logger.info(
                "%s %s %s", fields["method"], fields["path"], status, extra={"http": fields}
            )


# A client's X-Request-ID is kept when it is a plain token (it ends up in log lines).
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def _request_id(scope: Scope) -> str:
    """The client's X-Request-ID, or a new one: every answer carries it, every log line too."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id" and _REQUEST_ID.fullmatch(value):
            return bytes(value).decode()
    return uuid.uuid4().hex


class SparseLog:
    """Log a recurring condition once per `seconds`, with how often it recurred meanwhile
    (a database outage would otherwise write a line per request and per second per folder)."""

    def __init__(self, logger: logging.Logger, seconds: float = 30.0) -> None:
        self._logger = logger
        self._seconds = seconds
        self._last: dict[str, float] = {}
        self._since: dict[str, int] = {}

    def warning(self, key: str, message: str) -> None:
        now = time.monotonic()
        if now - self._last.get(key, -self._seconds) < self._seconds:
            self._since[key] = self._since.get(key, 0) + 1
            return
        repeated = self._since.pop(key, 0)
        suffix = f" ({repeated} more since the last report)" if repeated else ""
        self._last[key] = now
        self._logger.warning(message + suffix)
