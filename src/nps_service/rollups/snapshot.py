"""One consistent view of rollups, pending tail and answers for every read of a request."""

from sqlalchemy import text
from sqlalchemy.orm import Session

_SNAPSHOT = "nps_score_snapshot"


def enter_snapshot(session: Session) -> None:
    """PostgreSQL: one REPEATABLE READ snapshot for every score query of the transaction.

    Rollups, pending tail and raw rows must come from one snapshot, or an answer folded
    between two reads would be counted twice or not at all; an endpoint that aggregates
    several times (compare, scorecards) then also sees one state of the data. SQLite needs
    nothing: a read transaction there keeps the WAL snapshot of its first statement.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_SNAPSHOT) is transaction:
        return
    if session.in_transaction():
        session.rollback()  # only the key lookup ran: start the snapshot fresh
    connection = session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    # Hash, don't sort on disk; and compiling these short queries to machine code (JIT)
    # costs more than running them.
    connection.execute(
        text("SELECT set_config('work_mem', '32MB', true), set_config('jit', 'off', true)")
    )
    session.info[_SNAPSHOT] = session.get_transaction()
