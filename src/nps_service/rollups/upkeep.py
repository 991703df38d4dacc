"""The service keeps its own tables healthy, whether or not PostgreSQL's autovacuum runs.

Folding deletes every pending row it folds and rewrites the rollup rows of the current
slots about once a second; ingest appends answers all day. Left alone, the queue and the
rollups fill with dead rows and none of the three tables has planner statistics: on this
machine (autovacuum off, as in CI) a ranking took 270 ms right after a million answers
arrived through the API and 57 ms after one `VACUUM ANALYZE`. Production autovacuum runs
on a schedule that lags bursts; this does not depend on it.

Every few seconds one process (an advisory lock decides which) reads the tables' own
counters (`pg_stat_user_tables`) and, past thresholds sized for these tables, vacuums the
queue and the rollups (which also lets index-only scans skip the heap) and analyzes all
three. Each statement waits at most a second for its lock, so an autovacuum that happens
to run is never waited on. SQLite needs none of this: it has no dead rows to clean, and
its planner needs no statistics for these queries.
"""

import logging
import threading
import time
from dataclasses import dataclass

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from nps_service.db import database_trouble
from nps_service.logs import SparseLog
from nps_service.metrics import Metrics

logger = logging.getLogger("nps_service.upkeep")
# Any constant shared by every process (the folder's lock is another).
UPKEEP_LOCK_KEY = 7_412_290_114


@dataclass(frozen=True)
class Rule:
    """When a table is vacuumed and analyzed: dead rows or changes since the last analyze
    past `floor` rows, or past `share` of its live rows, whichever is larger."""

    table: str
    vacuum_floor: int | None  # None: never vacuumed here (insert-only, analyzed only)
    vacuum_share: float
    analyze_floor: int
    analyze_share: float


RULES = (
    # The queue empties about every second: clean it as soon as a few thousand rows died,
    # or every look at the pending tail wades through them.
    Rule(
        "pending_rollup",
        vacuum_floor=5_000,
        vacuum_share=0.0,
        analyze_floor=5_000,
        analyze_share=0.0,
    ),
    # Each fold rewrites the current slots' rows (a few thousand a second under load).
    Rule(
        "rollups", vacuum_floor=50_000, vacuum_share=0.02, analyze_floor=50_000, analyze_share=0.1
    ),
    # The display counts' queue and rollups, kept like the answers' ones.
    Rule(
        "pending_display_rollup",
        vacuum_floor=5_000,
        vacuum_share=0.0,
        analyze_floor=5_000,
        analyze_share=0.0,
    ),
    Rule(
        "display_rollups",
        vacuum_floor=50_000,
        vacuum_share=0.02,
        analyze_floor=50_000,
        analyze_share=0.1,
    ),
    # Displays are updated once when declined or answered.
    Rule(
        "displays", vacuum_floor=50_000, vacuum_share=0.02, analyze_floor=50_000, analyze_share=0.1
    ),
    # Answers are only appended: statistics matter, dead rows do not.
    Rule("responses", vacuum_floor=None, vacuum_share=0.0, analyze_floor=50_000, analyze_share=0.1),
)
_COUNTERS = text(
    "SELECT relname, n_live_tup, n_dead_tup, n_mod_since_analyze FROM pg_stat_user_tables "
    "WHERE relname IN ('pending_rollup', 'rollups', 'responses')"
)


def due(rule: Rule, live: int, dead: int, changed: int) -> tuple[bool, bool]:
    """(vacuum, analyze) for a table with these counters."""
    vacuum = rule.vacuum_floor is not None and dead >= max(
        rule.vacuum_floor, rule.vacuum_share * live
    )
    analyze = changed >= max(rule.analyze_floor, rule.analyze_share * live)
    return vacuum, analyze


def tend(engine: Engine) -> list[str]:
    """One round of upkeep; the statements it ran (none on SQLite, or when another process
    holds the upkeep lock)."""
    if engine.dialect.name != "postgresql":
        return []
    ran: list[str] = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if not connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": UPKEEP_LOCK_KEY}):
            return ran
        try:
            connection.execute(text("SET lock_timeout = '1s'"))
            ran = _tend(connection)
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": UPKEEP_LOCK_KEY})
    return ran


def _tend(connection: Connection) -> list[str]:
    counters = {row[0]: row[1:] for row in connection.execute(_COUNTERS)}
    ran = []
    for rule in RULES:
        live, dead, changed = counters.get(rule.table, (0, 0, 0))
        vacuum, analyze = due(rule, live, dead, changed)
        if not vacuum and not analyze:
            continue
        statement = f"VACUUM (ANALYZE) {rule.table}" if vacuum else f"ANALYZE {rule.table}"
        started = time.perf_counter()
        try:
            connection.execute(text(statement))
        except OperationalError as exc:
            if not isinstance(exc.orig, psycopg.errors.LockNotAvailable):
                raise
            logger.info("%s skipped: the table is being vacuumed already", statement)
            continue
        seconds = time.perf_counter() - started
        logger.info(
            "%s took %.2f s (%d live, %d dead, %d changed rows)",
            statement,
            seconds,
            live,
            dead,
            changed,
        )
        ran.append(statement)
    return ran


def tidy_after_bulk(engine: Engine) -> None:
    """After an import or a rebuild (millions of rows folded at once): vacuum and analyze
    the three tables now rather than wait for the next rounds of upkeep."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for rule in RULES:
            vacuum = "VACUUM (ANALYZE)" if rule.vacuum_floor is not None else "ANALYZE"
            connection.execute(text(f"{vacuum} {rule.table}"))


class Upkeep:
    """A daemon thread that tends the tables every `interval` seconds."""

    def __init__(self, engine: Engine, interval: float, metrics: Metrics | None = None) -> None:
        self._engine = engine
        self._metrics = metrics
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="table-upkeep", daemon=True)
        self._sparse = SparseLog(logger, seconds=60)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                for statement in tend(self._engine):
                    if self._metrics is not None:
                        self._metrics.upkeep.labels(statement.split(" ")[0]).inc()
            except Exception as exc:  # retried next round
                if database_trouble(exc) is None:
                    logger.exception("table upkeep failed")
                else:
                    self._sparse.warning(
                        "down", f"table upkeep waits for the database: {exc}"[:300]
                    )
