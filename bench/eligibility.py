"""Eligibility at 10M answers, and what display counts cost `/v1/scores`.

    .venv/bin/python bench/eligibility.py --rows 10000000

`GET /v1/eligibility` (serve --workers 2) against its two lookups from psycopg and pgbench,
idle and under ~1,000 answers/s; `/v1/scores` and engine totals with and without displays.
"""

import argparse
import asyncio
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psycopg
from sqlalchemy.engine import Engine

from bench.data import demo_file, fresh_database, psycopg_url, timed_import
from bench.load import BatchLoad, batch_bodies
from bench.queries import _scope
from bench.report import Report, log, percentiles, time_runs
from bench.server import admin_key, served
from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.migrate import upgrade
from nps_service.rollups import SqlTotals, TotalsQuery, fold_all
from nps_service.survey import Interval

PEOPLE = 3_000_000  # respondent ids u_0 .. u_2999999; u_3000000 .. u_3999999 are unknown
TOUCHPOINTS = "ARRAY['checkout', 'order_detail', 'app_home', NULL]"
FILL_ANSWERS = f"""
INSERT INTO responses (id, respondent_id, score, logistics, product, merchant_id, category, channel,
  platform, touchpoint, weight, submitted_at, submitted_at_given, received_at, content_hash)
SELECT gen_random_uuid(), 'u_' || (i %% {PEOPLE}), (i * 7) %% 11, (i * 3) %% 11, (i * 5) %% 11,
  'm_' || (i %% 5000), (ARRAY['beauty', 'food', 'apparel', 'home'])[i %% 4 + 1], 'live_stream',
  'ios', ({TOUCHPOINTS})[i %% 4 + 1], 1, t, true, t, md5(i::text)
FROM (SELECT i, now() - ((i * 7919) %% 31536000) * interval '1 second' t
      FROM generate_series(%s::bigint, %s::bigint) i) s"""
FILL_DISPLAYS = f"""
INSERT INTO displays (id, respondent_id, touchpoint, merchant_id, category, channel, shown_at,
  shown_at_given, declined_at, response_id, received_at, content_hash)
SELECT gen_random_uuid(), 'u_' || ((i * 7) %% {PEOPLE}), ({TOUCHPOINTS})[i %% 4 + 1],
  'm_' || (i %% 5000), 'beauty', 'live_stream', t, true, CASE WHEN i %% 5 = 0 THEN t + interval
  '30 seconds' END, CASE WHEN i %% 5 = 1 THEN gen_random_uuid() END, t, md5(i::text)
FROM (SELECT i, now() - ((i * 104729) %% 31536000) * interval '1 second' t
      FROM generate_series(1, %s::bigint) i) s"""
# What eligibility() asks (contact rules at their defaults: every touchpoint counts).
ANSWERED = "SELECT max(submitted_at) FROM responses WHERE respondent_id = %s"
DISPLAYED = """SELECT max(declined_at), max(shown_at) FILTER (WHERE response_id IS NULL AND
  declined_at IS NULL) FROM displays WHERE respondent_id = %s"""
PGBENCH = f"\\set r random(0, {PEOPLE * 4 // 3 - 1})\n{ANSWERED};\n{DISPLAYED};\n"
ELIGIBILITY = "/v1/eligibility?touchpoint=checkout&respondent_id="
WRK_LUA = """local ids, i = {%s}, 0
function request() i = i + 1; return wrk.format("GET", "%s" .. ids[i %% #ids + 1], auth) end
auth = {["Authorization"] = "Bearer %s"}"""
# Integer flags (seconds: per wrk and pgbench run; rate: answers/s posted under load).
FLAGS = "rows=10000000 displays=1000000 requests=2000 seconds=10 rate=1000 rate-rows=1000000 "
FLAGS += "rate-displays=50000 runs=30 port=8767 reuse=0 skip-rates=0"  # reuse: nps_bench_elig


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for flag, default in (item.split("=") for item in FLAGS.split()):
        parser.add_argument(f"--{flag}", type=int, default=int(default))
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    return parser.parse_args()


def ms3(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50, p95 = percentiles(ordered)
    return f"{p50:.1f} / {p95:.1f} / {ordered[round(0.99 * (len(ordered) - 1))]:.1f}"


def people(count: int, seed: int) -> list[str]:
    """Respondent ids, a quarter of them never seen."""
    return [f"u_{n}" for n in random.Random(seed).choices(range(PEOPLE * 4 // 3), k=count)]


def fill(url: str, rows: int, displays: int) -> None:
    started, fast = time.perf_counter(), "-c synchronous_commit=off"
    with psycopg.connect(psycopg_url(url), autocommit=True, options=fast) as db:
        for first in range(1, rows + 1, 1_000_000):
            db.execute(FILL_ANSWERS, (first, last := min(rows, first + 999_999)))
            log(f"  {last:,} answers ({time.perf_counter() - started:.0f} s)")
        db.execute(FILL_DISPLAYS, (displays,))
        db.execute("VACUUM ANALYZE responses")
        db.execute("VACUUM ANALYZE displays")
        log(f"  filled in {time.perf_counter() - started:.0f} s")


def timed(call: Callable[[str], object], ids: list[str]) -> list[float]:
    samples = []
    for person in ids:
        started = time.perf_counter()
        call(person)
        samples.append((time.perf_counter() - started) * 1000)
    return samples[20:]


def output(command: list[str], script: str, suffix: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=suffix) as f:
        f.write(script)
        f.flush()
        return subprocess.run([*command, f.name], capture_output=True, check=True, text=True).stdout


def pgbench(url: str, seconds: int) -> tuple[str, float]:
    command = ["pgbench", "-n", "-M", "prepared", "-c16", "-j2", f"-T{seconds}", psycopg_url(url)]
    out = output([*command, "-f"], PGBENCH.replace("%s", "'u_' || :r"), ".sql")
    tps = re.search(r"tps = ([\d.]+)", out)
    assert tps, out
    return f"pgbench 16 clients {float(tps[1]):,.0f}/s", float(tps[1])


def wrk(base: str, key: str, seconds: int) -> tuple[str, float]:
    lua = WRK_LUA % (", ".join(f'"{p}"' for p in people(4000, 3)), ELIGIBILITY, key)
    out = output(["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", base, "-s"], lua, ".lua")
    found, unit = re.search(r"Requests/sec:\s+([\d.]+)", out), {"us": 0.001, "ms": 1, "s": 1000}
    assert found, out
    ps = {q: float(v) * unit[u] for q, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", out)}
    bad = "".join(f"; {b}" for b in re.findall(r"Non-2xx or 3xx responses: \d+|Socket err.*", out))
    rps = float(found[1])
    return f"{rps:,.0f}/s, p50 {ps['50']:.1f} / p99 {ps['99']:.1f} ms{bad}", rps


def post_answers(base: str, key: str, rate: int, stop: Any, out: Any) -> None:
    """In its own process: ~`rate` answers/s in 100-answer batches until `stop` is set."""
    answers = [{"respondent_id": p, "score": i % 11} for i, p in enumerate(people(100, 5))]
    load = BatchLoad(base, key, batch_bodies(answers, 100, fresh=1200), 4, rate / 100)
    started = time.perf_counter()
    asyncio.run(load.post_until(stop))  # a multiprocessing Event: is_set() is all it needs
    out.put((load.accepted / (time.perf_counter() - started), load.failed))


def measure_eligibility(report: Report, args: argparse.Namespace, url: str, key: str) -> None:
    ids, statuses, spawn = people(args.requests + 20, 1), Counter[int](), get_context("spawn")
    with (
        served(url, 2, args.port) as (base, sampler),
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http,
        psycopg.connect(psycopg_url(url), autocommit=True) as db,
    ):

        def ask(person: str) -> None:
            statuses[http.get(ELIGIBILITY + person).status_code] += 1

        def lookups(person: str) -> None:
            db.execute(ANSWERED, (person,)).fetchone()
            db.execute(DISPLAYED, (person,)).fetchone()

        for phase in ("idle", "under load"):
            stop, out = spawn.Event(), spawn.Queue()
            poster = spawn.Process(target=post_answers, args=(base, key, args.rate, stop, out))
            if phase == "under load":
                poster.start()
                time.sleep(3)
            log(f"eligibility {phase}: sequential httpx and psycopg, wrk, pgbench")
            statuses.clear()
            asked, sql = timed(ask, ids), timed(lookups, ids)
            wrk_text, wrk_rate = wrk(base, key, args.seconds)
            pg_text, pg_rate = pgbench(url, args.seconds)
            http95, sql95 = percentiles(asked)[1], percentiles(sql)[1]
            value = ms3(asked) + ("" if set(statuses) == {200} else f" statuses {dict(statuses)}")
            ok, sql_text = "met" if http95 <= 10 else "MISSED", f"psycopg, the 2 lookups {ms3(sql)}"
            verdict = f"p95 {http95 / sql95:.0f}x SQL; target 10 ms {ok}"
            name = f"eligibility {phase}"
            report.add(f"{name}, sequential (ms p50/p95/p99)", value, sql_text, verdict)
            share = f"{wrk_rate / pg_rate:.1%} of pgbench"
            report.add(f"{name}, wrk 16 connections", wrk_text, pg_text, share)
            if phase == "under load":
                stop.set()
                posted, failed = out.get(timeout=120)
                poster.join()
                what, target = "answers posted meanwhile, batches of 100", f"target {args.rate:,}/s"
                report.add(what, f"{posted:,.0f}/s", target, f"{failed} failed batches")
        peak = f"{sampler.peak_total / 2**20:,.0f}"
        report.add("server RSS, 2 workers, peak (MB)", peak, "target 300", "-")


async def _post_all(base: str, key: str, calls: list[tuple[str, dict[str, Any]]]) -> Counter[int]:
    queue, auth = list(reversed(calls)), {"Authorization": f"Bearer {key}"}
    statuses = Counter[int]()
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=300) as http:

        async def worker() -> None:
            while queue:
                path, body = queue.pop()
                statuses[(await http.post(path, json=body)).status_code] += 1

        await asyncio.gather(*(worker() for _ in range(16)))
    return statuses


def load_rates(args: argparse.Namespace, url: str) -> str:
    """Demo answers imported; displays posted, a fifth declined, two fifths answered."""
    upgrade(engine := create_db_engine(Settings(database_url=url, rollup_interval_seconds=0)))
    key, end = admin_key(url), datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    created, seconds = timed_import(engine, demo_file(args.rate_rows, 7, end - timedelta(days=1)))
    log(f"  imported {created:,} answers in {seconds:.0f} s; folded {fold_all(engine):,}")
    with psycopg.connect(psycopg_url(url)) as db:
        picked = db.execute(
            "SELECT respondent_id, merchant_id, category, channel, submitted_at FROM responses "
            "WHERE submitted_at > now() - interval '120 days' ORDER BY random() LIMIT %s",
            (args.rate_displays,),
        ).fetchall()
    displays, declines, answers = [], [], []
    for i, (person, merchant, category, channel, at) in enumerate(picked):
        shown, display = at - timedelta(minutes=1), str(uuid.uuid4())
        tags = {"merchant_id": merchant, "category": category, "channel": channel}
        body = {"id": display, "respondent_id": person, "context": tags, "shown_at": str(shown)}
        displays.append(("/v1/displays", body))
        if i % 5 == 0:
            later = {"declined_at": str(shown + timedelta(seconds=30))}
            declines.append((f"/v1/displays/{display}/decline", later))
        elif i % 5 < 3:
            answer = {"respondent_id": person, "score": i % 11, "context": tags}
            answers.append({**answer, "display_id": display, "submitted_at": str(at)})
    batch = "/v1/responses/batch"
    batches = [(batch, {"responses": answers[i : i + 500]}) for i in range(0, len(answers), 500)]
    with served(url, 2, args.port) as (base, _):
        for what, calls in (("displays", displays), ("declines", declines), ("answers", batches)):
            started, statuses = time.perf_counter(), asyncio.run(_post_all(base, key, calls))
            log(f"  {len(calls):,} {what} posts, {time.perf_counter() - started:.0f} s: {statuses}")
    log(f"  folded {fold_all(engine):,} more answers")
    with psycopg.connect(psycopg_url(url), autocommit=True) as db:
        db.execute("VACUUM ANALYZE")
    engine.dispose()
    return key


def totals(engine: Engine, api: dict[str, str], displays: bool) -> Callable[[], object]:
    interval = Interval(api["interval"]) if "interval" in api else None
    group_by = [api["group_by"]] if "group_by" in api else []
    query = TotalsQuery(_scope(api), interval, group_by, displays=displays)

    def run() -> object:
        with make_session_factory(engine)() as session:
            return SqlTotals(session).group_totals(query)

    return run


def measure_rates(report: Report, args: argparse.Namespace, url: str, key: str) -> None:
    engine, today = create_db_engine(Settings(database_url=url)), datetime.now(UTC).date()
    window = {"from": str(today - timedelta(days=89)), "to": str(today + timedelta(days=1))}
    day = {**window, "interval": "day", "group_by": "category"}
    cases = {"day x category, 90 days": day, "global, all time": {}}
    auth = {"Authorization": f"Bearer {key}"}
    with served(url, 2, args.port) as (base, _), httpx.Client(base_url=base, headers=auth) as http:
        for label, params in cases.items():
            api = {**params, "tz": "Asia/Shanghai"}
            on50, on95 = time_runs(totals(engine, api, True), args.runs)
            off50, off95 = time_runs(totals(engine, api, False), args.runs)
            what = f"engine totals, {label}, with displays (ms p50/p95)"
            value = f"{on50:.1f} / {on95:.1f}"
            ratio = f"p50 {on50 / off50:.2f}x, p95 {on95 / off95:.2f}x"
            report.add(what, value, f"without {off50:.1f} / {off95:.1f}", ratio)
            groups = http.get("/v1/scores", params=api, timeout=120).json()["groups"]
            shown = sum((g.get("displays") or {}).get("shown", 0) for g in groups)
            api50, api95 = time_runs(partial(http.get, "/v1/scores", params=api), args.runs)
            what = f"/v1/scores {label}, {len(groups):,} groups (ms p50/p95)"
            value = f"{api50:.1f} / {api95:.1f}"
            ratio = f"p95 {api95 / on95:.1f}x the engine; {shown:,} displays shown in scope"
            report.add(what, value, f"engine with displays {on50:.1f} / {on95:.1f}", ratio)
    engine.dispose()


def main() -> None:
    args, report, started = parse_args(), Report(), time.perf_counter()
    url = args.server.rsplit("/", 1)[0] + "/nps_bench_elig"  # --reuse 1: filled before
    url = url if args.reuse else fresh_database(args.server, "nps_bench_elig")
    upgrade(engine := create_db_engine(Settings(database_url=url)))
    engine.dispose()
    if not args.reuse:
        fill(url, args.rows, args.displays)
    measure_eligibility(report, args, url, admin_key(url))
    if not args.skip_rates:
        log(f"response rate: {args.rate_rows:,} demo answers, {args.rate_displays:,} displays")
        rate_url = fresh_database(args.server, "nps_bench_rate")
        measure_rates(report, args, rate_url, load_rates(args, rate_url))
    report.print()
    log(f"wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
