"""The data side: demo files, the benchmark database, and the baselines measured on plain
tables of the same shape (COPY for `import`, multi-row and single-row INSERTs for ingest)."""

import json
import re
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bench.report import log, rate
from nps_service.db import normalise_database_url
from nps_service.demo import DemoConfig, generate
from nps_service.responses.formats import write_csv
from nps_service.responses.importer import import_stream, open_counted

DATA_DIR = Path(__file__).resolve().parent / ".data"
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


PGBENCH_SCRIPT = """\\set score random(0, 10)
\\set merchant random(1, 5000)
\\set respondent random(100000, 999999)
INSERT INTO pgbench_responses (id, respondent_id, score, logistics, product, merchant_id,
  category, channel, platform, weight, submitted_at)
VALUES (gen_random_uuid(), 'u_' || :respondent, :score, :score, 10 - :score,
  'm_' || :merchant, 'beauty', 'live_stream', 'ios', 1.0, now());
"""


def pgbench_insert_rate(url: str, clients: int, seconds: float) -> float:
    """Rows/s that pgbench reaches with `clients` connections, one responses-shaped row per
    transaction, into a table of the answers' shape and indexes (C client: no Python in the
    way, so this is the database's own limit on this machine)."""
    baseline_table(url, "pgbench_responses")
    with tempfile.TemporaryDirectory(prefix="nps-bench-") as folder:
        script = Path(folder) / "insert.sql"
        script.write_text(PGBENCH_SCRIPT)
        command = ["pgbench", "-n", "-c", str(clients), "-j", "2", "-T", str(int(seconds))]
        result = subprocess.run(
            [*command, "-f", str(script), psycopg_url(url)],
            capture_output=True,
            text=True,
            check=True,
        )
    with psycopg.connect(psycopg_url(url), autocommit=True) as connection:
        connection.execute("DROP TABLE pgbench_responses")
    found = re.search(r"tps = ([\d.]+)", result.stdout)
    if found is None:
        raise SystemExit(f"unexpected pgbench output:\n{result.stdout}{result.stderr}")
    return float(found[1])
