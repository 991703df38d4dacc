"""nps-service in real life: answers loaded through the API, dashboards opened at once, then
dashboards polled while answers keep arriving.

    .venv/bin/python bench/mixed.py --rows 1000000 --sustain 60

Phases, each printed beside a baseline from the same run:
1. load: `--rows` demo answers (a year of them) posted as 1000-answer batches by 4 clients
   as fast as the server takes them (2 workers, folder on), the pending tail sampled;
2. at once: the four dashboard queries of a China-time dashboard, p50/p95;
3. sustained: ~1,000 answers/s in 100-answer batches plus single answers from `wrk`
   (16 connections) for `--sustain` seconds while the dashboards are polled; p50/p95;
4. after: how long until the queries are back at their idle speed;
5. exact: the global n equals a count of the stored answers.
With `--autovacuum on` the server's autovacuum runs during the run (ALTER SYSTEM, reset
afterwards); `off` is this machine's setting.
"""

import argparse
import asyncio
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dashboards import Dashboard, china_dashboard, time_dashboard
from bench.data import fresh_database, psycopg_url
from bench.load import BatchLoad, SingleLoad, batch_bodies, single_bodies
from bench.report import Report, log, percentiles
from bench.server import admin_key, served
from bench.tail import TailSampler, autovacuum, stored_count
from nps_service.demo import DemoConfig, generate


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sustain", type=float, default=60.0, help="seconds of mixed load")
    parser.add_argument("--rate", type=int, default=1000, help="batched answers/s while mixed")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per dashboard query")
    parser.add_argument("--autovacuum", choices=("off", "on"), default="off")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--server",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (a database nps_mixed is created on it)",
    )
    return parser.parse_args()


def load_phase(report: Report, base: str, key: str, rows: int, tail: TailSampler) -> None:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    answers = list(generate(DemoConfig(count=rows, seed=42, end=end)))
    bodies = batch_bodies(answers, 1000)
    log(f"loading {rows:,} answers through POST /v1/responses/batch (4 clients)")
    started = time.perf_counter()
    accepted, failed = asyncio.run(BatchLoad(base, key, bodies, clients=4).post_all())
    seconds = time.perf_counter() - started
    report.add(
        f"load {rows:,} answers through the API (answers/s)",
        f"{accepted / seconds:,.0f}",
        f"{failed} failed batches",
        f"pending tail at the end {tail.latest():,}, peak {tail.peak():,}",
    )


def dashboards_phase(
    report: Report, label: str, board: list[Dashboard], runs: int
) -> dict[str, tuple[float, float]]:
    """p50/p95 of each dashboard query now."""
    timings = {}
    for query in board:
        p50, p95 = timings[query.label] = time_dashboard(query, runs)
        report.add(f"{label}: {query.label} (ms p50/p95)", f"{p50:.1f} / {p95:.1f}", "", "")
    return timings


def sustained_phase(
    report: Report, base: str, key: str, args: argparse.Namespace, board: list[Dashboard]
) -> None:
    singles = single_bodies(20_000)
    batches = batch_bodies([{"respondent_id": "u_1", "score": 9}] * 100, 100, fresh=400)
    stop = threading.Event()
    batch_load = BatchLoad(base, key, batches, clients=4, per_second=args.rate / 100)
    batch_thread = threading.Thread(target=lambda: asyncio.run(batch_load.post_until(stop)))
    single_load = SingleLoad(base, key, singles, seconds=args.sustain)
    single_thread = threading.Thread(target=single_load.run)
    batch_thread.start()
    single_thread.start()
    time.sleep(3)  # let the load settle
    log(f"mixed load for {args.sustain:.0f} s: dashboards polled meanwhile")
    deadline = time.monotonic() + args.sustain - 5
    samples: dict[str, list[float]] = {q.label: [] for q in board}
    while time.monotonic() < deadline:
        for query in board:
            samples[query.label].append(query.once())
    single_thread.join()
    stop.set()
    batch_thread.join()
    for query in board:
        p50, p95 = percentiles(samples[query.label])
        report.add(
            f"during mixed load: {query.label} (ms p50/p95)", f"{p50:.1f} / {p95:.1f}", "", ""
        )
    report.add(
        "mixed load: batched answers/s + single answers/s",
        f"{batch_load.accepted / args.sustain:,.0f} + {single_load.rate:,.0f}",
        f"{batch_load.failed} + {single_load.failed} failed",
        "",
    )


def run_phases(report: Report, url: str, base: str, args: argparse.Namespace) -> None:
    key = admin_key(url)
    tail = TailSampler(psycopg_url(url))
    tail.start()
    try:
        load_phase(report, base, key, args.rows, tail)
        board = china_dashboard(base, key)
        dashboards_phase(report, "at once", board, args.runs)
        sustained_phase(report, base, key, args, board)
        started = time.perf_counter()
        time.sleep(2)
        dashboards_phase(report, "2 s after the burst", board, args.runs)
        tail.wait_below(1000, timeout=600)
        report.add(
            "after the burst: pending tail under 1,000 (s)",
            f"{time.perf_counter() - started:.1f}",
            "",
            "",
        )
        time.sleep(10)
        idle = dashboards_phase(report, "idle", board, args.runs)
        _compare_with_idle(report, idle)
    finally:
        tail.stop()
    n = board[0].global_n()
    stored = stored_count(psycopg_url(url))
    report.add("exact: global n = stored answers", f"{n:,}", f"{stored:,}", str(n == stored))


def _compare_with_idle(report: Report, idle: dict[str, tuple[float, float]]) -> None:
    """Each measured row of a dashboard query gets its idle p95 as the baseline."""
    for index, (what, value, _, _) in enumerate(report.rows):
        for label, (_, idle_p95) in idle.items():
            if label in what and not what.startswith("idle"):
                p95 = float(value.split(" / ")[1])
                report.rows[index] = (
                    what,
                    value,
                    f"idle p95 {idle_p95:.1f}",
                    f"{p95 / idle_p95:.1f}x idle",
                )


def main() -> None:
    args = parse_args()
    report = Report()
    url = fresh_database(args.server, "nps_mixed")
    on = args.autovacuum == "on"
    with autovacuum(args.server, on), served(url, args.workers, args.port) as (base, _sampler):
        run_phases(report, url, base, args)
    report.print()


if __name__ == "__main__":
    main()
