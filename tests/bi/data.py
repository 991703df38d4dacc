"""Answers for the BI view tests and what the views must hold, computed here from the
posted answers alone (plain Python over the request bodies, none of the service's code)."""

import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

# The BI views exist on PostgreSQL only: tests using this run there alone (and are skipped,
# like every PostgreSQL test, without NPS_TEST_DATABASE_URL).
ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

CHINA = timezone(timedelta(hours=8))
FIELDS = ("merchant_id", "category", "channel", "region", "platform", "touchpoint")
METRICS = ("overall", "logistics", "product", "service", "app")
SEGMENTS = {
    "all": (),
    "platform": ("platform",),
    "touchpoint": ("touchpoint",),
    "channel": ("channel",),
    "category": ("category",),
    "region": ("region",),
    "merchant": ("merchant_id", "category"),
}
VIEWS = ("daily_scores_utc", "daily_scores_china", "merchants", "responses")
TAG_VALUES = {
    "merchant_id": ["m_1", "m_2", "m_3"],
    "category": ["beauty", "food"],
    "channel": ["live_stream", "search"],
    "region": ["CN-BJ", "CN-SH"],
    "platform": ["ios", "android"],
    "touchpoint": ["post_delivery", "support"],
}
# Either side of midnight in UTC and in China time (UTC+08:00), to the microsecond.
EDGES = [
    "2026-11-20T23:30:00+08:00",  # 15:30 UTC: the same day in both
    "2026-11-20T15:30:00Z",
    "2026-11-20T15:59:59.999999Z",  # the last instant of 20 November in China
    "2026-11-20T16:00:00Z",  # 21 November in China, still the 20th in UTC
    "2026-11-21T00:30:00+08:00",
    "2026-11-21T07:59:59.999999+08:00",  # the last instant of 20 November in UTC
    "2026-11-21T08:00:00+08:00",  # 21 November in both
    "2026-11-20T00:00:00Z",
    "2026-11-19T23:59:59.999999Z",
]
WINDOW = (datetime(2026, 11, 18, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC))


def random_answers(rng: random.Random, count: int, people: int) -> list[dict[str, Any]]:
    """Answers at the edges and anywhere in the window, every field varied, personal
    fields included (the views must not show them)."""
    start, end = WINDOW
    out = []
    for index in range(count):
        if index < len(EDGES):
            when = EDGES[index]
        else:
            offset = rng.randrange(int((end - start).total_seconds()) * 1000) / 1000
            zone = rng.choice([UTC, CHINA])
            when = (start + timedelta(seconds=offset)).astimezone(zone).isoformat()
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "respondent_id": f"person_{rng.randrange(people)}",
            "score": rng.randint(0, 10),
            "dimensions": {d: rng.randint(0, 10) for d in METRICS[1:] if rng.random() < 0.7},
            "context": {
                name: rng.choice(values)
                for name, values in TAG_VALUES.items()
                if rng.random() < 0.75
            }
            | {"order_id": f"o_private_{index}"},
            "comment": f"private comment {index}",
            "properties": {"email": f"private{index}@example.com"},
            "submitted_at": when,
        }
        if rng.random() < 0.6:
            body["weight"] = rng.choice([0.5, 1, 2.5, 3, 0.125])
        out.append(body)
    return out


def instant(body: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(body["submitted_at"].replace("Z", "+00:00"))


def rating(body: dict[str, Any], metric: str) -> int | None:
    if metric == "overall":
        value: int = body["score"]
        return value
    found: int | None = body.get("dimensions", {}).get(metric)
    return found


def klass(value: int) -> str:
    return "promoters" if value >= 9 else "passives" if value >= 7 else "detractors"


@dataclass
class Sums:
    """Class counts, weight sums and squared-weight sums of one group, per metric."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    weights: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, body: dict[str, Any]) -> None:
        weight = float(body.get("weight", 1))
        for metric in METRICS:
            value = rating(body, metric)
            if value is None:
                continue
            self.counts[f"{metric}_{klass(value)}"] += 1
            self.weights[f"{metric}_w_{klass(value)}"] += weight
            self.weights[f"{metric}_w_squares"] += weight * weight


def local_day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def expected_days(answers: list[dict[str, Any]], zone: tzinfo) -> dict[tuple[Any, ...], Sums]:
    """(segment, day, *tags) -> sums, tags None where absent or not in the segment."""
    groups: dict[tuple[Any, ...], Sums] = defaultdict(Sums)
    for body in answers:
        context = body.get("context", {})
        day = local_day(instant(body), zone)
        for segment, tags in SEGMENTS.items():
            key = tuple(context.get(f) if f in tags else None for f in FIELDS)
            groups[(segment, day, *key)].add(body)
    return groups


def expected_merchants(answers: list[dict[str, Any]]) -> dict[tuple[Any, ...], Sums]:
    groups: dict[tuple[Any, ...], Sums] = defaultdict(Sums)
    for body in answers:
        context = body.get("context", {})
        if context.get("merchant_id") is not None:
            groups[(context["merchant_id"], context.get("category"))].add(body)
    return groups


def rows_of(connection: Connection, view: str) -> list[dict[str, Any]]:
    result = connection.execute(text(f"SELECT * FROM nps_bi.{view}"))
    return [dict(row) for row in result.mappings()]


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def check_scores(row: dict[str, Any], sums: Sums) -> None:
    """Every score column of a view row against the expected sums."""
    for metric in METRICS:
        p, pa, d = (sums.counts[f"{metric}_{k}"] for k in ("promoters", "passives", "detractors"))
        wp, wpa, wd = (
            sums.weights[f"{metric}_w_{k}"] for k in ("promoters", "passives", "detractors")
        )
        squares = sums.weights[f"{metric}_w_squares"]
        n, w = p + pa + d, wp + wpa + wd
        where = f"{metric} of {row}"
        assert (row[f"{metric}_promoters"], row[f"{metric}_passives"]) == (p, pa), where
        assert (row[f"{metric}_detractors"], row[f"{metric}_n"]) == (d, n), where
        assert close(row[f"{metric}_w_promoters"], wp), where
        assert close(row[f"{metric}_w_passives"], wpa), where
        assert close(row[f"{metric}_w_detractors"], wd), where
        assert close(row[f"{metric}_w_squares"], squares), where
        assert close(row[f"{metric}_nps"], 100 * (p - d) / n if n else None), where
        assert close(row[f"{metric}_nps_weighted"], 100 * (wp - wd) / w if n else None), where
        assert close(row[f"{metric}_effective_n"], w * w / squares if n else None), where


def check_daily(connection: Connection, answers: list[dict[str, Any]]) -> None:
    """Both daily views hold exactly the expected groups, each with the expected sums."""
    for view, zone in (("daily_scores_utc", UTC), ("daily_scores_china", CHINA)):
        expected = expected_days(answers, zone)
        rows = {
            (row["segment"], row["day"], *(row[f] for f in FIELDS)): row
            for row in rows_of(connection, view)
        }
        assert set(rows) == set(expected), view
        for key, row in rows.items():
            check_scores(row, expected[key])
            day = key[1]
            assert row["day_start"] == datetime.combine(day, datetime.min.time(), zone)


def check_merchants(connection: Connection, answers: list[dict[str, Any]]) -> None:
    expected = expected_merchants(answers)
    rows = {(row["merchant_id"], row["category"]): row for row in rows_of(connection, "merchants")}
    assert set(rows) == set(expected)
    for key, row in rows.items():
        check_scores(row, expected[key])
        times = [
            instant(body)
            for body in answers
            if (body["context"].get("merchant_id"), body["context"].get("category")) == key
        ]
        assert (row["first_answer_at"], row["last_answer_at"]) == (min(times), max(times))
