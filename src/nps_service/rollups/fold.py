"""Fold pending answers into the rollups, atomically, in batches.

Batches are taken in time order (oldest pending answers first), so a batch adds mostly new
slots instead of rewriting rollup rows that every earlier batch touched too. One statement
per batch copies the batch's answers once (a materialised CTE), aggregates them at every
(grain, level) and adds the sums onto existing rollup rows (INSERT ... ON CONFLICT DO
UPDATE); a second deletes exactly those pending rows. Both run in one transaction that
sees one snapshot (REPEATABLE READ on PostgreSQL; SQLite has a single writer), so a
concurrent reader sees every answer exactly once, and a concurrent writer's answers simply
wait for the next batch.
"""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from nps_service.db import database_trouble
from nps_service.logs import SparseLog
from nps_service.metrics import Metrics
from nps_service.rollups.display_fold import fold_displays
from nps_service.rollups.grains import GRAINS, ROLLUP_FIELDS, Grain, Level
from nps_service.rollups.models import SUM_COLUMNS
from nps_service.rollups.moments import MOMENTS, MomentSum
from nps_service.rollups.slots import slot_sql
from nps_service.survey import CLASSES, METRICS

logger = logging.getLogger("nps_service.rollups")

# Large batches fold far faster (each rollup row is written once per batch, not per answer).
DEFAULT_BATCH = 500_000
# Any constant shared by every process: only one folder runs at a time on PostgreSQL.
ADVISORY_LOCK_KEY = 7_412_290_113
_METRIC_SOURCE = {"overall": "r.score", **{m: f"r.{m}" for m in METRICS[1:]}}
_CLASS_TEST = {"promoters": ">= 9", "passives": "BETWEEN 7 AND 8", "detractors": "<= 6"}
_KEY = ("grain", "level", *ROLLUP_FIELDS, "slot_start")
_ANSWER_FIELDS = ("submitted_at", "score", *METRICS[1:], "weight")
# The batch also carries each variable (and the weight) of complete cases only, NULL for
# the other answers, so that a moment is a plain SUM of products: NULLs drop out, and no
# per-aggregate FILTER is evaluated for each of the ~40 moment sums.
_COMPLETE = " AND ".join(f"r.{d} IS NOT NULL" for d in METRICS[1:])
_COMPLETE_FIELDS = {
    **{f"cc_{v}": _METRIC_SOURCE[v] for v in METRICS},
    "cc_weight": "r.weight",
}
# Pending rows up to and including the batch's last (submitted_at, id).
_UP_TO_CUTOFF = "({p}submitted_at, {p}id) <= (:cut_at, :cut_id)"


def _sums_sql() -> list[str]:
    """Aggregates in the order of SUM_COLUMNS, over answers `r`."""
    parts = []
    for metric in METRICS:
        column = _METRIC_SOURCE[metric]
        parts += [f"COUNT(*) FILTER (WHERE {column} {_CLASS_TEST[k]})" for k in CLASSES]
        parts += [
            f"COALESCE(SUM(r.weight) FILTER (WHERE {column} {_CLASS_TEST[k]}), 0)" for k in CLASSES
        ]
        parts.append(f"COALESCE(SUM(r.weight * r.weight) FILTER (WHERE {column} IS NOT NULL), 0)")
    return parts + [_moment_sql(moment) for moment in MOMENTS]


def _moment_sql(moment: MomentSum) -> str:
    """One moment over the complete-case columns of the batch."""
    factors = moment.terms("r.cc_weight", {v: f"r.cc_{v}" for v in METRICS})
    if not factors:
        return "COUNT(r.cc_overall)"
    return f"COALESCE(SUM({' * '.join(factors)}), 0)"


def _nests(finer: Level, coarser: Level) -> bool:
    """Every `coarser` slot is a whole number of `finer` slots."""
    return (
        finer.unit < coarser.unit
        and coarser.unit % finer.unit == timedelta(0)
        and (coarser.offset - finer.offset) % finer.unit == timedelta(0)
    )


def level_sources(grain: Grain) -> dict[Level, Level | None]:
    """Where each level's sums come from: the coarsest finer level of the grain whose
    slots nest in its own (adding up those sums is cheaper than re-reading the batch),
    or None for the batch of answers itself."""
    sources: dict[Level, Level | None] = {}
    for level in sorted(grain.levels, key=lambda lv: lv.unit):
        finer = [known for known in sources if _nests(known, level)]
        sources[level] = max(finer, key=lambda lv: lv.unit) if finer else None
    return sources


def _level_cte(dialect: str, grain: Grain, level: Level, source: Level | None) -> str:
    """The grain's sums per `level` slot: from the batch, or from the `source` level's."""
    own = [f for f in ROLLUP_FIELDS if f in grain.fields]
    if source is None:
        slot = slot_sql(dialect, level)
        fields = [f"COALESCE(r.{f}, '')" if f in own else "''" for f in ROLLUP_FIELDS]
        sums, table = _sums_sql(), "batch"
    else:
        slot = slot_sql(dialect, level, "r.slot_start")
        fields = [f"r.{f}" if f in own else "''" for f in ROLLUP_FIELDS]
        sums, table = [f"SUM(r.{c})" for c in SUM_COLUMNS], _cte_name(grain, source)
    grouped = [slot, *(f"r.{f}" for f in own)]
    return (
        f"{_cte_name(grain, level)} AS MATERIALIZED (SELECT "  # noqa: S608
        + ", ".join(f"{expr} AS {name}" for expr, name in zip(fields, ROLLUP_FIELDS, strict=True))
        + f", {slot} AS slot_start, "
        + ", ".join(f"{expr} AS {name}" for expr, name in zip(sums, SUM_COLUMNS, strict=True))
        + f" FROM {table} r GROUP BY {', '.join(grouped)})"
    )


def _cte_name(grain: Grain, level: Level) -> str:
    return f"g{grain.id}_l{level.id}"


def _upsert_sql(dialect: str, cutoff: bool) -> str:
    """INSERT ... SELECT over every (grain, level) of the pending answers (up to the
    cutoff), adding onto existing rows."""
    # The queue holds what folding needs: the answers themselves are not read.
    source = "pending_rollup r" + (f" WHERE {_UP_TO_CUTOFF.format(p='r.')}" if cutoff else "")
    return _sums_upsert_sql(dialect, source, "+")


def unfold_sql(dialect: str) -> str:
    """The fold's statement run backwards over stored answers (`:ids`, expanding): their
    sums subtracted from every (grain, level) slot they were folded into. For erasure, of
    answers no longer pending, under the folding lock."""
    # PostgreSQL: one array parameter, so the text is the same for any number of answers
    # and the driver prepares it after a few uses (planning the 22-level statement took
    # most of an erasure's 80 ms).
    if dialect == "postgresql":
        return _sums_upsert_sql(dialect, "responses r WHERE r.id = ANY(CAST(:ids AS uuid[]))", "-")
    return _sums_upsert_sql(dialect, "responses r WHERE r.id IN :ids", "-")


def _sums_upsert_sql(dialect: str, answers: str, sign: str) -> str:
    needed = ", ".join(
        [f"r.{c}" for c in (*_ANSWER_FIELDS, *ROLLUP_FIELDS)]
        + [
            f"CASE WHEN {_COMPLETE} THEN {expr} END AS {name}"
            for name, expr in _COMPLETE_FIELDS.items()
        ]
    )
    ctes = [f"batch AS MATERIALIZED (SELECT {needed} FROM {answers})"]  # noqa: S608
    selects = []
    row = ", ".join((*ROLLUP_FIELDS, "slot_start", *SUM_COLUMNS))
    for grain in GRAINS:
        # Finest first, so that a coarser level's source is defined before it.
        for level, source in level_sources(grain).items():
            ctes.append(_level_cte(dialect, grain, level, source))
            selects.append(
                f"SELECT {grain.id} AS grain, {level.id} AS level, {row} "  # noqa: S608
                f"FROM {_cte_name(grain, level)}"
            )
    batch = "WITH " + ", ".join(ctes) + " "
    columns = ", ".join((*_KEY, *SUM_COLUMNS))
    updates = ", ".join(f"{c} = rollups.{c} {sign} excluded.{c}" for c in SUM_COLUMNS)
    # Every identifier comes from constants in this package: nothing user-supplied.
    # "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint.
    insert = f"{batch}INSERT INTO rollups ({columns}) SELECT {columns} FROM ("  # noqa: S608
    conflict = f") AS folded WHERE true ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {updates}"
    return insert + " UNION ALL ".join(selects) + conflict


@dataclass(frozen=True)
class FoldResult:
    folded: int
    remaining: bool


def fold_batch(engine: Engine, batch_size: int = DEFAULT_BATCH) -> FoldResult:
    """Fold up to `batch_size` pending answers; returns how many and whether more wait."""
    dialect = engine.dialect.name
    with engine.connect() as connection:
        if dialect == "postgresql":
            if not connection.scalar(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}
            ):
                connection.rollback()
                return FoldResult(0, remaining=True)  # another process is folding
            connection.commit()
            try:
                return _fold_in_transaction(
                    connection.execution_options(isolation_level="REPEATABLE READ"),
                    dialect,
                    batch_size,
                )
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                connection.commit()
        return _fold_in_transaction(
            connection.execution_options(sqlite_begin="IMMEDIATE"), dialect, batch_size
        )


_ANY_PENDING = "SELECT 1 FROM pending_rollup LIMIT 1"


def _fold_in_transaction(connection: Connection, dialect: str, batch_size: int) -> FoldResult:
    with connection.begin():
        if dialect == "postgresql":
            # Hash the groups in memory instead of sorting them on disk; and do not compile
            # the statement to machine code: with ~80 sums at each of 22 (grain, level)s,
            # JIT compilation took 17 s of a 42 s fold of 500,000 answers.
            connection.execute(
                text("SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)")
            )
        # Read back raw and bound again as is, so both sides compare in the stored format.
        cutoff = connection.execute(
            text(
                "SELECT submitted_at, id FROM pending_rollup "
                "ORDER BY submitted_at, id LIMIT 1 OFFSET :skip"
            ),
            {"skip": batch_size - 1},
        ).first()
        params = {"cut_at": cutoff[0], "cut_id": cutoff[1]} if cutoff is not None else {}
        where = f" WHERE {_UP_TO_CUTOFF.format(p='')}" if cutoff is not None else ""
        folded = 0
        # An idle tick plans no 22-level statement: it would hold the folding lock for
        # tens of milliseconds a second, which erasures wait on.
        if cutoff is not None or connection.execute(text(_ANY_PENDING)).first() is not None:
            connection.execute(text(_upsert_sql(dialect, cutoff is not None)), params)
            delete = text(f"DELETE FROM pending_rollup{where}")  # noqa: S608
            folded = connection.execute(delete, params).rowcount
        fold_displays(connection, dialect)
    return FoldResult(folded, remaining=cutoff is not None)


def fold_all(engine: Engine, batch_size: int = DEFAULT_BATCH) -> int:
    """Fold until nothing is pending (or another process holds the folding lock)."""
    total = 0
    while True:
        result = fold_batch(engine, batch_size)
        total += result.folded
        if not result.remaining or result.folded == 0:
            break
    return total


class Folder:
    """A daemon thread that folds pending answers every `interval` seconds."""

    def __init__(self, engine: Engine, interval: float, metrics: Metrics | None = None) -> None:
        self._engine = engine
        self._metrics = metrics
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rollup-folder", daemon=True)
        self._sparse = SparseLog(logger, seconds=60)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(self._interval):
            started = time.perf_counter()
            try:
                folded = fold_all(self._engine)
            except Exception as exc:  # a failed batch is rolled back and retried next tick
                if self._metrics is not None:
                    self._metrics.fold_failures.inc()
                if database_trouble(exc) is None:
                    logger.exception("folding pending answers into rollups failed")
                else:  # an outage: one line per outage, not a traceback every second
                    self._sparse.warning("down", f"folding waits for the database: {exc}"[:300])
                failing = True
                continue
            if self._metrics is not None and folded:
                self._metrics.folded.inc(folded)
                self._metrics.fold_duration.observe(time.perf_counter() - started)
            if failing:
                logger.info("folding pending answers into rollups again")
                failing = False
