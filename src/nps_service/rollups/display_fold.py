"""Fold queued changes of the display counts into `display_rollups`.

Called inside each fold transaction of the answers (`fold`), under the same lock and
snapshot, so scores see displays with the answers' freshness. Displays are far fewer than
answers and carry three counts, so every (grain, level) is summed from the batch directly.
"""

from sqlalchemy import text
from sqlalchemy.engine import Connection

from nps_service.rollups.grains import GRAINS, ROLLUP_FIELDS
from nps_service.rollups.models import DISPLAY_COUNTS
from nps_service.rollups.slots import slot_sql

_KEY = ("grain", "level", *ROLLUP_FIELDS, "slot_start")
# Changes folded per transaction at most: a backlog is worked off over several folds.
DISPLAY_BATCH = 200_000


def _upsert_sql(dialect: str) -> str:
    selects = []
    for grain in GRAINS:
        own = [f for f in ROLLUP_FIELDS if f in grain.fields]
        fields = ", ".join(
            f"COALESCE(b.{f}, '') AS {f}" if f in own else f"'' AS {f}" for f in ROLLUP_FIELDS
        )
        for level in grain.levels:
            slot = slot_sql(dialect, level, "b.shown_at")
            sums = ", ".join(f"SUM(b.{c}) AS {c}" for c in DISPLAY_COUNTS)
            grouped = ", ".join([slot, *(f"b.{f}" for f in own)])
            selects.append(
                f"SELECT {grain.id} AS grain, {level.id} AS level, {fields}, "  # noqa: S608
                f"{slot} AS slot_start, {sums} FROM display_batch b GROUP BY {grouped}"
            )
    columns = ", ".join((*_KEY, *DISPLAY_COUNTS))
    updates = ", ".join(f"{c} = display_rollups.{c} + excluded.{c}" for c in DISPLAY_COUNTS)
    batch = (
        "WITH display_batch AS MATERIALIZED (SELECT * FROM pending_display_rollup "
        "WHERE id <= :cut) "
    )
    # Every identifier is a constant of this package; "WHERE true" keeps SQLite from
    # reading ON CONFLICT as part of a join.
    return (
        f"{batch}INSERT INTO display_rollups ({columns}) SELECT {columns} FROM ("  # noqa: S608
        + " UNION ALL ".join(selects)
        + f") AS folded WHERE true ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {updates}"
    )


_SQL: dict[str, str] = {}


def fold_displays(connection: Connection, dialect: str) -> int:
    """Fold up to DISPLAY_BATCH queued changes (oldest first) inside the caller's
    transaction; how many."""
    cut = connection.execute(
        text("SELECT id FROM pending_display_rollup ORDER BY id LIMIT 1 OFFSET :skip"),
        {"skip": DISPLAY_BATCH - 1},
    ).scalar()
    if cut is None:
        cut = connection.execute(text("SELECT max(id) FROM pending_display_rollup")).scalar()
        if cut is None:
            return 0
    sql = _SQL.get(dialect) or _SQL.setdefault(dialect, _upsert_sql(dialect))
    connection.execute(text(sql), {"cut": cut})
    deleted = connection.execute(
        text("DELETE FROM pending_display_rollup WHERE id <= :cut"), {"cut": cut}
    ).rowcount
    return int(deleted)
