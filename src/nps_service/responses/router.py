"""HTTP routes for survey answers."""

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Response as HttpResponse
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from nps_service.db import begin_writing
from nps_service.errors import ServiceUnavailable, Unauthorized
from nps_service.filters import FilterParams, limited_to_merchants
from nps_service.keys.dependencies import IngestKey, IngestKeyCheckedOnWrite, ReadKey
from nps_service.keys.service import still_valid
from nps_service.responses import export, ingest, listing
from nps_service.responses.rows import content_hash, row_values
from nps_service.responses.schemas import BatchIn, BatchOut, ResponseIn, ResponseOut, ResponsePage
from nps_service.web.body_limit import require_json
from nps_service.web.media import (
    CSV_CONTENT_TYPE,
    CSV_MEDIA_TYPE,
    NDJSON_MEDIA_TYPE,
    Bom,
    reject_bom,
    wants_csv,
)
from nps_service.web.openapi import problems
from nps_service.web.pages import PageCursor, PageLimit
from nps_service.web.session import SessionDep, SettingsDep

router = APIRouter(prefix="/v1/responses", tags=["responses"])
JSON_BODY = [Depends(require_json)]
Filters = Annotated[FilterParams, Query()]


@router.post(
    "",
    name="create",
    status_code=201,
    dependencies=JSON_BODY,
    response_model=ResponseOut,
    summary="Store one survey answer (idempotent by id)",
    responses={
        200: {"description": "A retry of an answer already stored", "model": ResponseOut},
        **problems(400, 401, 403, 409, 413, 415, 422),
    },
)
async def create_response(
    request: Request, payload: ResponseIn, key: IngestKeyCheckedOnWrite, session: SessionDep
) -> HttpResponse:
    """201 with the stored answer; 200 when the same id and content were stored before.

    Answers that arrive together share one transaction (the process's writer); each is
    acknowledged only after that transaction committed. An answer naming its display is
    stored in a transaction of its own that also marks the display answered.
    """
    if payload.display_id is not None:
        stored = await run_in_threadpool(_store_linked, session, payload, key.key_id)
        request.app.state.metrics.responses_stored.inc(int(stored.created))
    else:
        row = row_values(
            payload, payload.id or uuid.uuid4(), content_hash(payload), datetime.now(UTC)
        )
        stored = await request.app.state.writer.store(row, key.key_id)  # it counts them
    return HttpResponse(
        stored.response.model_dump_json(),
        status_code=201 if stored.created else 200,
        media_type="application/json",
    )


def _store_linked(session: Session, payload: ResponseIn, key_id: int) -> ingest.Stored:
    """An answer naming its display, after checking again that its cached key is valid."""
    begin_writing(session)
    if not still_valid(session, key_id):
        raise Unauthorized("unknown or revoked API key")
    return ingest.ingest_linked(session, payload)


@router.post(
    "/batch",
    name="createBatch",
    status_code=201,
    dependencies=JSON_BODY,
    summary="Store up to 1000 answers atomically",
    responses={
        200: {"description": "Every item was already stored", "model": BatchOut},
        **problems(400, 401, 403, 409, 413, 415, 422),
    },
)
def create_batch(
    request: Request, payload: BatchIn, session: SessionDep, _key: IngestKey, http: HttpResponse
) -> BatchOut:
    """All items are validated first; one invalid item rejects the batch with 422."""
    summary = ingest.ingest_batch(session, payload.responses)
    request.app.state.metrics.responses_stored.inc(summary.created)
    if summary.created == 0:
        http.status_code = 200
    return summary


@router.get(
    "/export",
    name="export",
    summary="Every answer matching the filters, streamed as NDJSON or CSV",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                NDJSON_MEDIA_TYPE: {"schema": {"type": "string"}},
                CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
            },
            "description": "NDJSON (one answer per line, as `GET /v1/responses/{id}`), or "
            "CSV in the import layout with `format=csv` or `Accept: text/csv`.",
        },
        **problems(401, 403, 422, 503),
    },
)
def export_responses(
    request: Request,
    key: ReadKey,
    filters: Filters,
    settings: SettingsDep,
    format: Annotated[
        Literal["ndjson", "csv"] | None, Query(description="Overrides the Accept header.")
    ] = None,
    bom: Bom = False,
) -> StreamingResponse:
    """Oldest first, from one snapshot: answers stored while the export streams are not in
    it. Memory stays flat however many rows match. At most NPS_MAX_CONCURRENT_EXPORTS run
    at once per process (503 with Retry-After beyond), each for at most
    NPS_EXPORT_TIMEOUT_SECONDS; an export cut short ends without its final chunk."""
    as_csv = wants_csv(request, format, json_wins=False)
    reject_bom(bom and not as_csv, "NDJSON")
    slots: threading.BoundedSemaphore = request.app.state.exports
    if not slots.acquire(blocking=False):
        raise ServiceUnavailable("as many exports as allowed are running; retry later", 5)
    try:
        cursor = export.ExportCursor(
            request.app.state.background_engine,
            limited_to_merchants(filters.scope, key.merchants),
            settings.export_timeout_seconds,
        )
    except BaseException:
        slots.release()
        raise
    if as_csv:
        body, media_type = export.csv_chunks(cursor, bom=bom), CSV_CONTENT_TYPE
        headers = {"Content-Disposition": 'attachment; filename="responses.csv"'}
    else:
        body, media_type, headers = export.ndjson_lines(cursor), NDJSON_MEDIA_TYPE, {}
    return StreamingResponse(_releasing(body, slots), media_type=media_type, headers=headers)


def _releasing(body: Iterator[bytes], slots: threading.BoundedSemaphore) -> Iterator[bytes]:
    """The body, giving its export slot back however the stream ends."""
    try:
        yield from body
    finally:
        slots.release()


@router.get(
    "/{response_id}",
    name="get",
    summary="One stored answer",
    responses=problems(401, 403, 404, 422),
)
def get_response(response_id: uuid.UUID, session: SessionDep, _key: ReadKey) -> ResponseOut:
    """The answer with this id as it is stored, in UTC. A merchant-limited key gets 404 for another
    merchant's answer."""
    return listing.get_response(session, response_id)


@router.get(
    "", name="list", summary="Stored answers, newest first", responses=problems(401, 403, 422)
)
def list_responses(
    session: SessionDep,
    _key: ReadKey,
    filters: Filters,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
) -> ResponsePage:
    """Cursor-paginated and stable while new answers arrive."""
    items, next_cursor = listing.list_responses(session, filters.scope, limit, cursor)
    return ResponsePage(items=items, next_cursor=next_cursor)
