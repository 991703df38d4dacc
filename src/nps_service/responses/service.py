"""Storing answers exactly once, and reading them back."""

import base64
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, TextClause, and_, insert, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nps_service.errors import Conflict, FieldError, InvalidInput, NotFound
from nps_service.filters import ResponseFilter
from nps_service.properties import bounded_time
from nps_service.responses.models import (
    ANSWER_COLUMNS,
    CONTEXT_FIELDS,
    DIMENSIONS,
    STORED_COLUMNS,
    Response,
)
from nps_service.responses.schemas import (
    BatchOut,
    ContextOut,
    DimensionsOut,
    ResponseIn,
    ResponseOut,
)
from nps_service.rollups.models import PendingRollup


def content_hash(payload: ResponseIn) -> str:
    """A digest of what the client sent, so a retry can be told from a different answer.

    Server-filled defaults are normalised (absent weight is 1, absent tags are null) and
    `submitted_at` is left out: a retry that omits it is still the same answer.
    """
    dims, ctx = payload.dimensions, payload.context
    canonical = [
        payload.respondent_id,
        payload.score,
        [dims.logistics, dims.product, dims.service, dims.app] if dims else None,
        payload.comment,
        [getattr(ctx, name) for name in CONTEXT_FIELDS] if ctx else None,
        float(payload.weight) if payload.weight is not None else 1.0,
        # Tag each value with its JSON type so "1", 1 and true stay different; 1 and 1.0 agree.
        sorted(
            (key, value) if isinstance(value, bool | str) else (key, "n", float(value))
            for key, value in (payload.properties or {}).items()
        ),
    ]
    # An empty Dimensions/Context object is the same as none at all.
    if canonical[2] == [None] * 4:
        canonical[2] = None
    if canonical[4] == [None] * len(CONTEXT_FIELDS):
        canonical[4] = None
    encoded = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def row_values(
    payload: ResponseIn, response_id: uuid.UUID, digest: str, now: datetime
) -> dict[str, Any]:
    dimensions = payload.dimensions.model_dump() if payload.dimensions else {}
    context = payload.context.model_dump() if payload.context else {}
    return {
        "id": response_id,
        "respondent_id": payload.respondent_id,
        "score": payload.score,
        **{name: dimensions.get(name) for name in DIMENSIONS},
        "comment": payload.comment,
        **{name: context.get(name) for name in CONTEXT_FIELDS},
        "weight": float(payload.weight) if payload.weight is not None else 1.0,
        "properties": payload.properties,
        "submitted_at": payload.submitted_at or now,
        "submitted_at_given": payload.submitted_at is not None,
        "received_at": now,
        "content_hash": digest,
    }


_RESPONSES = cast(Table, Response.__table__)
_PENDING = cast(Table, PendingRollup.__table__)
# SQLite: a Core statement (the ORM's bulk-insert machinery costs more CPU than the
# database spends on the row).
_INSERT_NEW_SQLITE = (
    sqlite.insert(_RESPONSES)
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(_RESPONSES.c.id)
)
_QUEUE = insert(_PENDING)


def _unnest_insert() -> TextClause:
    """PostgreSQL: store new rows and queue them for the rollups in one statement.

    Each column travels as one array parameter, so the statement text stays the same for
    any number of rows (a multi-row VALUES list with thousands of placeholders costs the
    driver more CPU to prepare than the database spends inserting).
    """
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    arrays = ", ".join(
        f"CAST(:{name} AS {_RESPONSES.c[name].type.compile(dialect=dialect)}[])"
        for name in STORED_COLUMNS
    )
    columns = ", ".join(STORED_COLUMNS)
    return text(
        f"WITH inserted AS (INSERT INTO responses ({columns}) "  # noqa: S608 - constant names
        f"SELECT * FROM unnest({arrays}) ON CONFLICT (id) DO NOTHING "
        "RETURNING id, submitted_at) "
        "INSERT INTO pending_rollup (id, submitted_at) SELECT id, submitted_at FROM inserted "
        "RETURNING id"
    )


_UNNEST_INSERT = _unnest_insert()


def _insert_new(session: Session, ordered: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert the rows whose id is new and queue them for the rollups; their ids."""
    if session.get_bind().dialect.name == "postgresql":
        from psycopg.types.json import Jsonb

        columns: dict[str, list[Any]] = {
            name: [row[name] for row in ordered] for name in STORED_COLUMNS
        }
        columns["properties"] = [None if v is None else Jsonb(v) for v in columns["properties"]]
        return set(session.execute(_UNNEST_INSERT, columns).scalars())
    inserted = set(session.execute(_INSERT_NEW_SQLITE, ordered).scalars())
    if inserted:
        session.execute(
            _QUEUE,
            [
                {"id": row["id"], "submitted_at": row["submitted_at"]}
                for row in ordered
                if row["id"] in inserted
            ],
        )
    return inserted


def same_answer(stored: Response | dict[str, Any], row: dict[str, Any]) -> bool:
    """Whether `row` repeats `stored`: same content, and same time if both clients sent one."""
    if isinstance(stored, Response):
        stored = {
            name: getattr(stored, name)
            for name in ("content_hash", "submitted_at_given", "submitted_at")
        }
    if stored["content_hash"] != row["content_hash"]:
        return False
    if stored["submitted_at_given"] and row["submitted_at_given"]:
        return bool(stored["submitted_at"] == row["submitted_at"])
    return True


@dataclass(frozen=True)
class Stored:
    """The outcome of storing one answer."""

    response: ResponseOut
    created: bool


def ingest_one(session: Session, payload: ResponseIn) -> Stored:
    """Store one answer idempotently by id and commit before returning."""
    now = datetime.now(UTC)
    response_id = payload.id or uuid.uuid4()
    row = row_values(payload, response_id, content_hash(payload), now)
    if _insert_new(session, [row]):
        session.commit()
        return Stored(to_out_from_row(row), created=True)
    # The id exists: it was committed by an earlier (or concurrent, now finished) request.
    stored = session.get(Response, response_id)
    if stored is None:  # pragma: no cover - a row cannot vanish: there is no delete path
        raise Conflict(f"response {response_id} is being written concurrently; retry")
    session.rollback()
    if not same_answer(stored, row):
        raise Conflict(
            f"a different response with id {response_id} already exists",
            errors=[FieldError(pointer="/id", detail="id already used for different content")],
        )
    return Stored(to_out(stored), created=False)


def ingest_batch(session: Session, payloads: Sequence[ResponseIn]) -> BatchOut:
    """Store a batch atomically: all new items, or nothing."""
    now = datetime.now(UTC)
    ids = [payload.id or uuid.uuid4() for payload in payloads]
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    conflicts: list[FieldError] = []
    for index, (payload, response_id) in enumerate(zip(payloads, ids, strict=True)):
        row = row_values(payload, response_id, content_hash(payload), now)
        first = rows.setdefault(response_id, row)
        if first is not row and not same_answer(first, row):
            conflicts.append(
                FieldError(
                    pointer=f"/responses/{index}/id",
                    detail="id repeated in this batch with different content",
                )
            )
    if conflicts:
        raise Conflict(_conflict_summary(conflicts), errors=conflicts)
    inserted, clashing = store_rows(session, rows)
    if clashing:
        session.rollback()
        conflicts = [
            FieldError(
                pointer=f"/responses/{index}/id", detail="id already used for different content"
            )
            for index, response_id in enumerate(ids)
            if response_id in clashing
        ]
        raise Conflict(_conflict_summary(conflicts), errors=conflicts)
    session.commit()
    created = len(inserted)
    return BatchOut(created=created, duplicates=len(payloads) - created, ids=ids)


def store_rows(
    session: Session, rows: dict[uuid.UUID, dict[str, Any]]
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Insert rows whose id is new (and queue them for the rollups), without committing.

    Returns the ids inserted and the ids already stored with different content.
    """
    # Insert in id order: two batches sharing ids then lock them in the same order and
    # cannot deadlock on PostgreSQL.
    ordered = [rows[response_id] for response_id in sorted(rows)]
    inserted = _insert_new(session, ordered)
    existing_ids = [response_id for response_id in rows if response_id not in inserted]
    clashing: set[uuid.UUID] = set()
    for start in range(0, len(existing_ids), 10_000):  # bounded IN lists
        chunk = existing_ids[start : start + 10_000]
        for stored in session.scalars(select(Response).where(Response.id.in_(chunk))):
            if not same_answer(stored, rows[stored.id]):
                clashing.add(stored.id)
    return inserted, clashing


def _conflict_summary(conflicts: list[FieldError]) -> str:
    indexes = ", ".join(c.pointer.split("/")[2] for c in conflicts if c.pointer)
    return f"items {indexes} reuse an id for different content; nothing was stored"


def get_response(session: Session, response_id: uuid.UUID) -> ResponseOut:
    """One stored answer, or 404."""
    stored = session.get(Response, response_id)
    if stored is None:
        raise NotFound(f"no response with id {response_id}")
    return to_out(stored)


def list_responses(
    session: Session, scope: ResponseFilter, limit: int, cursor: str | None
) -> tuple[list[ResponseOut], str | None]:
    """Newest first, keyset-paginated on (submitted_at, id): no duplicates or gaps."""
    statement = select(Response).where(*scope.where())
    if cursor:
        after_time, after_id = decode_cursor(cursor)
        statement = statement.where(
            or_(
                Response.submitted_at < after_time,
                and_(Response.submitted_at == after_time, Response.id < after_id),
            )
        )
    statement = statement.order_by(Response.submitted_at.desc(), Response.id.desc())
    with bounded_time(session, bool(scope.properties)):
        rows = list(session.scalars(statement.limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(page[-1].submitted_at, page[-1].id) if more else None
    return [to_out(row) for row in page], next_cursor


def encode_cursor(submitted_at: datetime, response_id: uuid.UUID) -> str:
    """An opaque token for the position after this row."""
    raw = json.dumps([submitted_at.isoformat(), str(response_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[datetime, uuid.UUID]:
    """Parse a cursor from `encode_cursor`; 422 when it was not made by us."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        when, response_id = json.loads(raw)
        return datetime.fromisoformat(when).astimezone(UTC), uuid.UUID(response_id)
    # Forged tokens: bad base64/JSON/shape, out-of-range dates, absurd nesting.
    except (ValueError, TypeError, OverflowError, RecursionError, AttributeError) as exc:
        raise InvalidInput(
            "cursor: not a cursor returned by this API",
            errors=[FieldError(parameter="cursor", detail="malformed cursor")],
        ) from exc


def to_out(row: Response) -> ResponseOut:
    """The API shape of a stored row."""
    return to_out_from_row({column: getattr(row, column) for column in OUT_COLUMNS})


# A stored answer as the API shows it (and exports stream it).
OUT_COLUMNS = (*ANSWER_COLUMNS, "received_at")


def to_out_from_row(row: dict[str, Any]) -> ResponseOut:
    """The API shape of a row's values."""
    return ResponseOut(
        id=row["id"],
        respondent_id=row["respondent_id"],
        score=row["score"],
        dimensions=DimensionsOut(**{name: row[name] for name in DIMENSIONS}),
        comment=row["comment"],
        context=ContextOut(**{name: row[name] for name in CONTEXT_FIELDS}),
        weight=row["weight"],
        properties=row["properties"] or {},
        submitted_at=row["submitted_at"],
        received_at=row["received_at"],
    )
