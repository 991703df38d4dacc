"""Storing answers exactly once: idempotent by id, atomically per batch, queued for rollups."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, TextClause, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from nps_service.db import begin_writing
from nps_service.displays.linking import Claim, link_answers, lock_claimed
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
)
from nps_service.responses.schemas import BatchOut, ResponseIn, ResponseOut
from nps_service.webhooks.models import (
    ANSWER_SUBSCRIBERS,
    RESPONSE_EVENT,
    OutboxEvent,
    queue_answer_events,
)

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
_OUTBOX = insert(cast(Table, OutboxEvent.__table__))
_ANY_ENDPOINT = text(f"SELECT {ANSWER_SUBSCRIBERS}")


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
        f"SELECT * FROM unnest({arrays}) ON CONFLICT (id) DO NOTHING {RETURNING_PENDING}), "
        f"events AS ({queue_answer_events('inserted')}) "
        f"{queue_new_answers('inserted')} RETURNING id"
    )


_UNNEST_INSERT = _unnest_insert()


def _unnest_insert_checking_keys() -> TextClause:
    """PostgreSQL: `_unnest_insert` for rows that each came with a key, storing only the
    rows whose key is still valid, in one statement (so in autocommit mode, one round trip
    and one commit): the ids of the valid keys and of the rows stored come back."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    arrays = ", ".join(
        f"CAST(:{name} AS {_RESPONSES.c[name].type.compile(dialect=dialect)}[])"
        for name in STORED_COLUMNS
    )
    columns = ", ".join(STORED_COLUMNS)
    return text(
        "WITH valid AS (SELECT id FROM api_keys "  # noqa: S608 - constant names
        "WHERE id = ANY(CAST(:key_ids AS integer[])) AND revoked_at IS NULL), "
        f"rows AS (SELECT * FROM unnest({arrays}, CAST(:key_id AS integer[])) "
        f"AS t({columns}, key_id)), "
        f"inserted AS (INSERT INTO responses ({columns}) SELECT {columns} FROM rows "
        f"WHERE key_id IN (SELECT id FROM valid) ON CONFLICT (id) DO NOTHING "
        f"{RETURNING_PENDING}), "
        f"events AS ({queue_answer_events('inserted')}), "
        f"queued AS ({queue_new_answers('inserted')} RETURNING id) "
        "SELECT id, NULL::uuid FROM valid UNION ALL SELECT NULL::integer, id FROM queued"
    )


_UNNEST_INSERT_CHECKING_KEYS = _unnest_insert_checking_keys()


def insert_new_checking_keys(
    connection: Connection, ordered: list[dict[str, Any]], key_ids: list[int]
) -> tuple[set[uuid.UUID], set[int]]:
    """PostgreSQL: insert the rows whose id is new and whose key (`key_ids`, one per row)
    is still valid; the ids inserted, and the valid keys."""
    columns = _array_columns(ordered)
    columns["key_id"] = key_ids
    columns["key_ids"] = sorted(set(key_ids))
    inserted: set[uuid.UUID] = set()
    valid: set[int] = set()
    for key_id, response_id in connection.execute(_UNNEST_INSERT_CHECKING_KEYS, columns):
        if key_id is not None:
            valid.add(key_id)
        else:
            inserted.add(response_id)
    return inserted, valid


def _array_columns(ordered: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The rows as one list per stored column, as the unnest statements bind them."""
    from psycopg.types.json import Jsonb

    columns: dict[str, list[Any]] = {
        name: [row[name] for row in ordered] for name in STORED_COLUMNS
    }
    columns["properties"] = [None if v is None else Jsonb(v) for v in columns["properties"]]
    return columns


def insert_new(session: Session | Connection, ordered: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert the rows whose id is new and queue them for the rollups; their ids."""
    if not ordered:
        return set()
    dialect = session.get_bind().dialect if isinstance(session, Session) else session.dialect
    if dialect.name == "postgresql":
        return set(session.execute(_UNNEST_INSERT, _array_columns(ordered)).scalars())
    inserted = set(session.execute(_INSERT_NEW_SQLITE, ordered).scalars())
    if inserted:
        new = [row for row in ordered if row["id"] in inserted]
        session.execute(_QUEUE, [{name: row[name] for name in PENDING_COLUMNS} for row in new])
        if session.execute(_ANY_ENDPOINT).scalar():
            session.execute(
                _OUTBOX,
                [
                    {"kind": RESPONSE_EVENT, "response_id": r["id"], "score": r["score"]}
                    for r in new
                ],
            )
    return inserted


@dataclass(frozen=True)
class Stored:
    """The outcome of storing one answer."""

    response: ResponseOut
    created: bool


def ingest_batch(
    session: Session, payloads: Sequence[ResponseIn], single: bool = False
) -> BatchOut:
    """Store a batch atomically: all new items, or nothing (`single`: one answer posted
    alone, whose errors point at its own fields)."""
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
    claims = [
        Claim(
            f"{pointer_prefix(index, len(payloads), single)}/display_id",
            response_id,
            payload.respondent_id,
            payload.display_id,
        )
        for index, (payload, response_id) in enumerate(zip(payloads, ids, strict=True))
        if payload.display_id is not None
    ]
    if claims:
        begin_writing(session)  # it reads the displays before it writes
    displays = lock_claimed(session, claims) if claims else {}
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
    if claims:
        link_answers(session, claims, displays, inserted)
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
    inserted = insert_new(session, ordered)
    existing_ids = [response_id for response_id in rows if response_id not in inserted]
    clashing: set[uuid.UUID] = set()
    for start in range(0, len(existing_ids), 10_000):  # bounded IN lists
        chunk = existing_ids[start : start + 10_000]
        for stored in session.scalars(select(Response).where(Response.id.in_(chunk))):
            if not same_answer(stored, rows[stored.id]):
                clashing.add(stored.id)
    return inserted, clashing


def pointer_prefix(index: int, count: int, single: bool) -> str:
    """Where an item's fields are in the request body."""
    return "" if single and count == 1 else f"/responses/{index}"


def ingest_linked(session: Session, payload: ResponseIn) -> Stored:
    """One answer that names its display: stored with the display's link, atomically."""
    summary = ingest_batch(session, [payload], single=True)
    stored = session.get(Response, summary.ids[0])
    assert stored is not None  # just stored, or stored before with the same content
    return Stored(to_out(stored), created=summary.created == 1)


def _conflict_summary(conflicts: list[FieldError]) -> str:
    indexes = ", ".join(c.pointer.split("/")[2] for c in conflicts if c.pointer)
    return f"items {indexes} reuse an id for different content; nothing was stored"
