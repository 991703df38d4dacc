"""Engine, session factory and column types shared by every domain package."""

import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
import sqlalchemy.exc
from sqlalchemy import DateTime, Dialect, MetaData, create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from nps_service.config import Settings

# Stable constraint names so Alembic migrations are reproducible.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for all tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC.

    SQLite has no timestamp type: values are stored as naive UTC text of one fixed width,
    so text comparison orders them correctly. PostgreSQL uses timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def normalise_database_url(raw: str) -> URL:
    """Accept the plain URLs users write and pick the driver ourselves."""
    url = make_url(raw)
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return url.set(drivername="sqlite+pysqlite")
    raise ValueError(
        f"unsupported database URL scheme {url.drivername!r}: use sqlite or postgresql"
    )


@dataclass(frozen=True)
class PoolShape:
    """How many connections an engine keeps, how long a checkout waits, and how long a
    statement may run (None: unbounded, for folding, imports and maintenance)."""

    size: int
    overflow: int
    checkout_timeout: float = 30.0
    statement_timeout: float | None = None


def request_pool(settings: Settings) -> PoolShape:
    """The pool requests draw from: bounded waits and bounded statements."""
    return PoolShape(
        size=settings.db_pool_size,
        overflow=settings.db_pool_size,
        checkout_timeout=settings.db_pool_timeout_seconds,
        statement_timeout=settings.statement_timeout_seconds,
    )


def background_pool(settings: Settings) -> PoolShape:
    """The folder, the table maintenance and the exports: their own few connections, so a
    busy request pool never stalls them (nor they it)."""
    size = 2 + settings.max_concurrent_exports
    return PoolShape(size=size, overflow=2, checkout_timeout=settings.db_pool_timeout_seconds)


def create_db_engine(settings: Settings, pool: PoolShape | None = None) -> Engine:
    """Build the engine for the configured database, tuned for concurrent writers."""
    url = normalise_database_url(settings.database_url)
    pool = pool or PoolShape(settings.db_pool_size, settings.db_pool_size)
    if url.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, settings, pool)
    connect_args = {}
    if pool.statement_timeout is not None:
        milliseconds = int(pool.statement_timeout * 1000)
        connect_args["options"] = f"-c statement_timeout={milliseconds}"
    return create_engine(
        url,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.checkout_timeout,
        pool_pre_ping=True,
        connect_args=connect_args,
        # Errors (and so logs) never quote a statement's parameters: comments, respondent ids.
        hide_parameters=True,
    )


def _create_sqlite_engine(url: URL, settings: Settings, pool: PoolShape) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    pool_args = (
        {}
        if in_memory
        else {
            "pool_size": pool.size,
            "max_overflow": pool.overflow,
            "pool_timeout": pool.checkout_timeout,
        }
    )
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
        hide_parameters=True,
        **pool_args,
    )
    busy_timeout = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, record: Any) -> None:
        # Take transaction control away from pysqlite so that BEGIN is explicit (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside a writer; busy_timeout makes writers wait, not fail.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
        # FULL: an acknowledged answer survives a power cut, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        if pool.statement_timeout is not None:
            record.info[_DEADLINE] = _install_deadline(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Writers begin with their INSERT, so a deferred BEGIN takes the write lock on that
        # first statement and waits up to busy_timeout instead of deadlocking on an upgrade.
        # Transactions that read before writing ask for BEGIN IMMEDIATE instead.
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    if pool.statement_timeout is not None:
        seconds = pool.statement_timeout

        @event.listens_for(engine, "before_cursor_execute")
        def _start_clock(connection: Any, *_args: Any) -> None:
            deadline = connection.info.get(_DEADLINE)
            if deadline is not None:
                deadline[0] = time.monotonic() + seconds

    return engine


_DEADLINE = "nps_statement_deadline"


def _install_deadline(dbapi_connection: Any) -> list[float]:
    """SQLite has no statement timeout: interrupt a statement that runs past its deadline
    (sqlite3 raises OperationalError 'interrupted', as PostgreSQL cancels one)."""
    deadline = [float("inf")]

    def progress() -> int:
        return 1 if time.monotonic() > deadline[0] else 0

    # Checked every 100,000 virtual-machine steps: about a millisecond of work.
    dbapi_connection.set_progress_handler(progress, 100_000)
    return deadline


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


# How a database failure should reach the client: busy (pool or lock wait ran out), down
# (no connection), too slow (a statement ran past its bound), or None (a bug: a 500).
DatabaseTrouble = Literal["busy", "down", "too_slow"]


def database_trouble(exc: BaseException) -> DatabaseTrouble | None:
    """Classify an exception raised by SQLAlchemy, psycopg or sqlite3."""
    if isinstance(exc, sqlalchemy.exc.TimeoutError):
        return "busy"
    original = getattr(exc, "orig", None) or exc
    message = str(original)
    if isinstance(original, psycopg.errors.QueryCanceled):
        return "too_slow"
    if isinstance(original, sqlite3.OperationalError):
        if message == "interrupted":
            return "too_slow"
        if "locked" in message or "busy" in message:
            return "busy"
        if "unable to open" in message or "disk I/O" in message:
            return "down"
    if getattr(exc, "connection_invalidated", False):
        return "down"
    if isinstance(original, psycopg.OperationalError | psycopg.InterfaceError):
        return "down"
    return None


def begin_writing(session: Session) -> None:
    """Start the session's transaction as a writer that reads first (a lock check, a key
    check): on SQLite, BEGIN IMMEDIATE takes the write lock up front and waits its turn,
    where a deferred BEGIN would fail with "database is locked" when it upgrades."""
    if session.get_bind().dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def as_utc_instant(value: object) -> datetime | None:
    """A timestamp read back through an aggregate: min()/max() lose the column type on
    SQLite and come back as naive UTC text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
