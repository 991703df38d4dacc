"""The reader role reads the nps_bi views and nothing else; `nps-service bi grant` makes a
login a member of it. Each test connects as a fresh LOGIN role (see conftest)."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from nps_service.bi import GrantError, grant_reader
from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.models import Base
from nps_service.rollups.fold import fold_all
from tests.bi.data import ON_POSTGRESQL, VIEWS
from tests.helpers import answer, post_all

READER = "nps_bi_reader"


@contextmanager
def connected(url: str) -> Iterator[Connection]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def denied(connection: Connection, sql: str) -> str:
    """Run `sql`, which must fail with SQLSTATE 42501 (insufficient privilege)."""
    with pytest.raises(ProgrammingError) as caught:
        connection.execute(text(sql))
    connection.rollback()
    assert getattr(caught.value.orig, "sqlstate", None) == "42501", caught.value
    return str(caught.value.orig)


def _some_answers(client: TestClient, headers: dict[str, str], settings: Settings) -> None:
    tags = {"merchant_id": "m_1", "category": "beauty", "platform": "ios"}
    post_all(client, headers, [answer(9, context=tags), answer(3, context=tags)])
    engine = create_db_engine(settings)
    fold_all(engine)
    engine.dispose()
    post_all(client, headers, [answer(7, context=tags)])  # one pending too


@ON_POSTGRESQL
def test_reader_reads_every_view_and_no_table(
    client: TestClient,
    ingest_headers: dict[str, str],
    settings: Settings,
    owner: Engine,
    login: tuple[str, str],
) -> None:
    name, url = login
    _some_answers(client, ingest_headers, settings)
    with connected(url) as connection:  # not granted yet: not even the views
        assert "permission denied for schema nps_bi" in denied(
            connection, "SELECT * FROM nps_bi.responses"
        )
    notes = grant_reader(owner, name)
    assert any(f"{name} may read the views" in note for note in notes)
    assert not any("warning" in note for note in notes), notes
    with connected(url) as connection:
        # The views run with their owner's rights: they read the tables for the reader.
        for view in VIEWS:
            rows = connection.execute(text(f"SELECT * FROM nps_bi.{view}")).all()
            assert rows, view
        total = connection.scalar(
            text("SELECT overall_n FROM nps_bi.daily_scores_utc WHERE segment = 'all'")
        )
        assert total == 3
        for table in [t.name for t in Base.metadata.sorted_tables] + ["alembic_version"]:
            assert "permission denied" in denied(connection, f"SELECT 1 FROM {table} LIMIT 1")
        for table in ("responses", "api_keys", "rollups"):
            denied(connection, f"SELECT * FROM public.{table}")
        denied(connection, "INSERT INTO nps_bi.responses (id, score) VALUES (gen_random_uuid(), 9)")
        denied(connection, "UPDATE nps_bi.responses SET score = 0")
        denied(connection, "DELETE FROM nps_bi.responses")
        denied(connection, "CREATE VIEW nps_bi.mine AS SELECT 1 AS one")
        denied(connection, "TRUNCATE responses")


@ON_POSTGRESQL
def test_reader_holds_select_on_the_views_only(owner: Engine) -> None:
    # Every privilege the role has, on anything in the database (PUBLIC's grants included).
    with owner.connect() as connection:
        held = connection.execute(
            text(
                "SELECT n.nspname, c.relname, p.privilege FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace, unnest(ARRAY['SELECT', "
                "'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(privilege) "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%' AND c.relkind IN ('r', 'v', 'm', 'p', 'f') "
                "AND has_table_privilege(:role, c.oid, p.privilege)"
            ),
            {"role": READER},
        ).all()
        schemas = connection.execute(
            text(
                "SELECT nspname FROM pg_namespace WHERE has_schema_privilege(:role, oid, 'CREATE')"
            ),
            {"role": READER},
        ).all()
        login = connection.scalar(
            text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :r"), {"r": READER}
        )
    assert sorted(held) == sorted(("nps_bi", view, "SELECT") for view in VIEWS)
    assert "nps_bi" not in {row[0] for row in schemas}  # it cannot add objects there
    assert login is False


@ON_POSTGRESQL
def test_grant_refuses_what_it_cannot_do(owner: Engine) -> None:
    with pytest.raises(GrantError, match="no role 'nobody_"):
        grant_reader(owner, "nobody_at_all_here")
    with pytest.raises(GrantError, match="reader role itself"):
        grant_reader(owner, READER)


@pytest.mark.slow
@ON_POSTGRESQL
def test_cli_grant(database_url: str, login: tuple[str, str]) -> None:
    name, url = login
    env = {**os.environ, "NPS_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "nps_service", "bi", "grant"]
    done = subprocess.run(
        [*command, "--login", name], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert f"{name} may read the views of schema nps_bi" in done.stderr
    with connected(url) as connection:
        for view in VIEWS:
            connection.execute(text(f"SELECT * FROM nps_bi.{view} LIMIT 1")).all()
        denied(connection, "SELECT 1 FROM responses")
    missing = subprocess.run(
        [*command, "--login", f"{name}_missing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1
    assert "create it first" in missing.stderr
