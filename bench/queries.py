"""The dashboard queries, timed through the API (rollups) and as raw GROUP BY baselines in
PostgreSQL (the same engine without rollups) and DuckDB (a columnar copy of the CSVs)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import psycopg

from bench.data import psycopg_url
from bench.report import Report, time_runs
from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.filters import ResponseFilter
from nps_service.rollups import SqlTotals, TotalsQuery
from nps_service.survey import Interval
from nps_service.timezones import parse_time_zone

if TYPE_CHECKING:
    import duckdb

NPS_COLUMNS = (
    "count(*) n, count(*) FILTER (WHERE score >= 9) p, count(*) FILTER (WHERE score <= 6) d, "
    "count(logistics) nl, count(*) FILTER (WHERE logistics >= 9) pl, "
    "count(*) FILTER (WHERE logistics <= 6) dl"
)


@dataclass(frozen=True)
class Query:
    name: str
    params: dict[str, str]
    duckdb_sql: str
    path: str = "/v1/scores"
    moments: bool = False  # key drivers: the raw baseline sums the moments too


def _moment_columns() -> str:
    # Key drivers' complete-case moments (n, Σx, Σxy over score and the four ratings).
    variables = ("score", "logistics", "product", "service", "app")
    return ", ".join(
        [
            "count(*) FILTER (WHERE logistics IS NOT NULL AND product IS NOT NULL "
            "AND service IS NOT NULL AND app IS NOT NULL) cc"
        ]
        + [
            f"sum({a} * {b}) FILTER (WHERE logistics IS NOT NULL AND product IS NOT NULL "
            f"AND service IS NOT NULL AND app IS NOT NULL) s_{a}_{b}"
            for i, a in enumerate(variables)
            for b in ("1", *variables[i:])
        ]
    )


def _targets(url: str) -> tuple[datetime, str, str]:
    """The last answer's time, the largest category and a busy merchant in it."""
    with psycopg.connect(psycopg_url(url)) as connection:
        last = connection.execute("SELECT max(submitted_at) FROM responses").fetchone()
        category = connection.execute(
            "SELECT category FROM responses GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        merchant = connection.execute(
            "SELECT merchant_id FROM responses WHERE category = %s GROUP BY 1 "
            "ORDER BY count(*) DESC OFFSET 5 LIMIT 1",
            category,
        ).fetchone()
    assert last is not None
    assert category is not None
    assert merchant is not None
    return last[0], category[0], merchant[0]


def dashboard_queries(url: str) -> list[Query]:
    last, category, merchant = _targets(url)
    end = (last.astimezone(UTC) + timedelta(days=1)).date()
    start = end - timedelta(days=90)
    window = (
        f"submitted_at >= TIMESTAMPTZ '{start}T00:00:00+08:00' "
        f"AND submitted_at < TIMESTAMPTZ '{end}T00:00:00+08:00'"
    )
    nps, moments = NPS_COLUMNS, _moment_columns()
    tz = "Asia/Shanghai"
    ranged = {"from": str(start), "to": str(end), "tz": tz}
    return [
        Query("global NPS, all time", {}, f"SELECT {nps} FROM responses"),
        Query(
            "day x category, 90 days (Asia/Shanghai)",
            {**ranged, "interval": "day", "group_by": "category"},
            f"SELECT date_trunc('day', timezone('{tz}', submitted_at)) b, category, {nps} "
            f"FROM responses WHERE {window} GROUP BY 1, 2",
        ),
        Query(
            f"one merchant ({merchant}), 90 days",
            {**ranged, "merchant_id": merchant},
            f"SELECT {nps} FROM responses WHERE merchant_id = '{merchant}' AND {window}",
        ),
        Query(
            f"merchant ranking in {category}, 90 days",
            {**ranged, "category": category, "group_by": "merchant_id", "sort": "-ci_low"},
            f"SELECT merchant_id, {nps} FROM responses WHERE category = '{category}' "
            f"AND {window} GROUP BY 1",
        ),
        Query(
            "key drivers, all time",
            {},
            f"SELECT {nps}, {moments} FROM responses",
            path="/v1/drivers",
            moments=True,
        ),
        Query(
            f"key drivers of {category}, 90 days",
            {**ranged, "category": category},
            f"SELECT {nps}, {moments} FROM responses WHERE category = '{category}' AND {window}",
            path="/v1/drivers",
            moments=True,
        ),
    ]


# ---------------------------------------------------------------------------- baselines


def _scope(params: dict[str, str]) -> ResponseFilter:
    """The API's query parameters as the engine's filter."""
    tz = parse_time_zone(params.get("tz", "UTC"))
    return ResponseFilter(
        start=datetime.fromisoformat(params["from"]).replace(tzinfo=tz).astimezone(UTC)
        if "from" in params
        else None,
        end=datetime.fromisoformat(params["to"]).replace(tzinfo=tz).astimezone(UTC)
        if "to" in params
        else None,
        tz=tz,
        segments={k: (v,) for k, v in params.items() if k in ("merchant_id", "category")},
    )


def raw_postgres(url: str, query: Query) -> Callable[[], object]:
    """The same query answered by one GROUP BY over `responses` (no rollups)."""
    engine = create_db_engine(Settings(database_url=url))
    params = query.params
    scope = _scope(params)
    interval = Interval(params["interval"]) if "interval" in params else None
    group_by = [params["group_by"]] if "group_by" in params else []

    def run() -> object:
        with make_session_factory(engine)() as session:
            return SqlTotals(session, use_rollups=False).group_totals(
                TotalsQuery(scope, interval, group_by, False, query.moments)
            )

    return run


def duckdb_responses(files: Sequence[Path]) -> "duckdb.DuckDBPyConnection":
    """An in-memory DuckDB with the demo CSVs loaded as `responses`."""
    import duckdb

    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'UTC'")
    paths = ", ".join(f"'{p}'" for p in files)
    duck.execute(
        f"CREATE TABLE responses AS SELECT * FROM read_csv([{paths}], header = true, "
        "columns = {'id': 'UUID', 'respondent_id': 'VARCHAR', 'score': 'SMALLINT', "
        "'logistics': 'SMALLINT', 'product': 'SMALLINT', 'service': 'SMALLINT', "
        "'app': 'SMALLINT', 'comment': 'VARCHAR', 'merchant_id': 'VARCHAR', "
        "'category': 'VARCHAR', 'channel': 'VARCHAR', 'region': 'VARCHAR', "
        "'platform': 'VARCHAR', 'touchpoint': 'VARCHAR', 'order_id': 'VARCHAR', "
        "'weight': 'DOUBLE', 'properties': 'VARCHAR', 'submitted_at': 'TIMESTAMPTZ'})"
    )
    return duck


def compare_query(
    report: Report,
    http: httpx.Client,
    duck: "duckdb.DuckDBPyConnection",
    url: str,
    query: Query,
    runs: int,
) -> None:
    """p50/p95 of one query through the API, beside the PostgreSQL and DuckDB baselines."""

    def api() -> object:
        reply = http.get(query.path, params=query.params)
        reply.raise_for_status()
        return reply

    p50, p95 = time_runs(api, runs)
    raw50, raw95 = time_runs(raw_postgres(url, query), 5, warmup=1)
    duck50, duck95 = time_runs(lambda: duck.execute(query.duckdb_sql).fetchall(), 10, warmup=1)
    report.add(
        f"query: {query.name} (ms p50/p95)",
        f"{p50:.1f} / {p95:.1f}",
        f"PostgreSQL GROUP BY {raw50:.0f} / {raw95:.0f}; DuckDB {duck50:.0f} / {duck95:.0f}",
        f"{raw50 / p50:.0f}x faster than PostgreSQL, {duck50 / p50:.1f}x than DuckDB",
    )
