"""Every answer matching the filters, streamed as NDJSON or CSV for BI tools.

One read transaction (REPEATABLE READ on PostgreSQL, a WAL snapshot on SQLite) holds the
export to the answers committed when it started, however long it streams and whatever
is written meanwhile; rows come from a server-side cursor a chunk at a time, so memory
stays flat for any number of rows.
"""

import io
import logging
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from nps_service.filters import ResponseFilter
from nps_service.responses.filtering import filter_conditions
from nps_service.responses.formats import write_csv
from nps_service.responses.models import Response
from nps_service.responses.rows import OUT_COLUMNS, to_out_from_row
from nps_service.survey import CONTEXT_FIELDS, DIMENSIONS
from nps_service.web.media import BOM

CHUNK = 2000
logger = logging.getLogger("nps_service.export")


class ExportCursor:
    """An open read of the matching rows, oldest first, from one snapshot.

    Opened before the response starts, so a database that is down or busy is a 503
    problem, not a 200 with an empty body. While streaming, an error or the time bound cuts
    the response short (the server ends the connection without the final chunk), so a
    client sees an incomplete transfer, never a complete-looking file.
    """

    def __init__(self, engine: Engine, scope: ResponseFilter, seconds: float) -> None:
        table = Response.__table__
        statement = (
            select(*(table.c[name] for name in OUT_COLUMNS))
            .where(*filter_conditions(scope))
            .order_by(table.c.submitted_at, table.c.id)
        )
        options: dict[str, Any] = {"stream_results": True, "yield_per": CHUNK}
        if engine.dialect.name == "postgresql":
            options["isolation_level"] = "REPEATABLE READ"
        self._deadline = time.monotonic() + seconds
        self._connection = engine.connect().execution_options(**options)
        try:
            self._transaction = self._connection.begin()
            self._result = self._connection.execute(statement).mappings()
        except BaseException:
            self._connection.close()
            raise

    def chunks(self) -> Iterator[list[dict[str, Any]]]:
        """The rows, CHUNK at a time; the connection is given back when they end."""
        try:
            for chunk in self._result.partitions(CHUNK):
                if time.monotonic() > self._deadline:
                    raise TimeoutError("the export ran past NPS_EXPORT_TIMEOUT_SECONDS")
                yield [dict(row) for row in chunk]
        except Exception:
            logger.warning("export cut short", exc_info=True)
            raise
        finally:
            self.close()

    def close(self) -> None:
        try:
            self._result.close()  # the server-side cursor first, while its connection is open
        except Exception:  # a broken connection: nothing left to close on it
            logger.debug("closing an export's cursor failed", exc_info=True)
        finally:
            self._connection.close()  # rolls the read transaction back


def ndjson_lines(cursor: ExportCursor) -> Iterator[bytes]:
    """One `GET /v1/responses/{id}` body per line."""
    for chunk in cursor.chunks():
        yield b"".join(to_out_from_row(row).model_dump_json().encode() + b"\n" for row in chunk)


def csv_chunks(cursor: ExportCursor, *, bom: bool = False) -> Iterator[bytes]:
    """The import CSV layout (README "Bulk import"), so an export can be imported again;
    with `bom`, a UTF-8 byte-order mark first (for Excel; `import` skips it)."""
    # In the first chunk, not before it: the cursor is closed by its own iteration.
    prefix = BOM.encode() if bom else b""
    header = True
    for chunk in cursor.chunks():
        out = io.StringIO()
        write_csv((_body(row) for row in chunk), out, header=header)
        header = False
        yield prefix + out.getvalue().encode()
        prefix = b""
    if header:  # no rows: still a header
        out = io.StringIO()
        write_csv([], out)
        yield prefix + out.getvalue().encode()


def _body(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row in the shape of a POST body (what write_csv flattens)."""
    return {
        "id": row["id"],
        "respondent_id": row["respondent_id"],
        "score": row["score"],
        "dimensions": {name: row[name] for name in DIMENSIONS},
        "comment": row["comment"],
        "context": {name: row[name] for name in CONTEXT_FIELDS},
        "weight": row["weight"],
        "properties": row["properties"],
        "submitted_at": row["submitted_at"].isoformat().replace("+00:00", "Z"),
    }
