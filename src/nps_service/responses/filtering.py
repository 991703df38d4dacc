"""The SQL of a `ResponseFilter`: which rows of `responses` a query covers.

Tags and the time range are plain column tests (indexed). `property.<key>=<value>`
filters have no column or rollup, so they test the JSON properties of the answers
themselves, the same way on both databases, within a bounded statement time.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, literal, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from nps_service.errors import QueryTooBroad
from nps_service.filters import ResponseFilter
from nps_service.responses.models import Response


def filter_conditions(
    scope: ResponseFilter, table: Table | None = None
) -> list[ColumnElement[bool]]:
    """SQL conditions selecting the answers in scope, from `responses` or from another
    table with its time and tag columns (the pending queue; it keeps no properties)."""
    columns = (table if table is not None else _RESPONSES).c
    conditions: list[ColumnElement[bool]] = []
    if scope.start is not None:
        conditions.append(columns.submitted_at >= scope.start)
    if scope.end is not None:
        conditions.append(columns.submitted_at < scope.end)
    for name, values in scope.segments.items():
        column = columns[name]
        conditions.append(column == values[0] if len(values) == 1 else column.in_(values))
    if scope.properties:
        assert table is None, "only responses keep properties"
        conditions += [property_condition(k, values) for k, values in scope.properties.items()]
    return conditions


_RESPONSES = cast(Table, Response.__table__)


class _PropertyString(FunctionElement[str]):
    """A property's value when it is a JSON string; NULL for any other type or none.

    Strings only, and the same on both databases: numbers and booleans never equal a query
    string (PostgreSQL would render them as text, SQLite as numbers).
    """

    name = "property_string"
    inherit_cache = True
    type = String()


@compiles(_PropertyString, "postgresql")
def _postgresql(element: _PropertyString, compiler: SQLCompiler, **kw: Any) -> str:
    column, key, _ = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CASE WHEN jsonb_typeof({column} -> {key}) = 'string' THEN {column} ->> {key} END)"


@compiles(_PropertyString, "sqlite")
def _sqlite(element: _PropertyString, compiler: SQLCompiler, **kw: Any) -> str:
    column, _, path = (compiler.process(clause, **kw) for clause in element.clauses)
    return (
        f"(CASE WHEN json_type({column}, {path}) = 'text' THEN json_extract({column}, {path}) END)"
    )


def property_condition(key: str, values: tuple[str, ...]) -> ColumnElement[bool]:
    """Answers whose property `key` is one of `values` (strings).

    The key travels twice: as itself (PostgreSQL's `->`) and as a JSON path (SQLite's
    json_extract); `filters.PROPERTY_KEY` keeps quotes out of it.
    """
    column = Response.__table__.c.properties
    return _PropertyString(column, literal(key), literal(f'$."{key}"')).in_(values)


# Property filters scan answers; past this a query is refused as too broad rather than
# left to hold a connection (PostgreSQL; SQLite is the small, single-machine setup).
STATEMENT_TIMEOUT_MS = 10_000


@contextmanager
def bounded_time(session: Session, scope_has_properties: bool) -> Iterator[None]:
    """Within: statements of this transaction stop after STATEMENT_TIMEOUT_MS (when the
    query filters on properties, on PostgreSQL), and stopping is a clear 422."""
    if not scope_has_properties or session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.execute(
        text("SELECT set_config('statement_timeout', :ms, true)"),
        {"ms": str(STATEMENT_TIMEOUT_MS)},
    )
    try:
        yield
    except OperationalError as exc:
        if type(exc.orig).__name__ != "QueryCanceled":
            raise
        raise QueryTooBroad(
            f"filtering on properties scanned answers for more than {STATEMENT_TIMEOUT_MS // 1000}"
            " s; narrow from/to or add tag filters (merchant_id, category, ...)"
        ) from exc
