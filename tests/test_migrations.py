"""Migrations and models agree, and migrations run down and up again cleanly."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.main import create_app
from nps_service.migrate import alembic_config, current_revision, head_revision, upgrade
from nps_service.models import Base


def test_models_match_migrations(settings: Settings) -> None:
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(settings: Settings) -> None:
    engine = create_db_engine(settings)
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert {"responses", "api_keys"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_readyz_reports_unmigrated_database(settings: Settings) -> None:
    engine = create_db_engine(settings)
    command.downgrade(alembic_config(engine), "base")
    with TestClient(create_app(settings)) as client:
        reply = client.get("/readyz")
        assert reply.status_code == 503
        assert reply.json()["migration"] is None
        upgrade(engine)
        assert client.get("/readyz").json() == {
            "status": "ok",
            "database": "ok",
            "migration": head_revision(engine),
            "expected_migration": head_revision(engine),
        }
    engine.dispose()
