"""Errors are RFC 9457 problem+json, never a stack trace (API.md, Conventions)."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response as HttpxResponse

from tests.helpers import answer, assert_problem

Headers = dict[str, str]
LIMIT = 256 * 1024  # max_body_bytes of the `settings` fixture


def assert_no_traceback(reply: HttpxResponse) -> None:
    text = reply.text
    for marker in (
        "Traceback",
        'File "',
        "site-packages",
        '.py", line',
        "sqlalchemy.exc",
        "psycopg",
        "sqlite3.",
    ):
        assert marker not in text, text


def stored_count(client: TestClient, headers: Headers) -> int:
    reply = client.get("/v1/responses", headers=headers, params={"limit": 1000})
    assert reply.status_code == 200, reply.text
    return len(reply.json()["items"])


def batch_body(size: int) -> bytes:
    """A valid batch request of exactly `size` bytes (JSON allows trailing whitespace)."""
    items = []
    body = b""
    while True:
        items.append(answer(9, comment="x" * 1500))
        candidate = json.dumps({"responses": items}).encode()
        if len(candidate) > size:
            break
        body = candidate
    assert body, "size too small for one answer"
    return body + b" " * (size - len(body))


def chunks(body: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


# --------------------------------------------------------------------------------------
# 404 and 405
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/v1"),
        ("GET", "/v1/nope"),
        ("POST", "/v1/nope"),
        ("GET", "/v2/responses"),
        ("GET", f"/v1/responses/{uuid.uuid4()}/extra"),
        ("GET", "/v1/scores/nope"),
    ],
)
def test_unknown_path_is_404(
    client: TestClient, admin_headers: Headers, method: str, path: str
) -> None:
    reply = client.request(method, path, headers=admin_headers)
    assert_problem(reply, 404)
    assert_no_traceback(reply)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/scores", {"GET"}),
        ("POST", "/v1/scores", {"GET"}),
        ("PUT", "/v1/responses", {"GET", "POST"}),
        ("PATCH", "/v1/responses", {"GET", "POST"}),
        ("DELETE", f"/v1/responses/{uuid.uuid4()}", {"GET"}),
        ("PUT", f"/v1/responses/{uuid.uuid4()}", {"GET"}),
        ("GET", "/v1/responses/batch", None),  # matched by /{id}: 422 or 405 are both fine
        ("POST", "/healthz", {"GET"}),
    ],
)
def test_wrong_method_is_405(
    client: TestClient, admin_headers: Headers, method: str, path: str, allowed: set[str] | None
) -> None:
    reply = client.request(
        method,
        path,
        headers=admin_headers,
        json={"x": 1} if method in ("PUT", "PATCH", "POST") else None,
    )
    assert_no_traceback(reply)
    if allowed is None:
        assert reply.status_code in (405, 422), reply.text
        assert_problem(reply, reply.status_code)
        return
    assert_problem(reply, 405)
    # RFC 9110 §15.5.6: a 405 response carries Allow listing the target resource's
    # supported methods: every one of them, not just one route's.
    allow = {m.strip() for m in reply.headers.get("allow", "").split(",") if m.strip()}
    assert allowed <= allow, f"Allow: {reply.headers.get('allow')}"
    assert method not in allow


# --------------------------------------------------------------------------------------
# Body size limit
# --------------------------------------------------------------------------------------


def test_body_at_the_limit_is_accepted(client: TestClient, admin_headers: Headers) -> None:
    body = batch_body(LIMIT)
    assert len(body) == LIMIT
    reply = client.post(
        "/v1/responses/batch",
        headers=admin_headers | {"Content-Type": "application/json"},
        content=body,
    )
    assert reply.status_code == 201, reply.text
    assert stored_count(client, admin_headers) == len(json.loads(body)["responses"])


def test_body_over_the_limit_with_content_length_is_413(
    client: TestClient, admin_headers: Headers
) -> None:
    body = batch_body(LIMIT + 1)
    reply = client.post(
        "/v1/responses/batch",
        headers=admin_headers | {"Content-Type": "application/json"},
        content=body,
    )
    assert reply.request.headers["content-length"] == str(LIMIT + 1)
    assert_problem(reply, 413)
    assert_no_traceback(reply)
    assert stored_count(client, admin_headers) == 0


def test_much_larger_body_is_413(client: TestClient, admin_headers: Headers) -> None:
    answers = [answer(9, comment="y" * 2000) for _ in range(400)]  # ≈ 0.9 MB
    reply = client.post("/v1/responses/batch", headers=admin_headers, json={"responses": answers})
    assert_problem(reply, 413)
    assert stored_count(client, admin_headers) == 0


def test_single_answer_over_the_limit_is_413(client: TestClient, admin_headers: Headers) -> None:
    body = answer(9, properties={f"k{i}": "z" * 256 for i in range(32)})
    body["respondent_id"] = "u_" + "q" * 100
    raw = json.dumps(body).encode() + b" " * LIMIT
    reply = client.post(
        "/v1/responses", headers=admin_headers | {"Content-Type": "application/json"}, content=raw
    )
    assert_problem(reply, 413)
    assert stored_count(client, admin_headers) == 0


def test_streamed_body_at_the_limit_is_accepted(client: TestClient, admin_headers: Headers) -> None:
    body = batch_body(LIMIT)
    reply = client.post(
        "/v1/responses/batch",
        headers=admin_headers | {"Content-Type": "application/json"},
        content=chunks(body),
    )
    assert "content-length" not in reply.request.headers
    assert reply.status_code == 201, reply.text
    assert stored_count(client, admin_headers) == len(json.loads(body)["responses"])


@pytest.mark.parametrize("chunk_size", [1024, 64 * 1024, LIMIT + 1])
def test_streamed_body_over_the_limit_is_413(
    client: TestClient, admin_headers: Headers, chunk_size: int
) -> None:
    body = batch_body(LIMIT + 1)
    reply = client.post(
        "/v1/responses/batch",
        headers=admin_headers | {"Content-Type": "application/json"},
        content=chunks(body, chunk_size),
    )
    assert "content-length" not in reply.request.headers
    assert reply.request.headers.get("transfer-encoding") == "chunked"
    assert_problem(reply, 413)
    assert_no_traceback(reply)
    assert stored_count(client, admin_headers) == 0


def test_streamed_single_answer_over_the_limit_is_413(
    client: TestClient, admin_headers: Headers
) -> None:
    raw = json.dumps(answer(9)).encode() + b" " * (2 * LIMIT)
    reply = client.post(
        "/v1/responses",
        headers=admin_headers | {"Content-Type": "application/json"},
        content=chunks(raw),
    )
    assert_problem(reply, 413)
    assert stored_count(client, admin_headers) == 0


@pytest.mark.parametrize("length", ["abc", "-1", "1e3"])
def test_bad_content_length_is_400(client: TestClient, admin_headers: Headers, length: str) -> None:
    reply = client.post(
        "/v1/responses",
        headers=admin_headers | {"Content-Type": "application/json", "Content-Length": length},
        content=json.dumps(answer(9)).encode(),
    )
    assert_problem(reply, 400)
    assert stored_count(client, admin_headers) == 0


# --------------------------------------------------------------------------------------
# Content types and malformed JSON
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"],
)
@pytest.mark.parametrize("path", ["/v1/responses", "/v1/responses/batch"])
def test_non_json_content_type_is_4xx(
    client: TestClient, admin_headers: Headers, content_type: str, path: str
) -> None:
    body: Any = answer(9) if path == "/v1/responses" else {"responses": [answer(9)]}
    reply = client.post(
        path,
        headers=admin_headers | {"Content-Type": content_type},
        content=json.dumps(body).encode(),
    )
    assert 400 <= reply.status_code < 500, reply.text
    assert_problem(reply, reply.status_code)
    assert_no_traceback(reply)
    assert stored_count(client, admin_headers) == 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"respondent_id": "u_1", "score": 9', id="truncated"),
        pytest.param(b"{,}", id="stray-comma"),
        pytest.param(b"{'respondent_id': 'u_1', 'score': 9}", id="single-quotes"),
        pytest.param(b'{"respondent_id": "u_1", "score": 9,}', id="trailing-comma"),
        pytest.param(b"nul", id="bare-word"),
        pytest.param(b'{"respondent_id": "u_1", "score": 9} {}', id="two-documents"),
        pytest.param(b'{"respondent_id": "u_1", "score": 09}', id="leading-zero"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/responses", "/v1/responses/batch"])
def test_malformed_json_is_400(
    client: TestClient, admin_headers: Headers, raw: bytes, path: str
) -> None:
    reply = client.post(
        path, headers=admin_headers | {"Content-Type": "application/json"}, content=raw
    )
    assert_problem(reply, 400)
    assert_no_traceback(reply)
    assert stored_count(client, admin_headers) == 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(b"[" * 100_000, id="deeply-nested"),
        pytest.param(b"", id="empty"),
        pytest.param(b"null", id="null"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'"text"', id="string"),
    ],
)
def test_unusable_json_body_is_4xx(client: TestClient, admin_headers: Headers, raw: bytes) -> None:
    reply = client.post(
        "/v1/responses", headers=admin_headers | {"Content-Type": "application/json"}, content=raw
    )
    assert 400 <= reply.status_code < 500, reply.text
    assert_problem(reply, reply.status_code)
    assert_no_traceback(reply)
    assert stored_count(client, admin_headers) == 0


def test_validation_error_names_the_field(client: TestClient, admin_headers: Headers) -> None:
    reply = client.post("/v1/responses", headers=admin_headers, json=answer(11, unknown_field=1))
    body = assert_problem(reply, 422)
    pointers = {e.get("pointer") for e in body["errors"]}
    assert "/score" in pointers
    assert "/unknown_field" in pointers
    assert all(e.get("detail") for e in body["errors"])
    assert_no_traceback(reply)


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "params", "content"),
    [
        pytest.param("GET", "/v1/scores", {"confidence": "nan"}, None, id="confidence-nan"),
        pytest.param("GET", "/v1/scores", {"confidence": "1e999"}, None, id="confidence-inf"),
        pytest.param("GET", "/v1/scores", {"min_n": "9" * 40}, None, id="min-n-huge"),
        pytest.param("GET", "/v1/scores", {"tz": "Asia"}, None, id="tz-directory"),
        pytest.param(
            "GET",
            "/v1/scores",
            {"from": "0001-01-01", "tz": "Asia/Tokyo"},
            None,
            id="from-year-1-east-of-utc",
        ),
        pytest.param(
            "GET",
            "/v1/scores",
            {"to": "9999-12-31", "tz": "America/Los_Angeles"},
            None,
            id="to-year-9999-west-of-utc",
        ),
        pytest.param("GET", "/v1/responses", {"cursor": "%%%"}, None, id="cursor-percent"),
        pytest.param("GET", "/v1/responses/" + "9" * 5000, None, None, id="long-id"),
        pytest.param(
            "POST",
            "/v1/responses",
            None,
            json.dumps(answer(9, submitted_at="9999-12-31T23:59:59-23:59")).encode(),
            id="submitted-at-overflow",
        ),
        pytest.param(
            "POST",
            "/v1/responses",
            None,
            b'{"respondent_id": "u_1", "score": 9, "weight": 1e309}',
            id="weight-inf",
        ),
        pytest.param(
            "POST",
            "/v1/responses",
            None,
            b'{"respondent_id": "u_1", "score": 9, "weight": NaN}',
            id="weight-nan",
        ),
        pytest.param(
            "POST",
            "/v1/responses",
            None,
            json.dumps(answer(9, respondent_id="nul\u0000byte")).encode(),
            id="nul-byte",
        ),
        pytest.param(
            "POST",
            "/v1/responses",
            None,
            b'{"respondent_id": "u_\\ud800", "score": 9}',
            id="lone-surrogate",
        ),
        pytest.param(
            "POST",
            "/v1/responses",
            None,
            b'{"respondent_id": "u_1", "score": 1' + b"0" * 5000 + b"}",
            id="huge-int",
        ),
    ],
)
def test_no_traceback_and_no_500_for_hostile_input(
    client: TestClient,
    admin_headers: Headers,
    method: str,
    path: str,
    params: dict[str, str] | None,
    content: bytes | None,
) -> None:
    reply = client.request(
        method, path, headers=admin_headers | JSON, params=params, content=content
    )
    assert_no_traceback(reply)
    assert reply.status_code < 500, reply.text
    if reply.status_code >= 400:  # some of these are acceptable input; errors are problems
        assert_problem(reply, reply.status_code)
