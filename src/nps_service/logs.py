"""JSON-lines logging for the server, so log shippers get fields, not prose."""

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any


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
            client, method, path, version, status = record.args
            entry.update(
                message="request",
                client=client,
                method=method,
                path=path,
                http_version=version,
                status=status,
            )
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
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
