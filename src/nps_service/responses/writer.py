"""Single answers stored in groups: one transaction and one commit for all that arrive
together (group commit).

Each `POST /v1/responses` used to hold a connection for its own BEGIN, key lookup,
insert and COMMIT, each a round trip handed between the event loop and a worker thread:
200 answers/s with two workers here, 4% of what pgbench inserts one row per transaction.
Now the request validates its body on the event loop and hands the row to this process's
writer thread, which takes every row waiting (up to `MAX_GROUP`), checks their keys are
still valid, stores the new ones and reads back the retried ones in one transaction, and
answers each request after the commit. An answer is still acknowledged only once it is
durable; a failed commit fails every request of its group (they retry with their ids).
"""

import asyncio
import logging
import queue
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection, Engine

from nps_service.errors import Conflict, FieldError, Unauthorized
from nps_service.keys.models import ApiKey
from nps_service.metrics import Metrics
from nps_service.responses.ingest import Stored, insert_new, insert_new_checking_keys
from nps_service.responses.models import Response
from nps_service.responses.rows import same_answer, to_out_from_row

logger = logging.getLogger("nps_service.writer")
# Rows per transaction at most: a group waits for the one before it, so under load groups
# grow by themselves; this only bounds one statement's size.
MAX_GROUP = 500


@dataclass
class _Waiting:
    row: dict[str, Any]
    key_id: int
    loop: asyncio.AbstractEventLoop
    future: "asyncio.Future[Stored]" = field(init=False)

    def __post_init__(self) -> None:
        self.future = self.loop.create_future()


def _settle_all(settled: list[tuple["asyncio.Future[Stored]", Stored | BaseException]]) -> None:
    """In the event loop: give each request of a group its outcome."""
    for future, outcome in settled:
        if future.done():  # the request was cancelled (the client went away)
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def _wake(group: "list[_Waiting]", outcomes: "Sequence[Stored | BaseException]") -> None:
    """From a writer thread: one wake-up per event loop for the whole group (each wake-up
    writes to the loop's self-pipe; one per answer cost 6% of the process)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
    for waiting, outcome in zip(group, outcomes, strict=True):
        by_loop.setdefault(waiting.loop, []).append((waiting.future, outcome))
    for loop, settled in by_loop.items():
        loop.call_soon_threadsafe(_settle_all, settled)


class IngestWriter:
    """Threads (lanes) of one process that store single answers in groups.

    Several lanes on PostgreSQL: while one waits for its commit to be flushed, another
    stores the next group (one lane did 480 answers/s here, most of its time waiting on the
    database). SQLite has one writer at a time anyway: one lane.
    """

    def __init__(self, engine: Engine, metrics: Metrics | None = None) -> None:
        self._metrics = metrics
        # PostgreSQL: a group is one statement, committed as it ends. SQLite: a transaction
        # that takes the write lock at BEGIN, since it reads the keys first.
        if engine.dialect.name == "postgresql":
            self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            self._engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        count = LANES if engine.dialect.name == "postgresql" else 1
        self._lanes = [_Lane(self._engine, self._queue, index, metrics) for index in range(count)]
        self._starting = threading.Lock()
        self._started = False

    def stop(self) -> None:
        """Store what is queued, then end the lanes."""
        if self._started:
            for _ in self._lanes:
                self._queue.put(None)
            for lane in self._lanes:
                lane.join(timeout=30)

    async def store(self, row: dict[str, Any], key_id: int) -> Stored:
        """Store one answer's row for the key; returns once its group is committed."""
        if not self._started:
            self._start()
        waiting = _Waiting(row, key_id, asyncio.get_running_loop())
        self._queue.put(waiting)
        return await waiting.future

    def _start(self) -> None:
        # On first use, not at start-up: an app served without its lifespan (tests, some
        # ASGI hosts) still stores answers.
        with self._starting:
            if not self._started:
                for lane in self._lanes:
                    lane.start()
                self._started = True


# Lanes per process on PostgreSQL (each holds one connection of the request pool).
LANES = 3


class _Lane(threading.Thread):
    """One writer thread with its own connection, kept between groups: checking one out of
    the pool for each group (with its liveness ping) cost three round trips of six."""

    def __init__(
        self,
        engine: Engine,
        waiting: "queue.SimpleQueue[_Waiting | None]",
        index: int,
        metrics: Metrics | None,
    ) -> None:
        super().__init__(name=f"ingest-writer-{index}", daemon=True)
        self._engine = engine
        self._metrics = metrics
        self._waiting = waiting
        self._connection: Connection | None = None

    def run(self) -> None:
        while (group := self._next_group()) is not None:
            self._settle(group)
        if self._connection is not None:
            self._connection.close()

    def _next_group(self) -> list[_Waiting] | None:
        """Every answer waiting, up to MAX_GROUP; None once told to stop."""
        first = self._waiting.get()
        if first is None:
            return None
        group = [first]
        while len(group) < MAX_GROUP:
            try:
                item = self._waiting.get_nowait()
            except queue.Empty:
                break
            if item is None:  # stop after this group
                self._waiting.put(None)
                break
            group.append(item)
        return group

    def _settle(self, group: list[_Waiting]) -> None:
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
            outcomes = store_group(self._connection, [(w.row, w.key_id) for w in group])
        except Exception as exc:  # the whole group failed: every request hears why
            outcomes = [exc] * len(group)
            if self._connection is not None:
                self._connection.invalidate()  # it may be broken: not back to the pool
                self._connection.close()
                self._connection = None
        _wake(group, outcomes)
        if self._metrics is not None:
            self._metrics.ingest_groups.observe(len(group))
            created = sum(1 for o in outcomes if isinstance(o, Stored) and o.created)
            self._metrics.responses_stored.inc(created)


def store_group(
    connection: Connection, items: Sequence[tuple[dict[str, Any], int]]
) -> list[Stored | BaseException]:
    """Store each (row, key id) independently and commit.

    PostgreSQL: one statement in autocommit mode checks the keys and stores the new rows
    (one round trip and one commit per group); SQLite: a transaction of two statements.
    Per item: the stored answer (created, or an earlier identical one), Conflict for an id
    already used for other content (also earlier in the same group), Unauthorized for a key
    revoked since the request's check.
    """
    firsts: dict[uuid.UUID, tuple[dict[str, Any], int]] = {}
    for row, key_id in items:
        firsts.setdefault(row["id"], (row, key_id))
    ordered = [firsts[response_id] for response_id in sorted(firsts)]  # one lock order
    if connection.dialect.name == "postgresql":
        rows, keys = [row for row, _ in ordered], [key_id for _, key_id in ordered]
        inserted, valid = insert_new_checking_keys(connection, rows, keys)
    else:
        with connection.begin():
            valid = _valid_keys(connection, {key_id for _, key_id in items})
            inserted = insert_new(connection, [row for row, key in ordered if key in valid])
    existing = [response_id for response_id in firsts if response_id not in inserted]
    stored: dict[uuid.UUID, dict[str, Any]] = {}
    if existing:
        found = connection.execute(select(*_STORED).where(_STORED.id.in_(existing))).mappings()
        stored = {row["id"]: dict(row) for row in found}
    # Ends what the connection began: a no-op for the writer's autocommit connection on
    # PostgreSQL, the commit of the group for any other caller; SQLite's only read here.
    connection.commit()
    return [
        _outcome(row, key_id in valid, firsts[row["id"]][0], inserted, stored)
        for row, key_id in items
    ]


def _valid_keys(connection: Connection, key_ids: set[int]) -> set[int]:
    query = select(ApiKey.id).where(ApiKey.id.in_(key_ids), ApiKey.revoked_at.is_(None))
    return set(connection.scalars(query))


_STORED = cast(Table, Response.__table__).c


def _outcome(
    row: dict[str, Any],
    key_valid: bool,
    first: dict[str, Any],
    inserted: set[uuid.UUID],
    stored: dict[uuid.UUID, dict[str, Any]],
) -> Stored | BaseException:
    if not key_valid:
        return Unauthorized(
            "unknown or revoked API key", headers={"WWW-Authenticate": 'Bearer realm="nps-service"'}
        )
    response_id = row["id"]
    if response_id in inserted:
        if first is row:
            return Stored(to_out_from_row(row), created=True)
        earlier = first
    elif response_id in stored:
        earlier = stored[response_id]
    else:  # pragma: no cover - a stored row cannot vanish before this transaction reads it
        return Conflict(f"response {response_id} is being written concurrently; retry")
    if not same_answer(earlier, row):
        return Conflict(
            f"a different response with id {response_id} already exists",
            errors=[FieldError(pointer="/id", detail="id already used for different content")],
        )
    return Stored(to_out_from_row(earlier), created=False)
