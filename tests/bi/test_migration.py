"""Migration 0010: down and up again on PostgreSQL with answers stored, nothing on SQLite,
no personal column in any view, and its frozen copy of the rollup layout still current."""

import importlib.util
import random
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.migrate import alembic_config, current_revision, head_revision, upgrade
from nps_service.rollups.fold import fold_all
from nps_service.rollups.grains import DAY, DAY_CST, GRAINS, MERCHANT_GRAIN, ROLLUP_FIELDS, WEEK
from nps_service.rollups.plan import floor_to
from nps_service.survey import CLASSES, METRICS
from tests.bi.data import ON_POSTGRESQL, VIEWS, random_answers, rows_of
from tests.helpers import post_all

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0010_bi_views.py"
PERSONAL = {"respondent_id", "comment", "order_id", "properties", "display_id", "content_hash"}
RESPONSE_COLUMNS = [
    "id",
    "submitted_at",
    "day_utc",
    "day_china",
    "score",
    "nps_class",
    "nps_points",
    "logistics",
    "product",
    "service",
    "app",
    "merchant_id",
    "category",
    "channel",
    "region",
    "platform",
    "touchpoint",
    "weight",
    "received_at",
]


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bi_views_migration", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _everything(owner: Engine) -> dict[str, list[dict[str, object]]]:
    with owner.connect() as connection:
        return {
            view: sorted(rows_of(connection, view), key=lambda row: repr(sorted(row.items())))
            for view in VIEWS
        }


@ON_POSTGRESQL
def test_downgrade_and_upgrade_again(
    client: TestClient, ingest_headers: dict[str, str], settings: Settings, owner: Engine
) -> None:
    rng = random.Random(7)
    post_all(client, ingest_headers, random_answers(rng, 60, 5))
    engine = create_db_engine(settings)
    fold_all(engine)
    post_all(client, ingest_headers, random_answers(rng, 40, 5))
    before = _everything(owner)
    assert all(before.values())
    try:
        command.downgrade(alembic_config(engine), "0009")
        with owner.connect() as connection:
            assert (
                connection.scalar(
                    text("SELECT count(*) FROM pg_namespace WHERE nspname = 'nps_bi'")
                )
                == 0
            )
            # The role is gone, or (still used by another database of the server) holds
            # nothing here.
            held = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_class c, pg_roles r WHERE r.rolname = 'nps_bi_reader' "
                    "AND has_table_privilege(r.oid, c.oid, 'SELECT') "
                    "AND c.relnamespace = 'public'::regnamespace"
                )
            )
            assert held == 0
            assert connection.scalar(text("SELECT count(*) FROM responses")) == 100
    finally:
        upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    engine.dispose()
    assert _everything(owner) == before
    with owner.connect() as connection:
        granted = connection.execute(
            text(
                "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'nps_bi'::regnamespace "
                "AND has_table_privilege('nps_bi_reader', c.oid, 'SELECT')"
            )
        ).all()
    assert sorted(row[0] for row in granted) == sorted(VIEWS)


@ON_POSTGRESQL
def test_no_view_shows_a_personal_field(
    client: TestClient, ingest_headers: dict[str, str], owner: Engine
) -> None:
    with owner.connect() as connection:
        columns = {
            view: [c["name"] for c in inspect(connection).get_columns(view, schema="nps_bi")]
            for view in VIEWS
        }
    assert columns["responses"] == RESPONSE_COLUMNS
    for view, names in columns.items():
        assert not PERSONAL & set(names), view
    # Nor their values, anywhere in any row.
    answers = random_answers(random.Random(3), 30, 3)
    post_all(client, ingest_headers, answers)
    with owner.connect() as connection:
        shown = " ".join(
            connection.scalar(text(f"SELECT string_agg(v::text, ' ') FROM nps_bi.{view} v"))
            for view in VIEWS
        )
    for body in answers:
        for secret in (body["respondent_id"], body["comment"], body["context"]["order_id"]):
            assert secret not in shown
        assert body["properties"]["email"] not in shown
    assert "person_" not in shown
    assert "private" not in shown


def test_sqlite_gets_no_views(sqlite_template: Path) -> None:
    engine = create_engine(f"sqlite:///{sqlite_template}")
    with engine.connect() as connection:
        views = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'view'"))
        assert views.all() == []
    assert current_revision(engine) == head_revision(engine)  # migrated all the way
    engine.dispose()


def test_the_frozen_rollup_layout_is_current() -> None:
    """The views add up rollups as migration 0010 knew them: if grains, levels or slot
    origins change, a new migration must recreate the views (and this test be updated)."""
    migration = _migration()
    assert migration.FIELDS == ROLLUP_FIELDS
    assert (migration.METRICS, migration.CLASSES) == (METRICS, CLASSES)
    assert [(grain, set(tags)) for _, grain, tags in migration.SEGMENTS] == [
        (grain.id, set(grain.fields)) for grain in GRAINS
    ]
    assert all({DAY, DAY_CST} <= set(grain.levels) for grain in GRAINS)
    assert MERCHANT_GRAIN.id == migration.MERCHANT_GRAIN
    assert WEEK in MERCHANT_GRAIN.levels
    assert WEEK.id == migration.WEEK_LEVEL
    origin = datetime(2000, 1, 1, tzinfo=UTC)
    assert [(level, start) for _, level, start, _, _ in migration.DAY_VIEWS] == [
        (DAY.id, floor_to(origin, DAY).isoformat()),
        (DAY_CST.id, floor_to(origin, DAY_CST).isoformat()),
    ]
