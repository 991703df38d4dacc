"""Empty databases for tests: a SQLite file, or a PostgreSQL database created on the
server NPS_TEST_DATABASE_URL names and dropped afterwards (skipped without it)."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory, normalise_database_url
from nps_service.keys.service import Scope, create_key

PG_ENV = "NPS_TEST_DATABASE_URL"


@contextmanager
def temporary_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database `<prefix>_<random>`, dropped at the end."""
    server = os.environ.get(PG_ENV)
    if not server:
        pytest.skip(f"{PG_ENV} is not set; PostgreSQL tests skipped")
    admin_url = normalise_database_url(server)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:  # fails loudly when the server is unreachable
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def empty_database(backend: str, folder: Path, prefix: str) -> Iterator[str]:
    """An empty database of `backend` ('sqlite' or 'postgresql') that `serve` migrates."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'nps.db'}"
        return
    with temporary_postgres(prefix) as url:
        yield url


def new_key(database_url: str, *scopes: Scope, name: str = "test") -> str:
    """A new API key with these scopes, stored in the database; its plaintext."""
    engine = create_db_engine(Settings(database_url=database_url))
    try:
        with make_session_factory(engine)() as session:
            _, plaintext = create_key(session, name, list(scopes))
            session.commit()
    finally:
        engine.dispose()
    return plaintext
