"""Grant the BI reader role to a login role (PostgreSQL)."""

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

SCHEMA = "nps_bi"
READER = "nps_bi_reader"
# As migration 0010 writes it: its downgrade drops only a role carrying this comment.
READER_COMMENT = "nps-service: reads the BI views of schema nps_bi (created by migration 0010)"


class GrantError(Exception):
    """Why the grant cannot be made, worded for the operator."""


def grant_reader(engine: Engine, login: str) -> list[str]:
    """Make `login` a member of the reader role; notes for the operator.

    Idempotent. The role's grants (USAGE on the schema, SELECT on every view in it) are
    applied again each time, so views added by a later migration are covered too.
    """
    if engine.dialect.name != "postgresql":
        raise GrantError("the BI views exist on PostgreSQL only")
    quote = engine.dialect.identifier_preparer.quote
    notes = []
    with engine.begin() as connection:
        if not _exists(connection, "SELECT 1 FROM pg_namespace WHERE nspname = :n", SCHEMA):
            raise GrantError(f"schema {SCHEMA} is missing: run `nps-service migrate` first")
        if login == READER:
            raise GrantError(f"{READER} is the reader role itself: name the BI tool's login")
        found = connection.execute(
            text("SELECT rolsuper, rolcanlogin FROM pg_roles WHERE rolname = :n"), {"n": login}
        ).first()
        if found is None:
            raise GrantError(
                f"no role {login!r}: create it first, e.g. "
                f"CREATE ROLE {quote(login)} LOGIN PASSWORD '...'"
            )
        if not _exists(connection, "SELECT 1 FROM pg_roles WHERE rolname = :n", READER):
            _create_reader(connection)
            notes.append(f"created role {READER}")
        connection.execute(text(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {READER}"))
        connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {READER}"))
        connection.execute(text(f"GRANT {READER} TO {quote(login)}"))
        notes.append(f"{login} may read the views of schema {SCHEMA} (as a member of {READER})")
        superuser, can_login = found
        if superuser:
            notes.append(f"warning: {login} is a superuser and reads every table anyway")
        elif _reads_answers(connection, login):
            notes.append(f"warning: {login} may also read table responses directly")
        if not can_login:
            notes.append(f"warning: {login} cannot log in (NOLOGIN)")
    return notes


def _exists(connection: Connection, sql: str, name: str) -> bool:
    return connection.execute(text(sql), {"n": name}).first() is not None


def _create_reader(connection: Connection) -> None:
    try:
        with connection.begin_nested():
            connection.execute(text(f"CREATE ROLE {READER} NOLOGIN"))
            comment = READER_COMMENT.replace("'", "''")
            connection.execute(text(f"COMMENT ON ROLE {READER} IS '{comment}'"))
    except DBAPIError as exc:
        raise GrantError(
            f"could not create role {READER} ({type(exc).__name__}); as an administrator run "
            f"CREATE ROLE {READER} NOLOGIN; then this command again"
        ) from exc


def _reads_answers(connection: Connection, login: str) -> bool:
    """Whether the login reads the answers table without the views (granted elsewhere)."""
    readable = connection.scalar(
        text(
            "SELECT has_table_privilege(r.oid, c.oid, 'SELECT') FROM pg_roles r, pg_class c "
            "WHERE r.rolname = :n AND c.oid = to_regclass('responses')"
        ),
        {"n": login},
    )
    return bool(readable)
