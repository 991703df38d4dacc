"""Every request is bounded: in time, in memory, in connections. Overload and outages are a
fast 503 with Retry-After; a request past a bound is a 4xx that says which; never a 500."""

import asyncio
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from nps_service.config import Settings
from nps_service.db import PoolShape, create_db_engine, database_trouble, make_session_factory
from nps_service.filters import ResponseFilter
from nps_service.keys.service import Scope, create_key
from nps_service.main import create_app
from nps_service.migrate import upgrade
from nps_service.responses import export
from nps_service.scores import router as scores_router
from tests.helpers import answer, assert_problem, post_all
from tests.responses.test_concurrency import run_against


@pytest.mark.parametrize(
    "path",
    [
        "/v1/scores/compare?from=0001-01-02&to=9999-12-30",
        "/v1/scores/compare?from=0001-01-01&to=0001-01-03",
        "/v1/scores/trend?interval=month&from=0001-01-01&to=9999-12-31&tz=Pacific/Kiritimati",
        "/v1/scores?interval=week&from=0001-01-01&to=9999-12-31&tz=Pacific/Kiritimati",
        "/v1/scores?interval=month&from=0001-01-01&to=9999-12-31&tz=America/Adak",
        "/v1/drivers?interval=month&from=0001-01-01&to=9999-12-31&tz=Pacific/Kiritimati",
        "/v1/merchants?category=a&end=9998-12-31&tz=Pacific/Kiritimati",
        "/v1/responses?from=0001-01-01&to=9999-12-31&tz=Pacific/Kiritimati",
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_never_a_500(
    client: TestClient, admin_headers: dict[str, str], path: str
) -> None:
    post_all(
        client, admin_headers, [answer(s, submitted_at="2026-11-03T10:00:00Z") for s in range(11)]
    )
    reply = client.get(path, headers=admin_headers)
    assert reply.status_code in (200, 422), reply.text
    if reply.status_code == 200 and "/v1/scores?" in path:
        # Bounds beyond any answer change nothing: every answer is counted.
        assert sum(g["overall"]["n"] for g in reply.json()["groups"]) == 11


def test_more_groups_than_allowed_is_a_422_before_they_are_built(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    capped = settings.model_copy(update={"max_groups": 3})
    with TestClient(create_app(capped), raise_server_exceptions=False) as client:
        bodies = [answer(9, context={"category": f"c{i}"}) for i in range(4)]
        post_all(client, admin_headers, bodies)
        body = assert_problem(
            client.get("/v1/scores", headers=admin_headers, params={"group_by": "category"}), 422
        )
        assert body["type"].endswith("/too-many-groups")
        assert "NPS_MAX_GROUPS" in body["detail"]
        three = client.get(
            "/v1/scores",
            headers=admin_headers,
            params={"group_by": "category", "category": "c0,c1,c2"},
        )
        assert three.status_code == 200, three.text
        assert len(three.json()["groups"]) == 3
        # The global NPS is one group whatever the cap.
        assert client.get("/v1/scores", headers=admin_headers).status_code == 200


def test_an_exhausted_pool_is_a_fast_503(settings: Settings, admin_headers: dict[str, str]) -> None:
    small = settings.model_copy(update={"db_pool_size": 1, "db_pool_timeout_seconds": 0.3})
    with TestClient(create_app(small), raise_server_exceptions=False) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        held = [engine.connect(), engine.connect()]  # the pool and its overflow
        try:
            started = time.monotonic()
            reply = client.get("/v1/scores", headers=admin_headers)
            elapsed = time.monotonic() - started
        finally:
            for connection in held:
                connection.close()
        body = assert_problem(reply, 503)
        assert reply.headers["Retry-After"] == "1"
        assert "retry" in body["detail"]
        assert elapsed < 3
        # And it recovers by itself once connections are free again.
        assert client.get("/v1/scores", headers=admin_headers).status_code == 200


def _unreachable(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/missing/folder/nps.db"
    return "postgresql://postgres@127.0.0.1:1/nps"  # nothing listens on port 1


def test_a_database_that_is_down_is_a_503_with_retry_after(backend: str, tmp_path: Path) -> None:
    settings = Settings(database_url=_unreachable(backend, tmp_path), rollup_interval_seconds=0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        headers = {"Authorization": "Bearer nps_whatever"}
        for reply in (
            client.get("/v1/scores", headers=headers),
            client.post("/v1/responses", headers=headers, json=answer(9)),
        ):
            body = assert_problem(reply, 503)
            assert reply.headers["Retry-After"] == "5"
            assert "unavailable" in body["detail"]
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert client.get("/metrics").status_code == 200  # no pending figure, but no error


# A statement that runs for ever on SQLite, and one second on PostgreSQL.
SLOW = {
    "postgresql": "SELECT pg_sleep(1)",
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
    "SELECT count(*) FROM n",
}


def test_a_statement_past_its_bound_is_classified_too_slow(database_url: str, backend: str) -> None:
    bounded = PoolShape(size=1, overflow=0, checkout_timeout=1, statement_timeout=0.05)
    engine = create_db_engine(Settings(database_url=database_url), bounded)
    slow = SLOW[backend]
    started = time.monotonic()
    with pytest.raises(OperationalError) as caught, engine.connect() as connection:
        connection.execute(text(slow))
    engine.dispose()
    assert database_trouble(caught.value) == "too_slow"
    assert time.monotonic() - started < 2


def test_a_statement_past_its_bound_is_a_422(
    settings: Settings, admin_headers: dict[str, str], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bounded = PoolShape(size=1, overflow=0, checkout_timeout=1, statement_timeout=0.05)
    engine = create_db_engine(settings, bounded)
    slow = (
        "SELECT pg_sleep(1)"
        if backend == "postgresql"
        else (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
        )
    )

    def too_slow(*_args: object) -> None:
        with engine.connect() as connection:
            connection.execute(text(slow))

    monkeypatch.setattr(scores_router, "compute_scores", too_slow)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        body = assert_problem(client.get("/v1/scores", headers=admin_headers), 422)
    engine.dispose()
    assert body["type"].endswith("/query-too-broad")


def test_requests_beyond_the_concurrency_limit_get_503(
    settings: Settings, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = settings.model_copy(
        update={"max_concurrent_requests": 1, "db_pool_timeout_seconds": 0.2}
    )
    real = scores_router.compute_scores

    def slow(*args: object) -> object:
        time.sleep(0.8)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(scores_router, "compute_scores", slow)

    async def scenario(client: httpx.AsyncClient) -> list[httpx.Response]:
        first = asyncio.create_task(client.get("/v1/scores", headers=admin_headers))
        await asyncio.sleep(0.2)
        second = await client.get("/v1/scores", headers=admin_headers)
        health = await client.get("/healthz")  # never held back
        return [await first, second, health]

    first, second, health = run_against(limited, scenario)
    assert first.status_code == 200, first.text
    assert second.status_code == 503, second.text
    assert second.headers["Retry-After"] == "1"
    assert health.status_code == 200


def test_exports_beyond_the_limit_get_503(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    slots = client.app.state.exports  # type: ignore[attr-defined]
    taken = 0
    while slots.acquire(blocking=False):  # as if every export slot were streaming
        taken += 1
    try:
        reply = client.get("/v1/responses/export", headers=admin_headers)
    finally:
        for _ in range(taken):
            slots.release()
    assert_problem(reply, 503)
    assert reply.headers["Retry-After"] == "5"
    assert client.get("/v1/responses/export", headers=admin_headers).status_code == 200


def test_an_export_past_its_time_bound_ends_with_an_error(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    post_all(client, admin_headers, [answer(9) for _ in range(5)])
    engine = create_db_engine(settings)
    scope = ResponseFilter(start=None, end=None, tz=ZoneInfo("UTC"))
    cursor = export.ExportCursor(engine, scope, seconds=-1)
    with pytest.raises(TimeoutError):
        list(export.ndjson_lines(cursor))
    engine.dispose()


def test_the_key_lookup_gives_its_connection_back(settings: Settings) -> None:
    """An export streams for minutes: it must not also hold the key lookup's connection."""
    engine = create_db_engine(settings)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        _, plaintext = create_key(session, "t", [Scope.READ])
        session.commit()
    engine.dispose()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        reply = client.get(
            f"/v1/responses/{uuid.uuid4()}", headers={"Authorization": f"Bearer {plaintext}"}
        )
        assert reply.status_code == 404
        pool = client.app.state.engine.pool  # type: ignore[attr-defined]
        assert pool.checkedout() == 0
