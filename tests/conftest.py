"""Fixtures: every storage and API test runs on SQLite and on PostgreSQL.

PostgreSQL tests use the server in NPS_TEST_DATABASE_URL (a fresh database is created
per run and dropped afterwards). Without that variable they are skipped, so the suite
runs anywhere; `.ci/run` sets it and fails if the server is unreachable.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from nps_service.config import Settings
from nps_service.db import create_db_engine, normalise_database_url
from nps_service.keys.service import Scope
from nps_service.main import create_app
from nps_service.migrate import upgrade
from nps_service.models import Base
from tests.databases import PG_ENV, new_key, temporary_postgres

BACKENDS = ["sqlite", "postgresql"]


def pytest_sessionstart(session: pytest.Session) -> None:
    """With NPS_TEST_DATABASE_URL set, PostgreSQL must be reachable: fail, never skip."""
    server = os.environ.get(PG_ENV)
    if not server:
        return
    engine = create_engine(normalise_database_url(server), connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect ends the run with an error
        pytest.exit(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}", returncode=3)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating per test)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(Settings(database_url=f"sqlite:///{path}"))
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run."""
    with temporary_postgres("nps_test") as url:
        engine = create_db_engine(Settings(database_url=url))
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "nps.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(normalise_database_url(url))
    with engine.begin() as connection:
        # Every table of the models (alembic_version is not one of them).
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
    engine.dispose()
    return url


@pytest.fixture
def backend(database_url: str) -> str:
    """'sqlite' or 'postgresql'."""
    return make_url(database_url).get_backend_name()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The rollup folder, webhook dispatcher and alert scheduler are off: tests run them
    # explicitly, so they know what is pending.
    return Settings(
        database_url=database_url,
        max_body_bytes=256 * 1024,
        rollup_interval_seconds=0,
        webhook_interval_seconds=0,
        alert_interval_seconds=0,
        rate_limits="",
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def admin_headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {new_key(settings.database_url, Scope.ADMIN)}"}


@pytest.fixture
def ingest_headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {new_key(settings.database_url, Scope.INGEST)}"}


@pytest.fixture
def read_headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {new_key(settings.database_url, Scope.READ)}"}


@pytest.fixture
def key_factory(settings: Settings):  # type: ignore[no-untyped-def]
    """Make a key with any scopes: key_factory(Scope.READ, Scope.INGEST)."""
    return lambda *scopes: {"Authorization": f"Bearer {new_key(settings.database_url, *scopes)}"}


def _chromium() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium through Playwright (the widget's and the dashboard's tests); missing is a
    failure under CI and a skip elsewhere."""
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        executable = None
    if executable is None:
        message = "needs Chromium (apt-get install chromium) and Playwright (the test extra)"
        if os.environ.get(PG_ENV):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()
