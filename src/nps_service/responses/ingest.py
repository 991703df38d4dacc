"""Storing answers exactly once: idempotent by id, atomically per batch, queued for rollups."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, TextClause, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nps_service.errors import Conflict, FieldError
from nps_service.responses.models import (
    PENDING_COLUMNS,
    RETURNING_PENDING,
    STORED_COLUMNS,
    PendingRollup,
    Response,
    queue_new_answers,
)
from nps_service.responses.rows import (
    content_hash,
    row_values,
    same_answer,
    to_out,
    to_out_from_row,
)
from nps_service.responses.schemas import BatchOut, ResponseIn, ResponseOut

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
        f"SELECT * FROM unnest({arrays}) ON CONFLICT (id) DO NOTHING {RETURNING_PENDING}) "
        f"{queue_new_answers('inserted')} RETURNING id"
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
                {name: row[name] for name in PENDING_COLUMNS}
                for row in ordered
                if row["id"] in inserted
            ],
        )
    return inserted


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
