"""Planted data of several groups, and small helpers, for the alerts' tests."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from nps_service.config import Settings
from nps_service.db import create_db_engine
from tests.helpers import answer, post_all

CURRENT, BASELINE = "2026-11-10T12:00:00Z", "2026-11-09T12:00:00Z"
AT = "2026-11-11T00:00:00Z"  # closes 2026-11-10 (UTC)
# region -> (baseline counts, current counts) as (promoters, passives, detractors).
PLANTED = {
    "north": ((60, 20, 20), (25, 20, 55)),  # a large drop: p ≈ 3e-9
    "south": ((40, 30, 30), (38, 30, 32)),  # a small change: p ≈ 0.74
    "up": ((20, 30, 50), (60, 20, 20)),  # a large rise: never a drop
    "west": ((50, 30, 20), (38, 30, 32)),  # p ≈ 0.038, but not after Holm
    "east": ((18, 2, 0), (2, 0, 18)),  # a huge drop on 20 answers: below min_n
}


def plant(client: TestClient, headers: dict[str, str]) -> None:
    answers = []
    for region, (then, now) in PLANTED.items():
        answers += ratings(then, BASELINE, region=region, channel="app")
        answers += ratings(now, CURRENT, region=region, channel="app")
    # Web answers that would hide the north drop: the alert's filter leaves them out.
    answers += ratings((200, 0, 0), CURRENT, region="north", channel="web")
    post_all(client, headers, answers)


def create(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": "drop", "metric": "overall", "interval": "day"} | fields
    body.setdefault("condition", {"type": "significant_drop"})
    reply = client.post("/v1/alerts", headers=headers, json=body)
    assert reply.status_code == 201, reply.text
    created: dict[str, Any] = reply.json()
    return created


DROP_ALERT = {"filters": {"channel": ["app"]}, "group_by": ["region"]}


def counted(settings: Settings, sql: str) -> int:
    """One number from the database."""
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        value = connection.execute(text(sql)).scalar_one()
    engine.dispose()
    return int(value)


def outbox_alerts(settings: Settings) -> int:
    return counted(settings, "SELECT count(*) FROM webhook_outbox WHERE kind = 'alert.triggered'")


def ratings(
    counts: tuple[int, int, int], when: str, metric: str = "overall", **context: str
) -> list[dict[str, Any]]:
    """Promoters (10), passives (8) and detractors (3) of one metric at `when`."""
    scores = [10] * counts[0] + [8] * counts[1] + [3] * counts[2]
    fields: dict[str, Any] = {"submitted_at": when, "context": context}
    if metric == "overall":
        return [answer(score, **fields) for score in scores]
    return [answer(9, dimensions={metric: score}, **fields) for score in scores]
