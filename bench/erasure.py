"""Erasing a person at 10M answers: DELETE /v1/respondents/{id} against the same rows
deleted by hand in SQL (no rollups adjusted), on the database bench/eligibility.py fills.

    .venv/bin/python bench/eligibility.py --rows 10000000   # once: fills nps_bench_elig
    .venv/bin/python bench/erasure.py --people 300

The answers are folded first (the worst case: every one of them is subtracted from the
rollups); target p95 <= 100 ms for a person with a few answers.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psycopg

from bench.data import psycopg_url
from bench.report import Report, log, percentiles
from bench.server import admin_key, served
from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.migrate import upgrade
from nps_service.rollups import fold_all

PEOPLE = 3_000_000  # bench/eligibility.py's respondent ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--first", type=int, default=0, help="first person (u_<first>)")
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/nps_bench_elig")
    args = parser.parse_args()
    engine = create_db_engine(Settings(database_url=args.url))
    upgrade(engine)
    log("folding what is pending (bench/eligibility.py fills answers without the queue)")
    with psycopg.connect(psycopg_url(args.url), autocommit=True) as db:
        db.execute(
            "INSERT INTO pending_rollup (id, submitted_at, score, logistics, product, service, "
            "app, weight, merchant_id, category, channel, region, platform, touchpoint) "
            "SELECT id, submitted_at, score, logistics, product, service, app, weight, "
            "merchant_id, category, channel, region, platform, touchpoint FROM responses "
            "WHERE respondent_id IN (SELECT 'u_' || g FROM generate_series(%s::int, %s::int) g) "
            "ON CONFLICT DO NOTHING",
            (args.first, args.first + args.people * 2),
        )
    fold_all(engine)
    engine.dispose()
    report, key = Report(), admin_key(args.url)
    with (
        served(args.url, 2, args.port) as (base, _),
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http,
        psycopg.connect(psycopg_url(args.url)) as db,
    ):
        api, sql, erased = [], [], 0
        for n in range(args.first, args.first + args.people):
            started = time.perf_counter()
            reply = http.delete(f"/v1/respondents/u_{n}")
            api.append((time.perf_counter() - started) * 1000)
            assert reply.status_code == 200, reply.text
            erased += reply.json()["responses_erased"]
            person = f"u_{n + args.people}"
            started = time.perf_counter()
            with db.transaction():
                db.execute("DELETE FROM responses WHERE respondent_id = %s", (person,))
                db.execute("DELETE FROM displays WHERE respondent_id = %s", (person,))
            sql.append((time.perf_counter() - started) * 1000)
        p50, p95 = percentiles(api)
        s50, s95 = percentiles(sql)
        verdict = "met" if p95 <= 100 else "MISSED"
        report.add(
            f"erasure of {args.people} people, {erased / args.people:.1f} answers each, "
            "folded (ms p50/p95)",
            f"{p50:.1f} / {p95:.1f}",
            f"SQL DELETE by hand {s50:.1f} / {s95:.1f}",
            f"target 100 ms {verdict}",
        )
    report.print()


if __name__ == "__main__":
    main()
