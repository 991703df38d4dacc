"""`displays` in every group of /v1/scores: counted independently from what was posted,
before and after folding, from rollup slots, the pending queue and raw displays alike."""

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.rollups.fold import fold_all
from tests.helpers import answer, post_all

START = datetime(2026, 10, 5, 0, 0, tzinfo=UTC)
ZONE = "Asia/Shanghai"


def _post(
    client: TestClient, headers: dict[str, str], path: str, body: Any = None
) -> dict[str, Any]:
    reply = client.post(path, headers=headers, json=body)
    assert reply.status_code in (200, 201), reply.text
    result: dict[str, Any] = reply.json()
    return result


def scenario(client: TestClient, headers: dict[str, str], seed: int) -> list[dict[str, Any]]:
    """Answers and displays over ten days in a few merchants and channels; each display
    then answered, declined or left. Returns the displays as they ended up."""
    rng = random.Random(seed)
    post_all(
        client,
        headers,
        [
            answer(
                rng.randint(0, 10),
                submitted_at=(START + timedelta(minutes=rng.randint(0, 10 * 1440))).isoformat(),
                context={
                    "merchant_id": rng.choice(["m1", "m2"]),
                    "channel": rng.choice(["live", "search"]),
                },
            )
            for _ in range(150)
        ],
    )
    displays = []
    for _ in range(90):
        who = f"u{rng.randint(0, 10**6)}"
        shown_at = START + timedelta(minutes=rng.randint(0, 10 * 1440), seconds=rng.randint(0, 59))
        context = {
            "merchant_id": rng.choice(["m1", "m2", "m3"]),
            "channel": rng.choice(["live", "search"]),
        }
        stored = _post(
            client,
            headers,
            "/v1/displays",
            {
                "id": str(uuid.uuid4()),
                "respondent_id": who,
                "context": context,
                "shown_at": shown_at.isoformat(),
            },
        )
        fate = rng.choice(["answered", "declined", "open"])
        record = {
            "shown_at": shown_at,
            **context,
            "answered": fate == "answered",
            "declined": fate == "declined",
        }
        if fate == "answered":
            body = answer(
                rng.randint(0, 10),
                respondent_id=who,
                display_id=stored["id"],
                context=context,
                submitted_at=(shown_at + timedelta(seconds=30)).isoformat(),
            )
            _post(client, headers, "/v1/responses", body)
        elif fate == "declined":
            _post(
                client,
                headers,
                f"/v1/displays/{stored['id']}/decline",
                {"declined_at": (shown_at + timedelta(seconds=5)).isoformat()},
            )
        displays.append(record)
    return displays


def expected_counts(
    displays: list[dict[str, Any]], key_of: Any, keep: Any = lambda d: True
) -> dict[tuple[Any, ...], dict[str, Any]]:
    shown: Counter[tuple[Any, ...]] = Counter()
    answered: Counter[tuple[Any, ...]] = Counter()
    declined: Counter[tuple[Any, ...]] = Counter()
    for item in displays:
        if not keep(item):
            continue
        key = key_of(item)
        shown[key] += 1
        answered[key] += item["answered"]
        declined[key] += item["declined"]
    return {
        key: {
            "shown": shown[key],
            "answered": answered[key],
            "declined": declined[key],
            "response_rate": answered[key] / shown[key],
        }
        for key in shown
    }


def check(client: TestClient, headers: dict[str, str], displays: list[dict[str, Any]]) -> None:
    zone = ZoneInfo(ZONE)
    local_day = lambda d: d["shown_at"].astimezone(zone).date().isoformat()  # noqa: E731
    window_start, window_end = (
        START + timedelta(days=2, hours=5, minutes=7),
        START + timedelta(days=8, hours=3),
    )
    in_window = lambda d: window_start <= d["shown_at"] < window_end  # noqa: E731
    cases = [
        ({}, lambda d: (), lambda d: True),
        ({"group_by": "merchant_id"}, lambda d: (d["merchant_id"],), lambda d: True),
        ({"interval": "day", "tz": ZONE}, lambda d: (local_day(d),), lambda d: True),
        (
            {"interval": "day", "tz": ZONE, "group_by": "channel", "merchant_id": "m1"},
            lambda d: (local_day(d), d["channel"]),
            lambda d: d["merchant_id"] == "m1",
        ),
        # Two tags at once: no rollup holds them, so raw displays are counted.
        (
            {"group_by": "merchant_id,channel"},
            lambda d: (d["merchant_id"], d["channel"]),
            lambda d: True,
        ),
        # A range that starts and ends off the quarter hours: raw edges and slots.
        (
            {"from": window_start.isoformat(), "to": window_end.isoformat(), "group_by": "channel"},
            lambda d: (d["channel"],),
            in_window,
        ),
    ]
    for params, key_of, keep in cases:
        reply = client.get("/v1/scores", headers=headers, params=params)
        assert reply.status_code == 200, reply.text
        expected = expected_counts(displays, key_of, keep)
        names = (["bucket"] if "interval" in params else []) + [
            n for n in params.get("group_by", "").split(",") if n
        ]
        groups = reply.json()["groups"]
        assert groups
        for group in groups:
            key = tuple(group["key"][name] for name in names)
            want = expected.get(
                key, {"shown": 0, "answered": 0, "declined": 0, "response_rate": None}
            )
            assert group["displays"] == want, (params, key)


def test_response_rates_match_independent_counts(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    displays = scenario(client, admin_headers, seed=5)
    check(client, admin_headers, displays)  # everything pending
    engine = create_db_engine(settings)
    fold_all(engine)
    check(client, admin_headers, displays)  # everything folded
    # Changes after the fold: a new display and a decline of it, pending again.
    late = START + timedelta(days=3, hours=1)
    stored = _post(
        client,
        admin_headers,
        "/v1/displays",
        {
            "respondent_id": "late",
            "context": {"merchant_id": "m1", "channel": "live"},
            "shown_at": late.isoformat(),
        },
    )
    _post(client, admin_headers, f"/v1/displays/{stored['id']}/decline")
    displays.append(
        {
            "shown_at": late,
            "merchant_id": "m1",
            "channel": "live",
            "answered": False,
            "declined": True,
        }
    )
    check(client, admin_headers, displays)
    fold_all(engine)
    engine.dispose()
    check(client, admin_headers, displays)


def test_property_filters_leave_displays_null(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_all(client, admin_headers, [answer(9, properties={"campaign": "d11"})])
    reply = client.get("/v1/scores", headers=admin_headers, params={"property.campaign": "d11"})
    (group,) = reply.json()["groups"]
    assert group["overall"]["n"] == 1
    assert group["displays"] is None


def test_nothing_shown_is_a_null_rate(client: TestClient, admin_headers: dict[str, str]) -> None:
    body = client.get("/v1/scores", headers=admin_headers).json()
    assert body["groups"][0]["displays"] == {
        "shown": 0,
        "answered": 0,
        "declined": 0,
        "response_rate": None,
    }
