"""The `nps_bi` views (migration 0010) against the same aggregates over `responses`.

    .venv/bin/python bench/bi_views.py --rows 1000000

`--rows` demo answers (a year, 5,000 merchants) are imported into nps_bench_bi and folded.
Each query of README "Speed" is timed (p50/p95) as a view query and as the equivalent
aggregate over public.responses, round-robin for `--seconds` each phase: idle (server up,
nothing posted), then while ~`--rate` answers/s are posted through the API in 100-answer
batches (pending queue non-empty, folder running). Last, segment='all' daily counts of
daily_scores_china are checked against count(*) per China day over responses.
"""

import argparse
import asyncio
import sys
import time
from datetime import UTC, date, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from bench.data import demo_file, fresh_database, psycopg_url, timed_import
from bench.load import BatchLoad, batch_bodies
from bench.report import log, percentiles
from bench.server import admin_key, served
from bench.tail import TailSampler, stored_count
from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.migrate import upgrade
from nps_service.rollups import fold_all

DB = "nps_bench_bi"
CHINA_DAY = "((submitted_at AT TIME ZONE 'UTC') + INTERVAL '8 hours')::date"
NPS = "100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / count(*)"
SUMMED_NPS = "100.0 * (sum(overall_promoters) - sum(overall_detractors)) / sum(overall_n)"
# (label, view query, the same aggregate over responses); %(...)s from `params()`.
QUERIES = (
    (
        "daily NPS in China days since {since} (segment = 'all')",
        "SELECT day, overall_n, overall_nps FROM nps_bi.daily_scores_china "
        "WHERE segment = 'all' AND day >= %(since)s ORDER BY day",
        f"SELECT {CHINA_DAY} AS day, count(*), {NPS} FROM responses "
        "WHERE submitted_at >= %(since_start)s GROUP BY 1 ORDER BY 1",
    ),
    (
        "NPS per category per China day, whole year",
        "SELECT day, category, overall_n, overall_nps FROM nps_bi.daily_scores_china "
        "WHERE segment = 'category' ORDER BY day, category",
        f"SELECT {CHINA_DAY} AS day, category, count(*), {NPS} FROM responses "
        "GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    (
        "one merchant's ({merchant}) China days since {recent}",
        "SELECT day, category, overall_n, overall_nps FROM nps_bi.daily_scores_china "
        "WHERE segment = 'merchant' AND merchant_id = %(merchant)s AND day >= %(recent)s "
        "ORDER BY day, category",
        f"SELECT {CHINA_DAY} AS day, category, count(*), {NPS} FROM responses "
        "WHERE merchant_id = %(merchant)s AND submitted_at >= %(recent_start)s "
        "GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    (
        "every merchant over the last 35 days, filtered on day_start",
        f"SELECT merchant_id, category, sum(overall_n), {SUMMED_NPS} "
        "FROM nps_bi.daily_scores_china WHERE segment = 'merchant' "
        "AND day_start >= %(last35_start)s GROUP BY 1, 2",
        f"SELECT merchant_id, category, count(*), {NPS} FROM responses "
        "WHERE merchant_id IS NOT NULL AND submitted_at >= %(last35_start)s GROUP BY 1, 2",
    ),
    (
        "the same, filtered on day",
        f"SELECT merchant_id, category, sum(overall_n), {SUMMED_NPS} "
        "FROM nps_bi.daily_scores_china WHERE segment = 'merchant' "
        "AND day >= %(last35)s GROUP BY 1, 2",
        f"SELECT merchant_id, category, count(*), {NPS} FROM responses "
        "WHERE merchant_id IS NOT NULL AND submitted_at >= %(last35_start)s GROUP BY 1, 2",
    ),
    (
        "merchants: counts and NPS of every merchant, all time",
        "SELECT merchant_id, category, overall_n, overall_nps FROM nps_bi.merchants",
        f"SELECT merchant_id, category, count(*), {NPS} FROM responses "
        "WHERE merchant_id IS NOT NULL GROUP BY 1, 2",
    ),
)
EXACT_VIEW = "SELECT day, overall_n FROM nps_bi.daily_scores_china WHERE segment = 'all'"
EXACT_RAW = f"SELECT {CHINA_DAY}, count(*) FROM responses GROUP BY 1"
CATEGORIES = ("beauty", "food", "apparel", "home", "electronics")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reuse", type=int, default=0, help=f"1: reuse {DB} if it exists")
    parser.add_argument("--seconds", type=float, default=30.0, help="per phase")
    parser.add_argument("--rate", type=int, default=1000, help="answers/s posted under load")
    parser.add_argument("--port", type=int, default=8768)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    return parser.parse_args()


def database(args: argparse.Namespace) -> str:
    """nps_bench_bi migrated to head and holding `--rows` folded demo answers."""
    url = args.server.rsplit("/", 1)[0] + "/" + DB
    with psycopg.connect(psycopg_url(args.server), autocommit=True) as db:
        exists = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone()
    if args.reuse and exists:
        log(f"reusing {DB}")
        upgrade(engine := create_db_engine(Settings(database_url=url)))
        engine.dispose()
        return url
    url = fresh_database(args.server, DB)
    upgrade(engine := create_db_engine(Settings(database_url=url, rollup_interval_seconds=0)))
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    created, seconds = timed_import(engine, demo_file(args.rows, 42, end))
    log(f"  imported {created:,} answers in {seconds:.0f} s")
    started = time.perf_counter()
    log(f"  folded {fold_all(engine):,} in {time.perf_counter() - started:.0f} s")
    engine.dispose()
    with psycopg.connect(psycopg_url(url), autocommit=True) as db:
        db.execute("VACUUM ANALYZE")
    return url


def params(url: str) -> dict[str, Any]:
    """Dates relative to the newest answer (China days), and the busiest merchant."""
    with psycopg.connect(psycopg_url(url)) as db:
        row = db.execute(f"SELECT max({CHINA_DAY}) FROM responses").fetchone()
        busiest = db.execute(
            "SELECT merchant_id FROM responses WHERE merchant_id IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    assert row
    assert busiest
    last: date = row[0]

    def start(day: date) -> datetime:  # the instant a China day starts
        return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=8)

    since, recent, last35 = last - timedelta(150), last - timedelta(90), last - timedelta(34)
    return {
        "since": since,
        "since_start": start(since),
        "recent": recent,
        "recent_start": start(recent),
        "last35": last35,
        "last35_start": start(last35),
        "merchant": busiest[0],
    }


def sample(url: str, values: dict[str, Any], seconds: float) -> dict[str, list[list[float]]]:
    """Each query as view and as raw aggregate, round-robin for `seconds` (ms samples)."""
    samples = {label: [[], []] for label, _, _ in QUERIES}
    with psycopg.connect(psycopg_url(url), autocommit=True) as db:
        for _, view, raw in QUERIES:  # warm up: plans, cache
            db.execute(view, values).fetchall()
            db.execute(raw, values).fetchall()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline or min(len(s[1]) for s in samples.values()) < 5:
            for label, view, raw in QUERIES:
                for i, query in enumerate((view, raw)):
                    started = time.perf_counter()
                    db.execute(query, values).fetchall()
                    samples[label][i].append((time.perf_counter() - started) * 1000)
    return samples


def post_answers(base: str, key: str, rate: int, stop: Any, out: Any) -> None:
    """In its own process: ~`rate` answers/s in 100-answer batches until `stop` is set."""
    answers = [
        {
            "respondent_id": f"u_{i}",
            "score": i % 11,
            "dimensions": {"logistics": (i * 7) % 11, "product": (i * 3) % 11},
            "context": {
                "merchant_id": f"m_{i % 500 + 1}",
                "category": CATEGORIES[i % len(CATEGORIES)],
                "channel": "live_stream",
                "platform": "ios",
            },
        }
        for i in range(100)
    ]
    load = BatchLoad(base, key, batch_bodies(answers, 100, fresh=1200), 4, rate / 100)
    started = time.perf_counter()
    asyncio.run(load.post_until(stop))
    out.put((load.accepted / (time.perf_counter() - started), load.failed))


def exact(url: str) -> tuple[bool, int, int]:
    """segment='all' daily counts of the view = count(*) per China day, one snapshot."""
    with psycopg.connect(psycopg_url(url)) as db:
        db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        view = {day: int(n) for day, n in db.execute(EXACT_VIEW).fetchall()}
        raw = {day: int(n) for day, n in db.execute(EXACT_RAW).fetchall()}
    return view == raw, sum(view.values()), sum(raw.values())


def cell(ms: list[float]) -> str:
    p50, p95 = percentiles(ms)
    return f"{p50:.1f} / {p95:.1f}"


def ratio(view: list[float], raw: list[float]) -> str:
    (v50, v95), (r50, r95) = percentiles(view), percentiles(raw)
    return f"{r50 / v50:.1f}x / {r95 / v95:.1f}x"


def table(labels: list[str], idle: dict[str, Any], loaded: dict[str, Any]) -> list[str]:
    headers = [
        "query",
        "view p50/p95 idle (ms)",
        "raw p50/p95 idle (ms)",
        "raw/view",
        "view p50/p95 under load (ms)",
        "raw p50/p95 under load (ms)",
        "raw/view",
    ]
    rows = [headers]
    for label, (name, _, _) in zip(labels, QUERIES, strict=True):
        (iv, ir), (lv, lr) = idle[name], loaded[name]
        rows.append([label, cell(iv), cell(ir), ratio(iv, ir), cell(lv), cell(lr), ratio(lv, lr)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return [line(rows[0]), rule, *(line(r) for r in rows[1:])]


def measure(args: argparse.Namespace, url: str, values: dict[str, Any]) -> list[str]:
    key, spawn = admin_key(url), get_context("spawn")
    tail = TailSampler(psycopg_url(url))
    tail.start()
    notes = []
    with served(url, 2, args.port) as (base, _):
        time.sleep(3)
        log(f"idle: {len(QUERIES)} queries x (view, raw) round-robin for {args.seconds:.0f} s")
        idle = sample(url, values, args.seconds)
        pending_idle = max(tail.samples[-10:], default=0)
        stop, out = spawn.Event(), spawn.Queue()
        poster = spawn.Process(target=post_answers, args=(base, key, args.rate, stop, out))
        before, seen = stored_count(psycopg_url(url)), len(tail.samples)
        poster.start()
        time.sleep(3)
        log(f"under load: ~{args.rate:,} answers/s posted, queries for {args.seconds:.0f} s")
        loaded = sample(url, values, args.seconds)
        during = tail.samples[seen:]
        stop.set()
        posted, failed = out.get(timeout=120)
        poster.join()
        stored = stored_count(psycopg_url(url)) - before
        time.sleep(3)
        ok, in_view, in_raw = exact(url)
    tail.stop()
    busy = sum(1 for n in during if n > 0)
    notes.append(
        f"ingest under load: {posted:,.0f} answers/s accepted (target {args.rate:,}), "
        f"{failed} failed batches, {stored:,} answers stored during the phase"
    )
    notes.append(
        f"pending_rollup under load: {busy}/{len(during)} samples non-empty, peak "
        f"{max(during, default=0):,}, mean {sum(during) / max(len(during), 1):,.0f}; "
        f"idle max {pending_idle:,}"
    )
    runs = min(len(v[0]) for v in idle.values()), min(len(v[0]) for v in loaded.values())
    notes.append(f"runs per query: idle >= {runs[0]}, under load >= {runs[1]}")
    notes.append(
        f"exact after the load: segment='all' daily counts = count(*) per China day: {ok} "
        f"(view {in_view:,}, responses {in_raw:,})"
    )
    labels = [label.format(**values) for label, _, _ in QUERIES]
    return [*table(labels, idle, loaded), "", *notes]


def main() -> None:
    args, started = parse_args(), time.perf_counter()
    url = database(args)
    values = params(url)
    rows = stored_count(psycopg_url(url))
    lines = measure(args, url, values)
    print(f"\n{rows:,} answers in {DB} before the load; newest China day + ids: {values}")
    print("\n".join(lines))
    log(f"wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
