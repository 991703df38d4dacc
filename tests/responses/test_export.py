"""GET /v1/responses/export: every matching answer, streamed, from one snapshot."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.filters import ResponseFilter
from nps_service.responses import export
from nps_service.responses.importer import import_stream
from nps_service.responses.models import Response
from tests.helpers import answer, assert_problem, post_all

START = datetime(2026, 3, 1, tzinfo=UTC)


def answers_over_days(count: int, **fields: Any) -> list[dict[str, Any]]:
    return [
        answer(
            i % 11,
            submitted_at=(START + timedelta(minutes=70 * i)).isoformat(),
            dimensions={"logistics": i % 11, "app": None},
            **fields,
        )
        for i in range(count)
    ]


def test_ndjson_holds_every_matching_answer_oldest_first(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    beauty = answers_over_days(30, context={"category": "beauty", "merchant_id": "m_1"})
    food = answers_over_days(5, context={"category": "food"})
    beauty[3]["properties"] = {"campaign": "double11", "first": True}
    beauty[4]["comment"] = 'Late, but "fine", thanks\nsecond line'
    post_all(client, admin_headers, beauty + food)
    params = {"category": "beauty", "from": "2026-03-02T12:00", "tz": "Asia/Shanghai"}
    reply = client.get("/v1/responses/export", headers=admin_headers, params=params)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in reply.text.splitlines()]
    first = datetime(2026, 3, 2, 4, tzinfo=UTC)  # noon of 2026-03-02 in Shanghai
    expected = [a for a in beauty if datetime.fromisoformat(a["submitted_at"]) >= first]
    assert [line["id"] for line in lines] == [a["id"] for a in expected]
    for line in lines[:5]:
        stored = client.get(f"/v1/responses/{line['id']}", headers=admin_headers).json()
        assert line == stored


def test_csv_is_the_import_layout_and_imports_back(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    answers = answers_over_days(25, context={"channel": "web"})
    answers[0]["properties"] = {"campaign": "double11", "n": 2}
    answers[1]["comment"] = 'commas, "quotes"\nand lines'
    answers[2]["weight"] = 2.5
    post_all(client, admin_headers, answers)
    reply = client.get("/v1/responses/export", headers=admin_headers, params={"format": "csv"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert [r["id"] for r in rows] == [a["id"] for a in answers]
    assert json.loads(rows[0]["properties"] or "null") == {"campaign": "double11", "n": 2}
    assert rows[1]["comment"] == 'commas, "quotes"\nand lines'
    assert float(rows[2]["weight"]) == 2.5
    # Importing the export again finds every answer already stored, with the same content.
    engine = create_db_engine(settings)
    result = import_stream(engine, io.StringIO(reply.text), "csv")
    engine.dispose()
    assert (result.rows, result.created, result.duplicates) == (25, 0, 25)


def test_empty_exports(client: TestClient, admin_headers: dict[str, str]) -> None:
    reply = client.get("/v1/responses/export", headers=admin_headers)
    assert reply.status_code == 200
    assert reply.text == ""
    reply = client.get("/v1/responses/export", headers={**admin_headers, "Accept": "text/csv"})
    assert reply.text.splitlines()[0].startswith("id,respondent_id,score,")


def test_answers_stored_during_an_export_are_not_in_it(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    first = answers_over_days(export.CHUNK + 500)
    post_all(client, admin_headers, first)
    engine = create_db_engine(settings)
    scope = ResponseFilter(start=None, end=None, tz=START.tzinfo, segments={})  # type: ignore[arg-type]
    stream = export.ndjson_lines(export.ExportCursor(engine, scope, seconds=600))
    received = next(stream).decode().splitlines()  # the first chunk is out
    later = [
        answer(9, submitted_at=(START + timedelta(days=200, minutes=i)).isoformat())
        for i in range(50)
    ]
    post_all(client, admin_headers, later)
    received += b"".join(stream).decode().splitlines()
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(Response))
    engine.dispose()
    assert stored == len(first) + len(later)
    assert [json.loads(line)["id"] for line in received] == [a["id"] for a in first]


def test_export_checks_its_parameters(client: TestClient, admin_headers: dict[str, str]) -> None:
    reply = client.get("/v1/responses/export", headers=admin_headers, params={"tz": "Mars/Base"})
    assert_problem(reply, 422)
    assert_problem(client.get("/v1/responses/export"), 401)
