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
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory, normalise_database_url
from nps_service.demo import DemoConfig, generate, write_csv
from nps_service.filters import ResponseFilter
from nps_service.importer import import_stream, open_counted
from nps_service.keys.service import Scope, create_key
from nps_service.migrate import upgrade
from nps_service.rollups.fold import fold_all
from nps_service.scores.buckets import Interval
from nps_service.scores.query import group_totals
from nps_service.timezones import parse_time_zone

DATA_DIR = Path(__file__).resolve().parent / ".data"
SAMPLE_ROWS = 1_000_000
RESPONSE_INDEXES = (
    "CREATE INDEX ON {t} (submitted_at, id)",
    "CREATE INDEX ON {t} (merchant_id, submitted_at)",
    "CREATE INDEX ON {t} (category, submitted_at)",
    "CREATE INDEX ON {t} (respondent_id, submitted_at)",
)
# The CSV layout, typed: the shape COPY and the INSERT baselines write.
BASELINE_TABLE = """
CREATE TABLE {t} (
    id uuid PRIMARY KEY, respondent_id varchar(128) NOT NULL, score smallint NOT NULL,
    logistics smallint, product smallint, service smallint, app smallint, comment text,
    merchant_id varchar(64), category varchar(64), channel varchar(64), region varchar(64),
    platform varchar(64), touchpoint varchar(64), order_id varchar(64),
    weight double precision, properties jsonb, submitted_at timestamptz NOT NULL
)"""
BASELINE_COLUMNS = (
    "id, respondent_id, score, logistics, product, service, app, comment, merchant_id, "
    "category, channel, region, platform, touchpoint, order_id, weight, properties, submitted_at"
)


@dataclass
class Report:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, what: str, value: str, baseline: str, ratio: str) -> None:
        self.rows.append((what, value, baseline, ratio))
        print(f"  {what}: {value}  (baseline {baseline}; {ratio})", flush=True)

    def print(self) -> None:
        headers = ("measure", "nps-service", "baseline (same run)", "ratio")
        widths = [max(len(r[i]) for r in [headers, *self.rows]) for i in range(4)]
        line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
        print("\n" + line)
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for row in self.rows:
            print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def rate(n: float, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


# ---------------------------------------------------------------------------- data


def demo_file(rows: int, seed: int, end: datetime) -> Path:
    """A demo CSV, generated once and reused by later runs."""
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / f"demo-{rows}-{seed}-{end:%Y%m%d%H}.csv"
    if not path.exists():
        log(f"generating {rows:,} demo answers into {path.name}")
        started = time.perf_counter()
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", newline="") as out:
            write_csv(generate(DemoConfig(count=rows, seed=seed, end=end)), out)
        partial.rename(path)
        log(f"  {rate(rows, time.perf_counter() - started):,.0f} answers/s")
    return path


def fresh_database(server_url: str, name: str) -> str:
    admin = create_engine(normalise_database_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return normalise_database_url(server_url).set(database=name).render_as_string(False)


def psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def baseline_table(url: str, name: str) -> None:
    with psycopg.connect(psycopg_url(url), autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {name}")
        connection.execute(BASELINE_TABLE.format(t=name))
        for index in RESPONSE_INDEXES:
            connection.execute(index.format(t=name))


# ---------------------------------------------------------------------------- import vs COPY


def copy_baseline(url: str, path: Path) -> float:
    """COPY the CSV into a table of the same shape and indexes; returns rows/s."""
    baseline_table(url, "copy_baseline")
    started = time.perf_counter()
    with psycopg.connect(psycopg_url(url)) as connection, connection.cursor() as cursor:
        with (
            cursor.copy(
                f"COPY copy_baseline ({BASELINE_COLUMNS}) FROM STDIN (FORMAT csv, HEADER true)"
            ) as copy,
            path.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        rows = cursor.rowcount
        connection.commit()
    seconds = time.perf_counter() - started
    with psycopg.connect(psycopg_url(url), autocommit=True) as connection:
        connection.execute("DROP TABLE copy_baseline")
    return rate(rows, seconds)


def timed_import(engine: Engine, path: Path) -> tuple[int, float]:
    stream, _ = open_counted(path)
    started = time.perf_counter()
    with stream:
        result = import_stream(engine, stream, "csv")
    return result.created, time.perf_counter() - started


# ---------------------------------------------------------------------------- INSERT limits


def answers_for_ingest(count: int, seed: int) -> list[dict[str, Any]]:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return list(generate(DemoConfig(count=count, seed=seed, end=end, days=30)))


def _baseline_row(answer: dict[str, Any]) -> tuple[Any, ...]:
    dims = answer.get("dimensions") or {}
    ctx = answer.get("context") or {}
    props = answer.get("properties")
    return (
        answer["id"],
        answer["respondent_id"],
        answer["score"],
        dims.get("logistics"),
        dims.get("product"),
        dims.get("service"),
        dims.get("app"),
        answer.get("comment"),
        ctx.get("merchant_id"),
        ctx.get("category"),
        ctx.get("channel"),
        ctx.get("region"),
        ctx.get("platform"),
        ctx.get("touchpoint"),
        ctx.get("order_id"),
        answer.get("weight", 1.0),
        json.dumps(props) if props else None,
        answer["submitted_at"],
    )


def insert_limit(
    url: str, answers: list[dict[str, Any]], clients: int, per_transaction: int, seconds: float
) -> float:
    """Rows/s that `clients` threads reach inserting `per_transaction` rows per commit."""
    baseline_table(url, "insert_baseline")
    placeholders = "(" + ", ".join(["%s"] * 18) + ")"
    rows = [_baseline_row(a) for a in answers]
    done = [0] * clients
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        with psycopg.connect(psycopg_url(url)) as connection:
            position = index * per_transaction
            while time.perf_counter() < deadline:
                chunk = [rows[(position + i) % len(rows)] for i in range(per_transaction)]
                chunk = [(str(uuid.uuid4()), *row[1:]) for row in chunk]
                values = ", ".join([placeholders] * len(chunk))
                connection.execute(
                    f"INSERT INTO insert_baseline ({BASELINE_COLUMNS}) VALUES {values}",
                    [v for row in chunk for v in row],
                )
                connection.commit()
                done[index] += len(chunk)
                position += per_transaction * clients

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    with psycopg.connect(psycopg_url(url), autocommit=True) as connection:
        connection.execute("DROP TABLE insert_baseline")
    return rate(sum(done), elapsed)


# ---------------------------------------------------------------------------- the server


@contextmanager
def served(url: str, workers: int, port: int) -> Iterator[tuple[str, "RssSampler"]]:
    env = {**os.environ, "NPS_DATABASE_URL": url, "NPS_LOG_LEVEL": "warning"}
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
        prefix="nps-bench-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nps_service",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"server did not start; see {log_file.name}")
        time.sleep(0.3)
    sampler = RssSampler(process.pid)
    sampler.start()
    try:
        yield base, sampler
    finally:
        sampler.stop()
        process.terminate()
        process.wait(timeout=60)


class RssSampler(threading.Thread):
    """Peak resident memory of the server and its worker processes."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak_total = 0
        self.peak_process = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.2):
            try:
                family = [self.process, *self.process.children(recursive=True)]
                sizes = [p.memory_info().rss for p in family]
            except psutil.Error:
                continue
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_process = max(self.peak_process, max(sizes))

    def stop(self) -> None:
        self._done.set()
        self.join()


def admin_key(url: str) -> str:
    engine = create_db_engine(Settings(database_url=url))
    with make_session_factory(engine)() as session:
        _, plaintext = create_key(session, "bench", [Scope.ADMIN])
        session.commit()
    engine.dispose()
    return plaintext


async def _post_for(
    base: str, key: str, path: str, bodies: list[bytes], clients: int, seconds: float
) -> tuple[int, int]:
    """(requests, failures) while `clients` connections post bodies back to back."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    counts = [0, 0]
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:

        async def one(index: int) -> None:
            position = index
            while time.perf_counter() < deadline:
                reply = await client.post(path, content=bodies[position % len(bodies)])
                counts[0 if reply.status_code in (200, 201) else 1] += 1
                position += clients

        await asyncio.gather(*(one(i) for i in range(clients)))
    return counts[0], counts[1]


# wrk (a C load generator) when installed: a Python client needs a core of its own to post
# a few hundred requests a second, and this machine has two.
WRK_SCRIPT = """
local bodies, position, step = {}, 0, 1
setup = function(thread)
  threads = (threads or 0) + 1
  thread:set("first", threads - 1)
end
init = function(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  position, step = first, tonumber(args[2])
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[3]
end
request = function()
  local body = bodies[position % #bodies + 1]
  position = position + step
  return wrk.format(nil, nil, nil, body)
end
"""


def _wrk_ingest(
    base: str, key: str, bodies: list[bytes], path: str, clients: int, seconds: float
) -> tuple[float, int]:
    threads = 2
    with tempfile.TemporaryDirectory(prefix="nps-bench-") as folder:
        script, data = Path(folder) / "post.lua", Path(folder) / "bodies.ndjson"
        script.write_text(WRK_SCRIPT)
        data.write_bytes(b"\n".join(bodies) + b"\n")
        result = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{clients}",
                f"-d{seconds:.0f}s",
                "-s",
                str(script),
                base + path,
                "--",
                str(data),
                str(threads),
                key,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", result.stdout)
    if total is None:
        raise SystemExit(f"unexpected wrk output:\n{result.stdout}")
    elapsed = float(total[2]) / (1000 if total[3] == "ms" else 1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    failed = int(bad[1]) if bad else 0
    return rate(int(total[1]) - failed, elapsed), failed


CLIENT = "wrk" if shutil.which("wrk") else "httpx"


def http_ingest(
    base: str, key: str, bodies: list[bytes], path: str, clients: int, seconds: float
) -> tuple[float, int]:
    """Accepted answers (or batches) per second, and how many requests failed."""
    if shutil.which("wrk"):
        return _wrk_ingest(base, key, bodies, path, clients, seconds)
    started = time.perf_counter()
    ok, failed = asyncio.run(_post_for(base, key, path, bodies, clients, seconds))
    return rate(ok, time.perf_counter() - started), failed


# ---------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Query:
    name: str
    params: dict[str, str]
    duckdb_sql: str
    path: str = "/v1/scores"
    moments: bool = False  # key drivers: the raw baseline sums the moments too


def dashboard_queries(url: str) -> list[Query]:
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
    end = (last[0].astimezone(UTC) + timedelta(days=1)).date()
    start = end - timedelta(days=90)
    window = (
        f"submitted_at >= TIMESTAMPTZ '{start}T00:00:00+08:00' "
        f"AND submitted_at < TIMESTAMPTZ '{end}T00:00:00+08:00'"
    )
    nps = (
        "count(*) n, count(*) FILTER (WHERE score >= 9) p, count(*) FILTER (WHERE score <= 6) d, "
        "count(logistics) nl, count(*) FILTER (WHERE logistics >= 9) pl, "
        "count(*) FILTER (WHERE logistics <= 6) dl"
    )
    # Key drivers' complete-case moments (n, Σx, Σxy over score and the four ratings).
    variables = ("score", "logistics", "product", "service", "app")
    moments = ", ".join(
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
            f"one merchant ({merchant[0]}), 90 days",
            {**ranged, "merchant_id": merchant[0]},
            f"SELECT {nps} FROM responses WHERE merchant_id = '{merchant[0]}' AND {window}",
        ),
        Query(
            f"merchant ranking in {category[0]}, 90 days",
            {**ranged, "category": category[0], "group_by": "merchant_id", "sort": "-ci_low"},
            f"SELECT merchant_id, {nps} FROM responses WHERE category = '{category[0]}' "
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
            f"key drivers of {category[0]}, 90 days",
            {**ranged, "category": category[0]},
            f"SELECT {nps}, {moments} FROM responses WHERE category = '{category[0]}' AND {window}",
            path="/v1/drivers",
            moments=True,
        ),
    ]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def time_runs(run: Callable[[], object], repeats: int, warmup: int = 2) -> tuple[float, float]:
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def raw_postgres(url: str, query: Query) -> Callable[[], object]:
    """The same query answered by one GROUP BY over `responses` (no rollups)."""
    engine = create_db_engine(Settings(database_url=url))
    params = query.params
    tz = parse_time_zone(params.get("tz", "UTC"))
    scope = ResponseFilter(
        start=datetime.fromisoformat(params["from"]).replace(tzinfo=tz).astimezone(UTC)
        if "from" in params
        else None,
        end=datetime.fromisoformat(params["to"]).replace(tzinfo=tz).astimezone(UTC)
        if "to" in params
        else None,
        tz=tz,
        segments={k: (v,) for k, v in params.items() if k in ("merchant_id", "category")},
    )
    interval = Interval(params["interval"]) if "interval" in params else None
    group_by = [params["group_by"]] if "group_by" in params else []

    def run() -> object:
        with make_session_factory(engine)() as session:
            return group_totals(
                session,
                scope,
                interval=interval,
                group_by=group_by,
                weighted=False,
                moments=query.moments,
                use_rollups=False,
            )

    return run


# ---------------------------------------------------------------------------- main


def main() -> None:
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
    args = parser.parse_args()
    report = Report()
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    sample_rows = min(SAMPLE_ROWS, args.rows // 2)

    url = fresh_database(args.server, "nps_bench")
    engine = create_db_engine(Settings(database_url=url, rollup_interval_seconds=0))
    upgrade(engine)
    sample = demo_file(sample_rows, seed=7, end=end)
    main_file = demo_file(args.rows - sample_rows, seed=42, end=end)

    log(f"import vs COPY on {sample_rows:,} rows (empty tables, same indexes)")
    copy_rate = copy_baseline(url, sample)
    created, seconds = timed_import(engine, sample)
    import_rate = rate(created, seconds)
    report.add(
        f"import, {sample_rows:,} rows (rows/s)",
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

    log(f"loading the other {args.rows - sample_rows:,} rows with import")
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

    queries = dashboard_queries(url)
    key = admin_key(url)
    log("queries: API (rollups) vs raw GROUP BY in PostgreSQL vs DuckDB")
    import duckdb

    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'UTC'")
    files = ", ".join(f"'{p}'" for p in (sample, main_file))
    duck.execute(
        f"CREATE TABLE responses AS SELECT * FROM read_csv([{files}], header = true, "
        "columns = {'id': 'UUID', 'respondent_id': 'VARCHAR', 'score': 'SMALLINT', "
        "'logistics': 'SMALLINT', 'product': 'SMALLINT', 'service': 'SMALLINT', "
        "'app': 'SMALLINT', 'comment': 'VARCHAR', 'merchant_id': 'VARCHAR', "
        "'category': 'VARCHAR', 'channel': 'VARCHAR', 'region': 'VARCHAR', "
        "'platform': 'VARCHAR', 'touchpoint': 'VARCHAR', 'order_id': 'VARCHAR', "
        "'weight': 'DOUBLE', 'properties': 'VARCHAR', 'submitted_at': 'TIMESTAMPTZ'})"
    )
    with served(url, 1, args.port) as (base, sampler):
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            for query in queries:

                def api(q: Query = query) -> object:
                    reply = http.get(q.path, params=q.params)
                    reply.raise_for_status()
                    return reply

                p50, p95 = time_runs(api, args.query_runs)
                raw50, raw95 = time_runs(raw_postgres(url, query), 5, warmup=1)
                duck50, duck95 = time_runs(
                    lambda q=query: duck.execute(q.duckdb_sql).fetchall(), 10, warmup=1
                )
                report.add(
                    f"query: {query.name} (ms p50/p95)",
                    f"{p50:.1f} / {p95:.1f}",
                    f"PostgreSQL GROUP BY {raw50:.0f} / {raw95:.0f}; "
                    f"DuckDB {duck50:.0f} / {duck95:.0f}",
                    f"{raw50 / p50:.0f}x faster than PostgreSQL, {duck50 / p50:.1f}x than DuckDB",
                )
        query_rss = sampler.peak_total
    duck.close()

    log("ingest limits of the database (same table shape and indexes)")
    answers = answers_for_ingest(50_000, seed=99)
    single_limit = insert_limit(url, answers, args.clients, 1, args.duration)
    multi_limit = insert_limit(url, answers, 4, 1000, args.duration)
    peak_rss = query_rss
    for workers in (1, 2):
        # Fresh ids every run: a re-posted id is a cheap duplicate, not an insert.
        singles = [json.dumps({**a, "id": str(uuid.uuid4())}).encode() for a in answers]
        batches = [
            json.dumps(
                {
                    "responses": [
                        {**a, "id": str(uuid.uuid4())}
                        for a in answers[i % 49_000 : i % 49_000 + 1000]
                    ]
                }
            ).encode()
            for i in range(0, 300_000, 1000)
        ]
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
        peak_rss = max(peak_rss, sampler.peak_total)
        report.add(
            f"server RSS, {workers} worker(s), peak (MB)",
            f"{sampler.peak_total / 2**20:,.0f}",
            "target 300",
            f"largest process {sampler.peak_process / 2**20:,.0f} MB",
        )
    report.add(
        "server RSS during queries, peak (MB)", f"{query_rss / 2**20:,.0f}", "target 300", "-"
    )
    report.print()
    engine.dispose()


if __name__ == "__main__":
    main()
