"""Connections for the BI view tests: as the views' owner, and as a fresh login role."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from nps_service.db import normalise_database_url


@pytest.fixture
def owner(database_url: str) -> Iterator[Engine]:
    """The test database as the user that migrated it (who owns the views)."""
    engine = create_engine(normalise_database_url(database_url), poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def login(database_url: str, owner: Engine) -> Iterator[tuple[str, str]]:
    """A new LOGIN role with no privileges, and a URL that connects as it. Roles belong
    to the whole server: a unique name, dropped afterwards whatever happened."""
    name = f"nps_bi_test_{uuid.uuid4().hex[:12]}"
    password = uuid.uuid4().hex
    with owner.begin() as connection:
        connection.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'"))
    url = make_url(normalise_database_url(database_url)).set(username=name, password=password)
    try:
        yield name, url.render_as_string(hide_password=False)
    finally:
        with owner.begin() as connection:
            connection.execute(text(f"DROP ROLE IF EXISTS {name}"))
