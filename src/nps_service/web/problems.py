"""Every error as RFC 9457 problem+json: our own (`errors`), FastAPI's validation errors,
Starlette's HTTP errors (404, 405) and anything unexpected (a logged 500)."""

import logging
import sqlite3
import traceback
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from nps_service.db import database_trouble
from nps_service.errors import FieldError, InvalidInput, ProblemError, QueryTooBroad
from nps_service.logs import SparseLog, scrub

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://nps-service.dev/problems/"

logger = logging.getLogger("nps_service.errors")
sparse = SparseLog(logger)
# What a client is told to wait before retrying: a busy pool frees within a second or so;
# a database that is down or restarting needs longer.
RETRY_BUSY_SECONDS = 1
RETRY_DOWN_SECONDS = 5


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Render a problem document."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    slug = slug or phrase.lower().replace(" ", "-").replace("'", "")
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title or phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [e.model_dump(exclude_none=True) for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _location(loc: tuple[int | str, ...]) -> FieldError:
    """Turn a pydantic error location into a JSON pointer or a parameter name."""
    source, *path = loc if loc else ("body",)
    # pydantic marks a bad dict key with a trailing "[key]" segment; the pointer is the key.
    path = [part for part in path if part != "[key]"]
    if source == "body":
        pointer = "".join(f"/{_escape(part)}" for part in path)
        return FieldError(pointer=pointer or "", detail="")
    return FieldError(parameter=str(path[0]) if path else str(source), detail="")


def _escape(part: int | str) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def validation_errors(raw: list[Any]) -> list[FieldError]:
    """Convert pydantic/FastAPI error dicts into FieldErrors."""
    result = []
    for error in raw:
        message = str(error.get("msg", "invalid value"))
        if error.get("type") == "json_invalid":
            # FastAPI puts the character offset where a path would be.
            loc = tuple(error.get("loc", ()))
            offset = f" at character {loc[1]}" if len(loc) > 1 else ""
            reason = error.get("ctx", {}).get("error", message)
            result.append(FieldError(pointer="", detail=f"malformed JSON{offset}: {reason}"))
            continue
        field = _location(tuple(error.get("loc", ())))
        if error.get("type") == "missing":
            message = "this field is required"
        elif error.get("type") == "extra_forbidden":
            message = "unknown field"
        field.detail = message
        result.append(field)
    return result


def _batch_items(errors: list[FieldError]) -> list[int]:
    """Indexes of the failing items of a batch body (pointers /responses/<index>/...)."""
    items = set()
    for error in errors:
        parts = (error.pointer or "").split("/")
        if len(parts) > 2 and parts[1] == "responses" and parts[2].isdigit():
            items.add(int(parts[2]))
    return sorted(items)


def _summary(errors: list[FieldError]) -> str:
    first = errors[0]
    where = first.pointer or first.parameter or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    summary = f"{where}: {first.detail}{more}"
    items = _batch_items(errors)
    if items:
        listed = ", ".join(map(str, items))
        summary = f"invalid items at index {listed}; nothing was stored. {summary}"
    return summary


async def _handle_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.detail,
        slug=exc.slug,
        title=exc.title,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _handle_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(list(exc.errors()))
    if any(e.detail.startswith("malformed JSON") for e in errors):
        return problem_response(
            400, _summary(errors), slug="malformed-json", title="Malformed JSON", errors=errors
        )
    return problem_response(
        422, _summary(errors), slug=InvalidInput.slug, title=InvalidInput.title, errors=errors
    )


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        detail = "no such resource"
    elif exc.status_code == 405:
        allowed = _allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
    return problem_response(exc.status_code, detail, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this path (Starlette names only one route's)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def _handle_database(request: Request, exc: Exception) -> JSONResponse:
    """Outages and overload are 503 with Retry-After; a statement over its bound is a 422."""
    trouble = database_trouble(exc)
    if trouble is not None:
        request.app.state.metrics.shed.labels(trouble).inc()
    if trouble == "too_slow":
        detail = (
            "the query ran past the statement time bound (NPS_STATEMENT_TIMEOUT_SECONDS); "
            "narrow from/to, add filters or group by fewer fields"
        )
        return problem_response(422, detail, slug=QueryTooBroad.slug, title=QueryTooBroad.title)
    if trouble is not None:
        busy = trouble == "busy"
        sparse.warning(trouble, scrub(f"database {trouble}: {type(exc).__name__}: {exc}")[:300])
        detail = (
            "the service is at its limit of concurrent database work; retry shortly"
            if busy
            else "the database is unavailable; retry shortly"
        )
        retry = RETRY_BUSY_SECONDS if busy else RETRY_DOWN_SECONDS
        return problem_response(
            503, detail, slug="service-unavailable", headers={"Retry-After": str(retry)}
        )
    logger.error("database error: %s", describe_database_error(exc))
    return problem_response(500, "the server failed to handle this request; it has been logged")


def describe_database_error(exc: Exception) -> str:
    """What failed and where, without the data: for PostgreSQL the SQLSTATE and the names
    of the constraint, table and column (its messages quote values: the failing row, an
    invalid input), the statement without its parameters, and the stack."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, psycopg.Error):
        diag = orig.diag
        names = {
            "constraint": diag.constraint_name,
            "table": diag.table_name,
            "column": diag.column_name,
            "type": diag.datatype_name,
        }
        found = " ".join(f"{name}={value}" for name, value in names.items() if value)
        what = f"{type(orig).__name__} (SQLSTATE {diag.sqlstate}) {found}".rstrip()
    else:
        what = f"{type(orig).__name__}: {scrub(str(orig)).splitlines()[0] if str(orig) else ''}"
    statement = getattr(exc, "statement", None)
    where = f"\n[SQL: {str(statement)[:1000]}]" if statement else ""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    return f"{what}{where}\nTraceback (most recent call last):\n{stack}".rstrip()


async def _handle_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # Not logged here: Starlette re-raises it after this answer, and the server logs it once.
    return problem_response(500, "the server failed to handle this request; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through problem+json."""
    app.add_exception_handler(ProblemError, _handle_problem)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    for database_error in (SQLAlchemyError, psycopg.Error, sqlite3.Error):
        app.add_exception_handler(database_error, _handle_database)
    app.add_exception_handler(Exception, _handle_unexpected)
