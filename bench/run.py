"""nps-service benchmark: load N demo answers into PostgreSQL and measure against the limits.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/run.py --rows 10000000

Every figure is printed beside a baseline measured in the same run on the same machine
(this machine is shared and noisy: compare ratios, not absolute numbers):

- ingest: single POST (concurrent clients; 1 and 2 server workers) against one-row-per-
  transaction INSERTs; batch POST against multi-row INSERTs; `import` against COPY;
- queries: p50/p95 of four dashboard queries through the API (rollups) against the same
  query as a raw GROUP BY in PostgreSQL and in DuckDB over the same data;
- peak RSS of the server processes.
"""

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# `python bench/run.py` puts bench/ itself on sys.path; the sibling modules are imported as
# the `bench` package, so the repository root has to be there too (`-m bench.run` has it).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psycopg
from sqlalchemy.engine import Engine

from bench.data import (
    answers_for_ingest,
    copy_baseline,
    demo_file,
    fresh_database,
    insert_limit,
    psycopg_url,
    timed_import,
)
from bench.queries import Query, compare_query, dashboard_queries, duckdb_responses
from bench.report import Report, log, rate
from bench.server import CLIENT, admin_key, http_ingest, ingest_bodies, served
from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.migrate import upgrade
from nps_service.rollups import fold_all

SAMPLE_ROWS = 1_000_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--server",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (a database nps_bench is created on it)",
    )
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per ingest run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent single-post clients")
    parser.add_argument("--query-runs", type=int, default=30)
    parser.add_argument("--port", type=int, default=8765)
    return parser.parse_args()


def measure_import(report: Report, url: str, engine: Engine, sample: Path, rows: int) -> None:
    """`import` against COPY into empty tables, then the first fold."""
    log(f"import vs COPY on {rows:,} rows (empty tables, same indexes)")
    copy_rate = copy_baseline(url, sample)
    created, seconds = timed_import(engine, sample)
    import_rate = rate(created, seconds)
    report.add(
        f"import, {rows:,} rows (rows/s)",
        f"{import_rate:,.0f}",
        f"COPY {copy_rate:,.0f}",
        f"{import_rate / copy_rate:.0%} of COPY",
    )
    started = time.perf_counter()
    folded = fold_all(engine)
    fold_seconds = time.perf_counter() - started
    log(
        f"  folded {folded:,} answers in {fold_seconds:.1f} s ({rate(folded, fold_seconds):,.0f}/s)"
    )


def load_rest(report: Report, url: str, engine: Engine, main_file: Path, rows: int) -> None:
    """Import and fold the bulk of the rows, then VACUUM ANALYZE for the queries."""
    log(f"loading the other {rows:,} rows with import")
    created, seconds = timed_import(engine, main_file)
    log(f"  {created:,} rows in {seconds:.0f} s ({rate(created, seconds):,.0f}/s)")
    started = time.perf_counter()
    folded = fold_all(engine)
    fold_seconds = time.perf_counter() - started
    report.add(
        f"fold into rollups, {folded:,} rows (rows/s)",
        f"{rate(folded, fold_seconds):,.0f}",
        "-",
        f"{fold_seconds:.0f} s in all",
    )
    with psycopg.connect(psycopg_url(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        counts = connection.execute(
            "SELECT (SELECT count(*) FROM responses), (SELECT count(*) FROM rollups)"
        ).fetchone()
    assert counts is not None
    log(f"  {counts[0]:,} responses, {counts[1]:,} rollup rows")


def measure_queries(
    report: Report,
    args: argparse.Namespace,
    url: str,
    key: str,
    queries: list[Query],
    files: tuple[Path, Path],
) -> int:
    """Every dashboard query against its baselines; returns the server's peak RSS."""
    log("queries: API (rollups) vs raw GROUP BY in PostgreSQL vs DuckDB")
    duck = duckdb_responses(files)
    with served(url, 1, args.port) as (base, sampler):
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            for query in queries:
                compare_query(report, http, duck, url, query, args.query_runs)
        query_rss = sampler.peak_total
    duck.close()
    return query_rss


def measure_ingest(
    report: Report, args: argparse.Namespace, url: str, key: str, query_rss: int
) -> None:
    """The database's INSERT limits, then single and batch POSTs with 1 and 2 workers."""
    log("ingest limits of the database (same table shape and indexes)")
    answers = answers_for_ingest(50_000, seed=99)
    single_limit = insert_limit(url, answers, args.clients, 1, args.duration)
    multi_limit = insert_limit(url, answers, 4, 1000, args.duration)
    limits = (single_limit, multi_limit)
    for workers in (1, 2):
        measure_server_ingest(report, args, url, key, answers, workers, limits)
    report.add(
        "server RSS during queries, peak (MB)", f"{query_rss / 2**20:,.0f}", "target 300", "-"
    )


def measure_server_ingest(
    report: Report,
    args: argparse.Namespace,
    url: str,
    key: str,
    answers: list[dict[str, Any]],
    workers: int,
    limits: tuple[float, float],
) -> None:
    """Single and batch POSTs against one server with `workers` workers, and its peak RSS."""
    single_limit, multi_limit = limits
    singles, batches = ingest_bodies(answers)
    with served(url, workers, args.port) as (base, sampler):
        single_rate, failed = http_ingest(
            base, key, singles, "/v1/responses", args.clients, args.duration
        )
        report.add(
            f"single POST, {args.clients} {CLIENT} clients, {workers} worker(s) (answers/s)",
            f"{single_rate:,.0f}" + (f" ({failed} failed)" if failed else ""),
            f"1 row/transaction INSERT {single_limit:,.0f}",
            f"{single_rate / single_limit:.0%} of the limit",
        )
        batch_rate, failed = http_ingest(
            base, key, batches, "/v1/responses/batch", 4, args.duration
        )
        report.add(
            f"batch POST x1000, 4 {CLIENT} clients, {workers} worker(s) (answers/s)",
            f"{batch_rate * 1000:,.0f}" + (f" ({failed} failed)" if failed else ""),
            f"1000-row INSERT {multi_limit:,.0f}",
            f"{batch_rate * 1000 / multi_limit:.0%} of the limit",
        )
    report.add(
        f"server RSS, {workers} worker(s), peak (MB)",
        f"{sampler.peak_total / 2**20:,.0f}",
        "target 300",
        f"largest process {sampler.peak_process / 2**20:,.0f} MB",
    )


def main() -> None:
    args = parse_args()
    report = Report()
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    sample_rows = min(SAMPLE_ROWS, args.rows // 2)

    url = fresh_database(args.server, "nps_bench")
    engine = create_db_engine(Settings(database_url=url, rollup_interval_seconds=0))
    upgrade(engine)
    sample = demo_file(sample_rows, seed=7, end=end)
    main_file = demo_file(args.rows - sample_rows, seed=42, end=end)

    measure_import(report, url, engine, sample, sample_rows)
    load_rest(report, url, engine, main_file, args.rows - sample_rows)
    queries = dashboard_queries(url)
    key = admin_key(url)
    query_rss = measure_queries(report, args, url, key, queries, (sample, main_file))
    measure_ingest(report, args, url, key, query_rss)
    report.print()
    engine.dispose()


if __name__ == "__main__":
    main()
