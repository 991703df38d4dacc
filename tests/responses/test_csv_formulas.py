"""Every CSV the service writes neutralises formula cells, and `import` reverses it."""

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.filters import ResponseFilter
from nps_service.migrate import upgrade
from nps_service.responses import export
from nps_service.responses.formats import csv_bodies, write_csv
from nps_service.responses.importer import import_stream
from nps_service.timezones import parse_time_zone
from nps_service.web.spreadsheet import neutralise, restore
from tests.helpers import answer, post_all

PLANTED = [
    '=HYPERLINK("http://x")',
    "+SUM(1)",
    "-2+3",
    "@SUM(1)",
    "\tx",
    "\rx",
    "'=already",
    "'",
    "=cmd|' /C calc'!A0",
]
# Tags allow letters, digits and _ - . : / only: of the formula starts, just `-`.
TAGS = ["-x", "-1", "-"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("text", [*PLANTED, *TAGS, "", "plain", "a=b", "''", "'x", "5", "-5"])
def test_neutralise_is_reversible_and_leaves_nothing_to_run(text: str) -> None:
    cell = neutralise(text)
    assert restore(cell) == text
    assert not cell.startswith(FORMULA_START)
    if text.startswith((*FORMULA_START, "'")):
        assert cell == "'" + text
    else:
        assert cell == text


def planted_answers() -> list[dict[str, Any]]:
    answers = []
    for index, text in enumerate(PLANTED):
        answers.append(
            answer(
                index % 11,
                respondent_id=text,
                comment=text,
                context={"category": TAGS[index % len(TAGS)], "merchant_id": "-m"},
                properties={text: text, "campaign": "-1"},
                dimensions={"logistics": 0},
                weight=2.5,
                submitted_at=f"2026-03-01T0{index}:00:00+00:00",
            )
        )
    # An ordinary answer too (the writer's fast path), and one with a negative-looking tag.
    answers.append(answer(0, submitted_at="2026-03-02T00:00:00Z"))
    answers.append(answer(3, context={"order_id": "-7"}, submitted_at="2026-03-02T01:00:00Z"))
    return answers


def assert_no_formula_cells(text: str) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (column, cell)
            if cell.startswith("-"):  # only numbers may start with a minus
                float(cell)
    return rows


def test_write_csv_quotes_text_not_numbers() -> None:
    out = io.StringIO(newline="")
    write_csv(planted_answers(), out)
    rows = assert_no_formula_cells(out.getvalue())
    assert [row["comment"] for row in rows[: len(PLANTED)]] == ["'" + t for t in PLANTED]
    assert rows[0]["category"] == "'-x"
    assert rows[-1]["order_id"] == "'-7"
    assert rows[0]["score"] == "0"
    assert rows[0]["logistics"] == "0"
    assert rows[0]["weight"] == "2.5"
    # Read back: exactly the bodies that were written.
    bodies = [body for _, body in csv_bodies(io.StringIO(out.getvalue(), newline=""))]
    for body, original in zip(bodies, planted_answers(), strict=True):
        assert body["respondent_id"] == original["respondent_id"]
        assert body.get("comment") == original.get("comment")
        assert body.get("context") == original.get("context")
        assert body.get("properties") == original.get("properties")


def _export(client: TestClient, headers: dict[str, str]) -> str:
    reply = client.get("/v1/responses/export", headers=headers, params={"format": "csv"})
    assert reply.status_code == 200, reply.text
    text: str = reply.text
    return text


def test_the_export_is_safe_and_imports_back_unchanged(
    client: TestClient, admin_headers: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    answers = planted_answers()
    post_all(client, admin_headers, answers)
    text = _export(client, admin_headers)
    rows = assert_no_formula_cells(text)
    by_id = {row["id"]: row for row in rows}
    for original in answers[: len(PLANTED)]:
        row = by_id[original["id"]]
        assert row["respondent_id"] == neutralise(original["respondent_id"])
        assert row["comment"] == neutralise(original["comment"])
        assert row["category"] == neutralise(original["context"]["category"])
        assert row["merchant_id"] == "'-m"
        assert row["properties"].startswith("{")  # a JSON object: never a formula
    # Into the same database: every row is a retry with the same content.
    engine = create_db_engine(settings)
    result = import_stream(engine, io.StringIO(text, newline=""), "csv")
    engine.dispose()
    assert (result.rows, result.created, result.duplicates) == (len(answers), 0, len(answers))
    # The parsed rows are the answers as the API returns them.
    listed = client.get("/v1/responses", headers=admin_headers, params={"limit": 100}).json()
    stored = {item["id"]: item for item in listed["items"]}
    for _, body in csv_bodies(io.StringIO(text, newline="")):
        item = stored[body["id"]]
        assert body["respondent_id"] == item["respondent_id"]
        assert body.get("comment") == item["comment"]
        assert (body.get("properties") or {}) == (item["properties"] or {})
        assert {k: v for k, v in item["context"].items() if v is not None} == body.get(
            "context", {}
        )
    # Into an empty database, exported again: the same file.
    fresh = create_db_engine(Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}"))
    upgrade(fresh)
    imported = import_stream(fresh, io.StringIO(text, newline=""), "csv")
    assert imported.created == len(answers)
    scope = ResponseFilter(start=None, end=None, tz=parse_time_zone("UTC"))
    again = b"".join(export.csv_chunks(export.ExportCursor(fresh, scope, seconds=60))).decode()
    fresh.dispose()
    assert again == text


def test_the_scores_csv_quotes_tag_keys_not_numbers(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_all(
        client,
        admin_headers,
        [
            answer(0, context={"category": "-x", "merchant_id": "-1"}),
            answer(1, context={"category": "-x", "merchant_id": "-1"}),
            answer(10, context={"category": "beauty", "merchant_id": "m"}),
        ],
    )
    reply = client.get(
        "/v1/scores",
        headers=admin_headers,
        params={"group_by": "category,merchant_id", "format": "csv"},
    )
    assert reply.status_code == 200, reply.text
    rows = assert_no_formula_cells(reply.text)
    keys = {(row["category"], row["merchant_id"]): row for row in rows}
    assert set(keys) == {("'-x", "'-1"), ("beauty", "m")}
    detractors = keys[("'-x", "'-1")]
    assert detractors["overall_nps"] == "-100.0"  # a number: not quoted
    assert float(detractors["overall_ci_low"]) < 0
