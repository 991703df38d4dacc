"""The service keeps its own tables healthy, autovacuum or not (this PostgreSQL runs
without it, as CI does)."""

import time
import uuid

from sqlalchemy import text

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.responses.ingest import ingest_batch
from nps_service.responses.schemas import ResponseIn
from nps_service.rollups import fold_all, tend
from nps_service.rollups.upkeep import RULES, UPKEEP_LOCK_KEY, due

BY_TABLE = {rule.table: rule for rule in RULES}
QUEUE, ROLLUPS, ANSWERS = (BY_TABLE[t] for t in ("pending_rollup", "rollups", "responses"))


def test_thresholds() -> None:
    # The queue: 5,000 dead rows, whatever its size.
    assert due(QUEUE, live=10, dead=5_000, changed=0) == (True, False)
    assert due(QUEUE, live=10, dead=4_999, changed=0) == (False, False)
    # Rollups: 50,000 dead rows or 2% of the live ones, whichever is more.
    assert due(ROLLUPS, live=1_000_000, dead=49_999, changed=0) == (False, False)
    assert due(ROLLUPS, live=10_000_000, dead=150_000, changed=0) == (False, False)
    assert due(ROLLUPS, live=10_000_000, dead=200_000, changed=0) == (True, False)
    assert due(ROLLUPS, live=100_000, dead=0, changed=50_000) == (False, True)
    # Answers are only appended: analyzed, never vacuumed here.
    assert due(ANSWERS, live=1_000_000, dead=10**9, changed=100_000) == (False, True)
    assert due(ANSWERS, live=1_000_000, dead=0, changed=99_999) == (False, False)


def _store(settings: Settings, count: int) -> None:
    engine = create_db_engine(settings)
    with make_session_factory(engine)() as session:
        for start in range(0, count, 1000):
            bodies = [
                {"id": str(uuid.uuid4()), "respondent_id": "u", "score": i % 11}
                for i in range(start, min(count, start + 1000))
            ]
            ingest_batch(session, [ResponseIn.model_validate(b) for b in bodies])
    assert fold_all(engine) == count
    engine.dispose()  # its backends exit and report what they did to the statistics


def test_the_queue_is_vacuumed_after_a_fold(settings: Settings, backend: str) -> None:
    _store(settings, 6_000)
    engine = create_db_engine(settings)
    if backend == "sqlite":
        assert tend(engine) == []  # nothing to clean: no dead rows, no planner statistics
        engine.dispose()
        return
    deadline = time.monotonic() + 15
    ran: list[str] = []
    while time.monotonic() < deadline and "VACUUM (ANALYZE) pending_rollup" not in ran:
        ran = tend(engine)
        time.sleep(0.5)
    with engine.connect() as connection:
        dead = connection.scalar(
            text("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'pending_rollup'")
        )
    engine.dispose()
    assert "VACUUM (ANALYZE) pending_rollup" in ran
    assert "ANALYZE responses" not in ran  # 6,000 answers: under its threshold
    assert dead is not None


def test_one_process_at_a_time(settings: Settings, backend: str) -> None:
    """Several servers tend the same tables: the advisory lock lets one at a time do it."""
    _store(settings, 6_000)
    engine = create_db_engine(settings)
    if backend == "sqlite":
        assert tend(engine) == []
        engine.dispose()
        return
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": UPKEEP_LOCK_KEY})
        assert tend(engine) == []  # another process holds the upkeep lock: it does nothing
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": UPKEEP_LOCK_KEY})
        holder.commit()
    deadline = time.monotonic() + 15
    ran: list[str] = []
    while time.monotonic() < deadline and not ran:
        ran = tend(engine)
        time.sleep(0.5)
    engine.dispose()
    assert "VACUUM (ANALYZE) pending_rollup" in ran
