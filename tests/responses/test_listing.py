"""GET /v1/responses (newest first, cursor pagination, filters) and GET /v1/responses/{id}."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, assert_problem, post_all

Headers = dict[str, str]
BASE = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def at(instant: datetime) -> str:
    return instant.isoformat()


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def list_page(client: TestClient, headers: Headers, **params: Any) -> dict[str, Any]:
    reply = client.get("/v1/responses", headers=headers, params=params)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    assert set(body) >= {"items", "next_cursor"}
    return body


def walk(
    client: TestClient, headers: Headers, limit: int, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """Follow next_cursor to the end; returns every item in order and the page count."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = dict(params, limit=limit)
        if cursor is not None:
            query["cursor"] = cursor
        body = list_page(client, headers, **query)
        pages += 1
        assert len(body["items"]) <= limit
        # No empty pages: a cursor is only handed out when more rows follow.
        assert body["items"], f"page {pages} is empty"
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
        assert len(body["items"]) == limit
        assert pages < 5000, "pagination does not terminate"


def ordering_key(item: dict[str, Any]) -> datetime:
    return parse(item["submitted_at"])


def tied_dataset() -> list[dict[str, Any]]:
    """20 answers: distinct times, ties of 2, 3 and 5, and microsecond neighbours."""
    times = [BASE - timedelta(hours=h) for h in range(8)]  # 8 distinct
    times += [BASE - timedelta(days=1)] * 2  # tie of 2
    times += [BASE - timedelta(days=2)] * 3  # tie of 3
    times += [BASE - timedelta(days=3)] * 5  # tie of 5
    times += [
        BASE - timedelta(days=4, microseconds=1),
        BASE - timedelta(days=4, microseconds=2),
    ]  # 1 µs apart
    return [answer(i % 11, submitted_at=at(t), respondent_id=f"u_{i}") for i, t in enumerate(times)]


@pytest.fixture
def seeded(client: TestClient, admin_headers: Headers) -> list[dict[str, Any]]:
    data = tied_dataset()
    post_all(client, admin_headers, data)
    return data


# --------------------------------------------------------------------------------------
# Order
# --------------------------------------------------------------------------------------


def test_newest_first_with_deterministic_ties(
    client: TestClient, admin_headers: Headers, seeded: list[dict[str, Any]]
) -> None:
    body = list_page(client, admin_headers, limit=1000)
    items = body["items"]
    assert body["next_cursor"] is None
    assert sorted(i["id"] for i in items) == sorted(a["id"] for a in seeded)
    # Non-increasing submitted_at, and the exact submitted_at values survive storage.
    stamps = [ordering_key(i) for i in items]
    assert stamps == sorted(stamps, reverse=True)
    expected = sorted((parse(a["submitted_at"]) for a in seeded), reverse=True)
    assert stamps == expected
    # The microsecond neighbours come in the right order.
    assert stamps[-2] - stamps[-1] == timedelta(microseconds=1)
    # Ties always come back in the same order.
    for _ in range(3):
        again = list_page(client, admin_headers, limit=1000)["items"]
        assert [i["id"] for i in again] == [i["id"] for i in items]


def test_default_limit_is_100(client: TestClient, admin_headers: Headers) -> None:
    post_all(
        client,
        admin_headers,
        [answer(7, submitted_at=at(BASE - timedelta(minutes=i))) for i in range(101)],
    )
    body = list_page(client, admin_headers)
    assert len(body["items"]) == 100
    assert body["next_cursor"] is not None
    rest = list_page(client, admin_headers, cursor=body["next_cursor"])
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None


# --------------------------------------------------------------------------------------
# Pagination
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 3, 4, 5, 20, 1000])
def test_cursor_walks_every_row_once(
    client: TestClient, admin_headers: Headers, seeded: list[dict[str, Any]], limit: int
) -> None:
    items, pages = walk(client, admin_headers, limit)
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == len(seeded)
    assert set(ids) == {a["id"] for a in seeded}
    assert pages == -(-len(seeded) // limit)  # ceil: no trailing empty page
    # Paging gives the same order as one big page.
    assert ids == [i["id"] for i in list_page(client, admin_headers, limit=1000)["items"]]


def test_limit_1000_over_more_than_1000_rows(client: TestClient, admin_headers: Headers) -> None:
    # 1003 answers, 400 of them sharing one instant: two pages of 1000 and 3.
    data = [answer(i % 11, submitted_at=at(BASE - timedelta(seconds=i % 603))) for i in range(1003)]
    post_all(client, admin_headers, data)
    items, pages = walk(client, admin_headers, 1000)
    assert pages == 2
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == 1003
    assert set(ids) == {a["id"] for a in data}
    stamps = [ordering_key(i) for i in items]
    assert stamps == sorted(stamps, reverse=True)


def test_empty_listing(client: TestClient, admin_headers: Headers) -> None:
    body = list_page(client, admin_headers)
    assert body["items"] == []
    assert body["next_cursor"] is None


def test_stable_under_concurrent_inserts(
    client: TestClient,
    admin_headers: Headers,
    ingest_headers: Headers,
    seeded: list[dict[str, Any]],
) -> None:
    initial = {a["id"] for a in seeded}
    seen: list[str] = []
    inserted: set[str] = set()
    cursor: str | None = None
    page_number = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = list_page(client, admin_headers, **params)
        seen.extend(i["id"] for i in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        page_number += 1
        assert page_number < 100, "pagination does not terminate"
        if page_number > 8:  # stop writing eventually, so that the walk can end
            continue
        last = parse(body["items"][-1]["submitted_at"])
        # Between pages, other clients store answers: newer than everything, exactly at
        # the cursor's instant (ties both sides of the cursor's id), and older than it.
        new = [
            answer(10),  # submitted_at defaults to now: newest of all
            answer(9, submitted_at=at(BASE + timedelta(minutes=page_number))),
            answer(5, submitted_at=at(last)),
            answer(6, submitted_at=at(last)),
            answer(7, submitted_at=at(last - timedelta(microseconds=1))),
            answer(8, submitted_at=at(last - timedelta(days=30))),
        ]
        # Force ids on both sides of the cursor row's id.
        new[2]["id"] = f"00000000-0000-4000-8000-{page_number:012d}"
        new[3]["id"] = f"ffffffff-ffff-4fff-bfff-{page_number:012d}"
        post_all(client, ingest_headers, new)
        inserted.update(a["id"] for a in new)
    assert page_number >= 7  # the 20 initial rows alone make 7 pages
    assert len(seen) == len(set(seen)), "a row was returned twice"
    assert initial <= set(seen), f"missed {initial - set(seen)}"
    assert set(seen) <= initial | inserted


# --------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------


@pytest.fixture
def tagged(client: TestClient, admin_headers: Headers) -> list[dict[str, Any]]:
    rows = [
        ("m_1", "beauty", BASE - timedelta(days=3)),
        ("m_1", "books", BASE - timedelta(days=2)),
        ("m_2", "beauty", BASE - timedelta(days=1)),
        ("m_2", "books", BASE),
        ("m_3", "food", BASE - timedelta(hours=1)),
        ("m_3", None, BASE - timedelta(hours=2)),
    ]
    data = []
    for merchant, category, when in rows:
        context = {"merchant_id": merchant} | ({"category": category} if category else {})
        data.append(answer(9, context=context, submitted_at=at(when)))
    post_all(client, admin_headers, data)
    return data


def ids_for(client: TestClient, headers: Headers, params: Any) -> list[str]:
    reply = client.get("/v1/responses", headers=headers, params=params)
    assert reply.status_code == 200, reply.text
    return [i["id"] for i in reply.json()["items"]]


def expect(data: list[dict[str, Any]], keep: Any) -> list[str]:
    """Ids of the answers that satisfy `keep`, newest first."""
    chosen = [a for a in data if keep(a)]
    chosen.sort(key=lambda a: (parse(a["submitted_at"]), a["id"]), reverse=True)
    return [a["id"] for a in chosen]


def ctx(a: dict[str, Any], name: str) -> str | None:
    value: str | None = a.get("context", {}).get(name)
    return value


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"merchant_id": "m_1"}, lambda a: ctx(a, "merchant_id") == "m_1"),
        ({"merchant_id": ["m_1", "m_3"]}, lambda a: ctx(a, "merchant_id") in ("m_1", "m_3")),
        ({"merchant_id": "m_1,m_3"}, lambda a: ctx(a, "merchant_id") in ("m_1", "m_3")),
        ({"category": "beauty"}, lambda a: ctx(a, "category") == "beauty"),
        ({"category": ["beauty", "food"]}, lambda a: ctx(a, "category") in ("beauty", "food")),
        (
            {"merchant_id": "m_2", "category": "books"},
            lambda a: ctx(a, "merchant_id") == "m_2" and ctx(a, "category") == "books",
        ),
        ({"merchant_id": "nobody"}, lambda a: False),
        # Half-open time range: `from` inclusive, `to` exclusive.
        (
            {"from": at(BASE - timedelta(days=2)), "to": at(BASE - timedelta(days=1))},
            lambda a: parse(a["submitted_at"]) == BASE - timedelta(days=2),
        ),
        (
            {"from": at(BASE - timedelta(hours=2))},
            lambda a: parse(a["submitted_at"]) >= BASE - timedelta(hours=2),
        ),
        (
            {"to": at(BASE - timedelta(days=1))},
            lambda a: parse(a["submitted_at"]) < BASE - timedelta(days=1),
        ),
        (
            {"from": "2026-11-19T10:00:00+08:00"},  # = 02:00 UTC
            lambda a: parse(a["submitted_at"]) >= datetime(2026, 11, 19, 2, tzinfo=UTC),
        ),
        (
            {"from": "2026-11-19T10:00:00Z", "category": "beauty"},
            lambda a: (
                parse(a["submitted_at"]) >= BASE - timedelta(days=1)
                and ctx(a, "category") == "beauty"
            ),
        ),
    ],
)
def test_filters(
    client: TestClient,
    admin_headers: Headers,
    tagged: list[dict[str, Any]],
    params: dict[str, Any],
    keep: Any,
) -> None:
    assert ids_for(client, admin_headers, params) == expect(tagged, keep)


def test_filters_apply_across_pages(
    client: TestClient, admin_headers: Headers, tagged: list[dict[str, Any]]
) -> None:
    items, _ = walk(client, admin_headers, 1, merchant_id=["m_1", "m_2"])
    assert [i["id"] for i in items] == expect(
        tagged, lambda a: ctx(a, "merchant_id") in ("m_1", "m_2")
    )


def test_dates_are_midnight_in_tz(client: TestClient, admin_headers: Headers) -> None:
    # Asia/Shanghai is UTC+8: the local day 2026-11-20 is [11-19T16:00Z, 11-20T16:00Z).
    times = {
        "before": datetime(2026, 11, 19, 15, 59, 59, tzinfo=UTC),
        "first": datetime(2026, 11, 19, 16, 0, tzinfo=UTC),
        "last": datetime(2026, 11, 20, 15, 59, 59, 999999, tzinfo=UTC),
        "after": datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
    }
    data = {name: answer(9, submitted_at=at(when)) for name, when in times.items()}
    post_all(client, admin_headers, list(data.values()))
    got = ids_for(
        client, admin_headers, {"from": "2026-11-20", "to": "2026-11-21", "tz": "Asia/Shanghai"}
    )
    assert got == [data["last"]["id"], data["first"]["id"]]
    # The same dates in UTC select [11-20T00:00Z, 11-21T00:00Z).
    got_utc = ids_for(client, admin_headers, {"from": "2026-11-20", "to": "2026-11-21"})
    assert got_utc == [data["after"]["id"], data["last"]["id"]]


def test_date_in_tz_with_skipped_midnight(client: TestClient, admin_headers: Headers) -> None:
    # America/Santiago skips 2026-09-06 00:00 (-04 → -03 at midnight): the day starts
    # at 01:00 -03 = 04:00 UTC.
    inside = answer(9, submitted_at="2026-09-06T04:00:00Z")
    outside = answer(9, submitted_at="2026-09-06T03:59:59Z")
    post_all(client, admin_headers, [inside, outside])
    got = ids_for(client, admin_headers, {"from": "2026-09-06", "tz": "America/Santiago"})
    assert got == [inside["id"]]


def test_unencoded_plus_in_offset(
    client: TestClient, admin_headers: Headers, tagged: list[dict[str, Any]]
) -> None:
    # A client that forgets to percent-encode '+' sends a space; it still means +08:00.
    # 16:30+08:00 = 08:30 UTC: keeps 09:00Z and 10:00Z, drops 08:00Z. (Read as UTC or
    # as local time in the default zone it would keep nothing.)
    reply = client.get("/v1/responses?from=2026-11-20T16:30:00+08:00", headers=admin_headers)
    assert "+08:00" in str(reply.request.url)  # really sent unencoded
    assert reply.status_code == 200, reply.text
    got = [i["id"] for i in reply.json()["items"]]
    assert got == expect(tagged, lambda a: parse(a["submitted_at"]) >= BASE - timedelta(hours=1))
    assert len(got) == 2


# --------------------------------------------------------------------------------------
# Bad parameters
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "abc", "1.5", ""])
def test_bad_limit_is_422(client: TestClient, admin_headers: Headers, limit: str) -> None:
    reply = client.get("/v1/responses", headers=admin_headers, params={"limit": limit})
    body = assert_problem(reply, 422)
    assert any(e.get("parameter") == "limit" for e in body["errors"])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("garbage", id="garbage"),
        pytest.param("!!!!", id="not-base64"),
        pytest.param("a", id="one-char"),
        pytest.param(_b64(b"not json"), id="not-json"),
        pytest.param(_b64(b"\xff\xfe\x00"), id="binary"),
        pytest.param(_b64(b"{}"), id="object"),
        pytest.param(_b64(b"5"), id="number"),
        pytest.param(_b64(b"[]"), id="empty-list"),
        pytest.param(_b64(b"[null, null]"), id="nulls"),
        pytest.param(_b64(b'["2026-11-20T10:00:00+00:00"]'), id="one-item"),
        pytest.param(_b64(b'["2026-11-20T10:00:00+00:00", "not-a-uuid"]'), id="bad-uuid"),
        pytest.param(_b64(b'["yesterday", "7f0c2a9e-8d4b-4a51-9a53-2f0e6a1d9b10"]'), id="bad-time"),
        pytest.param(
            _b64(b'["2026-11-20T10:00:00+00:00", "7f0c2a9e-8d4b-4a51-9a53-2f0e6a1d9b10", 1]'),
            id="three-items",
        ),
        # Well-formed, but the instant is outside the representable range once made UTC.
        pytest.param(
            _b64(b'["9999-12-31T23:59:59-23:59", "7f0c2a9e-8d4b-4a51-9a53-2f0e6a1d9b10"]'),
            id="overflow-high",
        ),
        pytest.param(
            _b64(b'["0001-01-01T00:00:00+23:59", "7f0c2a9e-8d4b-4a51-9a53-2f0e6a1d9b10"]'),
            id="overflow-low",
        ),
        # Nesting deeper than the JSON parser's recursion limit.
        pytest.param(_b64(b"[" * 5000 + b"]" * 5000), id="deeply-nested"),
    ],
)
def test_malformed_cursor_is_422(
    client: TestClient, admin_headers: Headers, seeded: list[dict[str, Any]], cursor: str
) -> None:
    reply = client.get("/v1/responses", headers=admin_headers, params={"cursor": cursor})
    body = assert_problem(reply, 422)
    assert any(e.get("parameter") == "cursor" for e in body.get("errors", []))
    assert "Traceback" not in reply.text


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        pytest.param({"from": "not a date"}, "from", id="from-garbage"),
        pytest.param({"to": "2026-02-30"}, "to", id="to-no-such-date"),
        pytest.param({"tz": "Mars/Olympus"}, "tz", id="tz-unknown"),
        pytest.param({"tz": "../../etc/passwd"}, "tz", id="tz-path"),
        pytest.param({"tz": "Asia"}, "tz", id="tz-directory"),
        pytest.param({"tz": "X" * 300}, "tz", id="tz-300-characters"),
        pytest.param({"from": "2026-11-20", "to": "2026-11-19"}, "to", id="to-before-from"),
        pytest.param({"merchant_id": "m" * 65}, "merchant_id", id="merchant-too-long"),
    ],
)
def test_bad_filters_are_422(
    client: TestClient, admin_headers: Headers, params: dict[str, Any], parameter: str
) -> None:
    reply = client.get("/v1/responses", headers=admin_headers, params=params)
    body = assert_problem(reply, 422)
    assert any(e.get("parameter") == parameter for e in body["errors"])


# --------------------------------------------------------------------------------------
# GET /v1/responses/{id}
# --------------------------------------------------------------------------------------


def test_get_one_round_trips(client: TestClient, admin_headers: Headers) -> None:
    body = answer(
        8,
        respondent_id="u_77",
        dimensions={"logistics": 3, "app": 10},
        context={"merchant_id": "m_42", "channel": "live_stream"},
        comment="late",
        weight=2.5,
        properties={"vip": True, "n": 3},
        submitted_at="2026-11-20T10:00:00+08:00",
    )
    assert client.post("/v1/responses", headers=admin_headers, json=body).status_code == 201
    reply = client.get(f"/v1/responses/{body['id']}", headers=admin_headers)
    assert reply.status_code == 200, reply.text
    got = reply.json()
    assert got["id"] == body["id"]
    assert got["score"] == 8
    assert got["respondent_id"] == "u_77"
    assert got["dimensions"] == {"logistics": 3, "product": None, "service": None, "app": 10}
    assert got["context"]["merchant_id"] == "m_42"
    assert got["context"]["channel"] == "live_stream"
    assert got["context"]["category"] is None
    assert got["comment"] == "late"
    assert got["weight"] == 2.5
    assert got["properties"] == {"vip": True, "n": 3}
    assert parse(got["submitted_at"]) == datetime(2026, 11, 20, 2, tzinfo=UTC)
    assert parse(got["received_at"]).tzinfo is not None
    # The listing shows the same document.
    (listed,) = list_page(client, admin_headers)["items"]
    assert listed == got


def test_get_unknown_id_is_404(
    client: TestClient, admin_headers: Headers, seeded: list[dict[str, Any]]
) -> None:
    unknown = uuid.uuid4()
    reply = client.get(f"/v1/responses/{unknown}", headers=admin_headers)
    assert_problem(reply, 404)


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-uuid",
        "123",
        "7f0c2a9e-8d4b-4a51-9a53-2f0e6a1d9b1",
        "7f0c2a9e-8d4b-4a51-9a53-2f0e6a1d9b10x",
    ],
)
def test_get_non_uuid_is_422(client: TestClient, admin_headers: Headers, bad: str) -> None:
    reply = client.get(f"/v1/responses/{bad}", headers=admin_headers)
    body = assert_problem(reply, 422)
    assert body["errors"]


def test_cursor_is_opaque_json_safe(
    client: TestClient, admin_headers: Headers, seeded: list[dict[str, Any]]
) -> None:
    cursor = list_page(client, admin_headers, limit=1)["next_cursor"]
    assert isinstance(cursor, str)
    assert cursor
    # Survives a JSON round trip and URL use untouched.
    assert json.loads(json.dumps(cursor)) == cursor
    assert all(c.isalnum() or c in "-_.~=" for c in cursor)
