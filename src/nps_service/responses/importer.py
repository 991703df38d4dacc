"""`nps-service import`: load a CSV or NDJSON file of answers, all or nothing.

Every row is validated exactly as `POST /v1/responses` validates a body. Rows are written
in chunks inside one transaction: through COPY into a staging table on PostgreSQL, with
multi-row inserts on SQLite. Ids already stored with the same content are skipped (so a
file can be imported twice); a bad row or an id reused for different content rolls the
whole file back and names the line. Memory stays flat: one chunk at a time.
"""

import io
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from nps_service.responses.formats import BadCsv, csv_bodies, skip_bom
from nps_service.responses.ingest import store_rows
from nps_service.responses.models import RETURNING_PENDING, STORED_COLUMNS, queue_new_answers
from nps_service.responses.rows import content_hash, row_values, same_answer
from nps_service.responses.schemas import ResponseIn

DEFAULT_CHUNK = 20_000


class ImportFailed(Exception):
    """A row that cannot be imported; nothing from the file was stored."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class ImportResult:
    rows: int
    created: int
    duplicates: int


class CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read, for a progress bar over the file size."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


def open_counted(path: Path) -> tuple[IO[str], CountingReader]:
    """The file as text (UTF-8, BOM tolerated), and the counter behind it."""
    counter = CountingReader(path.open("rb"))
    reader = io.BufferedReader(counter, buffer_size=1 << 20)
    return io.TextIOWrapper(reader, encoding="utf-8-sig", newline=""), counter


def detect_format(path: Path) -> str:
    """`csv` or `ndjson`, from the file name."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".ndjson", ".jsonl", ".json"):
        return "ndjson"
    raise ValueError(f"cannot tell the format of {path.name}: use .csv or .ndjson, or --format")


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        pointer = "".join(f"/{part}" for part in item["loc"] if part != "[key]")
        parts.append(f"{pointer or 'row'}: {item['msg']}")
    return "; ".join(parts)


def read_answers(stream: IO[str], fmt: str) -> Iterator[tuple[int, ResponseIn]]:
    """Validated answers with the line each starts on; ImportFailed at the first bad one."""
    if fmt == "csv":
        try:
            for line, body in csv_bodies(stream):
                try:
                    yield line, ResponseIn.model_validate(body)
                except ValidationError as exc:
                    raise ImportFailed(line, _describe(exc)) from exc
        except BadCsv as exc:
            raise ImportFailed(exc.line, exc.reason) from exc
        return
    for line, raw in enumerate(skip_bom(stream), start=1):
        if not raw.strip():
            continue
        try:
            yield line, ResponseIn.model_validate_json(raw)
        except ValidationError as exc:
            raise ImportFailed(line, _describe(exc)) from exc


def _chunks(
    answers: Iterable[tuple[int, ResponseIn]], now: datetime, size: int
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    chunk: list[tuple[int, dict[str, Any]]] = []
    for line, payload in answers:
        row = row_values(payload, payload.id or uuid.uuid4(), content_hash(payload), now)
        chunk.append((line, row))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_stream(
    engine: Engine,
    stream: IO[str],
    fmt: str,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    on_chunk: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import every answer of the stream in one transaction, or none of them."""
    return import_answers(
        engine, read_answers(stream, fmt), chunk_size=chunk_size, on_chunk=on_chunk
    )


def import_answers(
    engine: Engine,
    answers: Iterable[tuple[int, ResponseIn]],
    *,
    chunk_size: int = DEFAULT_CHUNK,
    on_chunk: Callable[[int], None] | None = None,
) -> ImportResult:
    """Store validated (line, answer) pairs in one transaction, or none of them."""
    now = datetime.now(UTC)
    rows = created = 0
    with Session(engine) as session, session.begin():
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            _create_staging(session)
        for chunk in _chunks(answers, now, chunk_size):
            store = _store_chunk_postgres if postgres else _store_chunk
            created += store(session, chunk)
            rows += len(chunk)
            if on_chunk is not None:
                on_chunk(len(chunk))
    return ImportResult(rows=rows, created=created, duplicates=rows - created)


def _store_chunk(session: Session, chunk: list[tuple[int, dict[str, Any]]]) -> int:
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    lines: dict[uuid.UUID, int] = {}
    for line, row in chunk:
        first = rows.setdefault(row["id"], row)
        lines.setdefault(row["id"], line)
        if first is not row and not same_answer(first, row):
            raise ImportFailed(
                line, f"id {row['id']} repeats line {lines[row['id']]} with different content"
            )
    inserted, clashing = store_rows(session, rows)
    if clashing:
        line = min(lines[i] for i in clashing)
        raise ImportFailed(line, "id already stored with different content")
    return len(inserted)


def _create_staging(session: Session) -> None:
    session.execute(text("CREATE TEMP TABLE import_staging (LIKE responses) ON COMMIT DROP"))
    session.execute(text("ALTER TABLE import_staging ADD COLUMN line bigint"))


_STAGED = ", ".join(STORED_COLUMNS)
_MOVE = (
    f"WITH inserted AS (INSERT INTO responses ({_STAGED}) "  # noqa: S608 - constant names
    f"SELECT DISTINCT ON (id) {_STAGED} FROM import_staging ORDER BY id, line "
    f"ON CONFLICT (id) DO NOTHING {RETURNING_PENDING}) {queue_new_answers('inserted')}"
)
# A staged row clashes when its id is stored (before, or from an earlier line) with other
# content; a retry that omits submitted_at is not a clash.
_CLASHES = (
    "SELECT s.line FROM import_staging s JOIN responses r ON r.id = s.id "
    "WHERE r.content_hash <> s.content_hash OR (r.submitted_at_given AND s.submitted_at_given "
    "AND r.submitted_at <> s.submitted_at) ORDER BY s.line LIMIT 1"
)


def _store_chunk_postgres(session: Session, chunk: list[tuple[int, dict[str, Any]]]) -> int:
    from psycopg.types.json import Jsonb

    driver = session.connection().connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        with cursor.copy(f"COPY import_staging (line, {_STAGED}) FROM STDIN") as copy:
            for line, row in chunk:
                values = [row[name] for name in STORED_COLUMNS]
                properties = STORED_COLUMNS.index("properties")
                if values[properties] is not None:
                    values[properties] = Jsonb(values[properties])
                copy.write_row([line, *values])
        cursor.execute(_MOVE)
        created = cursor.rowcount
        cursor.execute(_CLASHES)
        clash = cursor.fetchone()
        if clash is not None:
            raise ImportFailed(
                clash[0], "id already stored (or earlier in the file) with different content"
            )
        cursor.execute("TRUNCATE import_staging")
    return int(created)
