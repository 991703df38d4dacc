"""Nothing personal and no key in the logs: database errors without their parameters or
the failing row, access lines without query strings or ids, forwarding headers believed
only from configured proxies."""

import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import text

from nps_service import server
from nps_service.config import Settings, get_settings
from nps_service.logs import AccessLogMiddleware, JsonFormatter, scrub
from nps_service.main import create_app
from tests.web.test_rate_limit import create_key_with_cli, serve

SECRET = "u_secret_4711"


def with_access_log(app: FastAPI) -> FastAPI:
    """The access log middleware is installed here until main.py does."""
    if not any(m.cls is AccessLogMiddleware for m in app.user_middleware):
        app.add_middleware(AccessLogMiddleware)
    return app


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.post("/v1/test-duplicate-key", include_in_schema=False, tags=["test"])
    def insert_twice(request: Request) -> None:
        """A database error during an insert whose parameters are personal."""
        statement = text(
            "INSERT INTO api_keys (name, prefix, key_hash, scopes, created_at) "
            "VALUES (:name, :prefix, :hash, 'read', :now)"
        )
        values = {
            "name": f"comment of {SECRET}",
            "prefix": SECRET[:12],
            "hash": f"hash-{SECRET}",
            "now": datetime.now(UTC),
        }
        with request.app.state.engine.begin() as connection:
            connection.execute(statement, values)
            connection.execute(statement, values)

    return with_access_log(app)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything captured, as the server's JSON formatter writes it, and as caplog does."""
    formatter = JsonFormatter()
    return caplog.text + "\n".join(formatter.format(record) for record in caplog.records)


def test_database_error_logs_no_parameters(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = client.post("/v1/test-duplicate-key")
    assert response.status_code == 500
    errors = [r for r in caplog.records if r.name == "nps_service.errors"]
    assert errors
    assert "database error" in errors[0].getMessage()
    assert "api_keys" in errors[0].getMessage()  # what failed and where is still there
    assert SECRET not in logged(caplog)


def test_a_refused_answer_logs_neither_comment_nor_respondent(
    client: TestClient,
    settings: Settings,
    backend: str,
    ingest_headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The database refuses a real answer (a constraint added here): the log says which
    constraint, not the row."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    if backend == "postgresql":
        add = "ALTER TABLE responses ADD CONSTRAINT test_refuse CHECK (comment <> 'boom')"
        drop = "ALTER TABLE responses DROP CONSTRAINT test_refuse"
    else:
        add = (
            "CREATE TRIGGER test_refuse BEFORE INSERT ON responses WHEN NEW.comment = 'boom' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        drop = "DROP TRIGGER test_refuse"
    with engine.begin() as connection:
        connection.execute(text(add))
    try:
        with caplog.at_level(logging.INFO):
            for _ in range(2):  # the second one on the single-answer fast path
                response = client.post(
                    "/v1/responses",
                    json={"respondent_id": SECRET, "score": 3, "comment": "boom"},
                    headers=ingest_headers,
                )
                assert response.status_code == 500
    finally:
        with engine.begin() as connection:
            connection.execute(text(drop))
    assert any(r.name == "nps_service.errors" for r in caplog.records)
    assert SECRET not in logged(caplog)
    assert "boom" not in logged(caplog).replace("CHECK (comment <> 'boom')", "")


def test_access_log_has_no_query_string_and_no_ids(
    client: TestClient, ingest_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "nps_service.access"):
        query = {"respondent_id": SECRET, "touchpoint": "post_delivery"}
        assert client.get("/v1/eligibility", params=query, headers=ingest_headers).is_success
        client.delete(f"/v1/respondents/{SECRET}", headers=ingest_headers)  # 403: not admin
        client.get(f"/v1/nowhere/{SECRET}/deeper")  # no route
    lines = [r for r in caplog.records if r.name == "nps_service.access"]
    paths = [getattr(r, "http")["path"] for r in lines]
    assert paths == ["/v1/eligibility", "/v1/respondents/{respondent_id}", "/v1/nowhere/*/*"]
    assert [getattr(r, "http")["status"] for r in lines][:2] == [200, 403]
    assert SECRET not in logged(caplog)
    assert ingest_headers["Authorization"].split()[1] not in logged(caplog)
    entry = json.loads(JsonFormatter().format(lines[0]))
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert entry["duration_ms"] >= 0
    assert re.fullmatch(r"[0-9a-f]{32}", entry["request_id"])
    assert isinstance(entry["key_id"], int)  # the key's id, never the key


def test_json_formatter_is_a_safety_net() -> None:
    formatter = JsonFormatter()
    access = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.77:5123", "GET", f"/v1/eligibility?respondent_id={SECRET}", "1.1", 200),
        None,
    )
    entry = json.loads(formatter.format(access))
    assert entry["path"] == "/v1/eligibility"
    assert entry["client"] == "203.0.113.0/24"
    try:
        raise RuntimeError(
            f"(psycopg.errors.CheckViolation) new row violates check constraint\n"
            f"DETAIL:  Failing row contains (1, {SECRET}, a\nmulti-line comment).\n"
            f"[SQL: INSERT INTO responses VALUES (%(a)s)]\n[parameters: {{'a': '{SECRET}'}}]"
        )
    except RuntimeError:
        failed = logging.LogRecord(
            "nps_service", logging.ERROR, __file__, 1, "failed: %s", (SECRET,), sys.exc_info()
        )
    text_ = formatter.format(failed)
    assert text_.count(SECRET) == 1  # the message itself is the caller's; the error is not
    assert "[SQL: INSERT INTO responses" in text_
    assert "multi-line" not in text_
    assert scrub("nothing personal") == "nothing personal"


def test_forwarding_headers_believed_only_from_configured_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(server.uvicorn, "run", lambda *a, **kw: calls.append(kw))
    argv = ["server", "--host", "h", "--port", "1", "--workers", "1", "--log-level", "info"]
    monkeypatch.setattr(sys, "argv", argv)
    for proxies, expected in (("", []), ("10.0.0.1, 10.1.0.0/16", ["10.0.0.1", "10.1.0.0/16"])):
        monkeypatch.setenv("NPS_TRUSTED_PROXIES", proxies)
        get_settings.cache_clear()
        server.main()
        assert calls[-1]["proxy_headers"] is bool(expected)
        assert calls[-1]["forwarded_allow_ips"] == expected
        assert calls[-1]["access_log"] is False
    get_settings.cache_clear()


@pytest.mark.slow
def test_server_log_has_no_query_string(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "NPS_DATABASE_URL": database_url}
    key = create_key_with_cli(env, scope="ingest")
    with serve(tmp_path, env, workers=1) as base:
        response = httpx.get(
            f"{base}/v1/eligibility",
            params={"respondent_id": SECRET, "touchpoint": "post_delivery"},
            headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": "198.51.100.1"},
        )
        assert response.status_code == 200
    log = (tmp_path / "server.log").read_text()
    assert SECRET not in log
    assert key not in log
    assert "198.51.100" not in log


def test_every_answer_carries_a_request_id(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    made = client.get("/v1/scores", headers=admin_headers)
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    kept = client.get("/v1/scores", headers={**admin_headers, "X-Request-ID": "trace-42.a"})
    assert kept.headers["x-request-id"] == "trace-42.a"
    odd = client.get("/healthz", headers={"X-Request-ID": "no spaces please"})
    assert odd.headers["x-request-id"] != "no spaces please"
    assert client.get("/v1/scores").headers["x-request-id"]  # errors too (401)
