"""Single answers through POST /v1/responses beside the database's own insert limit.

    .venv/bin/python bench/single.py --seconds 15

`wrk` posts one answer per request over 16 connections to `serve --workers 2`; pgbench
inserts one responses-shaped row per transaction over 16 connections into a table of the
same shape and indexes in the same database, in the same run. Both are C clients, so the
ratio is the server's, not a Python load generator's.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.data import fresh_database, pgbench_insert_rate
from bench.load import SingleLoad, single_bodies
from bench.report import Report, log
from bench.server import admin_key, served
from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.migrate import upgrade


def measure(report: Report, url: str, seconds: float, workers: int, port: int) -> None:
    log("pgbench: one responses-shaped row per transaction, 16 clients")
    limit = pgbench_insert_rate(url, clients=16, seconds=seconds)
    key = admin_key(url)
    with served(url, workers, port) as (base, _sampler):
        log(f"wrk: single POST /v1/responses, 16 connections, {workers} worker(s)")
        load = SingleLoad(base, key, single_bodies(200_000), seconds=seconds)
        load.run()
    report.add(
        f"single POST, 16 wrk connections, {workers} workers (answers/s)",
        f"{load.rate:,.0f}" + (f" ({load.failed} failed)" if load.failed else ""),
        f"pgbench 1 row/transaction, 16 clients: {limit:,.0f}",
        f"{load.rate / limit:.0%} of the database's limit",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    url = fresh_database(args.server, "nps_single")
    engine = create_db_engine(Settings(database_url=url))
    upgrade(engine)
    engine.dispose()
    report = Report()
    measure(report, url, args.seconds, args.workers, args.port)
    report.print()


if __name__ == "__main__":
    main()
