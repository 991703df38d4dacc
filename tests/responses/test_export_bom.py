"""`bom=true` on the CSV export, for Excel; `import` reads such a file (or one Excel saved)
back unchanged."""

import io
import json

from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.responses.importer import import_stream
from tests.helpers import answer, assert_problem, post_all

BOM = b"\xef\xbb\xbf"


def planted() -> list[dict[str, object]]:
    return [
        answer(
            i % 11,
            respondent_id=f"用户_{i}",
            comment="=送货太慢" if i == 0 else "物流很快",
            context={"category": "生鲜", "merchant_id": "m_1"},
            submitted_at=f"2026-11-{1 + i:02d}T10:00:00+08:00",
        )
        for i in range(12)
    ]


def test_export_with_a_bom_imports_back(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    post_all(client, admin_headers, planted())
    params = {"format": "csv", "bom": "true"}
    reply = client.get("/v1/responses/export", headers=admin_headers, params=params)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    with_bom = reply.content
    assert with_bom.startswith(BOM)
    assert with_bom.count(BOM) == 1
    plain = client.get("/v1/responses/export", headers=admin_headers, params={"format": "csv"})
    assert plain.content == with_bom[len(BOM) :]
    assert "生鲜" in with_bom.decode("utf-8-sig")
    accept = {**admin_headers, "Accept": "text/csv"}
    reply = client.get("/v1/responses/export", headers=accept, params={"bom": "true"})
    assert reply.content == with_bom
    engine = create_db_engine(settings)
    try:
        # Decoded as plain UTF-8 the text still starts with U+FEFF; the importer drops it.
        text = with_bom.decode("utf-8")
        assert text.startswith("\ufeffid,")
        result = import_stream(engine, io.StringIO(text, newline=""), "csv")
        assert (result.rows, result.created, result.duplicates) == (12, 0, 12)
        # Read as utf-8-sig (the command line opens files so): no BOM left to drop.
        stream = io.TextIOWrapper(io.BytesIO(with_bom), encoding="utf-8-sig", newline="")
        result = import_stream(engine, stream, "csv")
        assert (result.rows, result.duplicates) == (12, 12)
    finally:
        engine.dispose()


def test_an_ndjson_file_with_a_bom_imports(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    post_all(client, admin_headers, planted())
    lines = client.get("/v1/responses/export", headers=admin_headers).text
    bodies = [json.loads(line) for line in lines.splitlines()]
    # Stored answers as POST bodies (the export adds server-set fields).
    keep = ("id", "respondent_id", "score", "comment", "context", "submitted_at")
    content = "\ufeff" + "".join(
        json.dumps({k: v for k, v in b.items() if k in keep}) + "\n" for b in bodies
    )
    engine = create_db_engine(settings)
    try:
        result = import_stream(engine, io.StringIO(content), "ndjson")
    finally:
        engine.dispose()
    assert result.rows == 12


def test_bom_is_refused_on_ndjson(client: TestClient, admin_headers: dict[str, str]) -> None:
    reply = client.get("/v1/responses/export", headers=admin_headers, params={"bom": "true"})
    body = assert_problem(reply, 422)
    assert [e["parameter"] for e in body["errors"]] == ["bom"]
    assert "NDJSON" in body["detail"]
    reply = client.get(
        "/v1/responses/export", headers=admin_headers, params={"bom": "false", "format": "csv"}
    )
    assert reply.status_code == 200
    assert not reply.content.startswith(BOM)
