"""Time buckets (interval=day/week/month) in any IANA zone, across DST and odd offsets.

Expected buckets come from Python's zoneinfo in this module: the local date of each
instant, the Monday of its ISO week, or the first of its month.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, post_all

INTERVALS = ("day", "week", "month")
SECOND = timedelta(seconds=1)


def bucket_of(instant: datetime, tz: str, interval: str) -> str:
    local = instant.astimezone(ZoneInfo(tz)).date()
    if interval == "week":
        local = local - timedelta(days=local.weekday())
    elif interval == "month":
        local = local.replace(day=1)
    return local.isoformat()


def expected_buckets(instants: Iterable[datetime], tz: str, interval: str) -> list[tuple[str, int]]:
    return sorted(Counter(bucket_of(i, tz, interval) for i in instants).items())


def local_midnight(day: date, tz: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_bucket(day: date, interval: str) -> date:
    if interval == "day":
        return day + timedelta(days=1)
    if interval == "week":
        return day + timedelta(days=7)  # buckets start on Mondays
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def expected_partial(day: date, tz: str, interval: str, params: dict[str, str]) -> bool:
    """Whether [from, to) (dates here) misses part of the bucket starting on `day`."""
    start, end = local_midnight(day, tz), local_midnight(next_bucket(day, interval), tz)
    low = params.get("from")
    high = params.get("to")
    return bool(
        (low and start < local_midnight(date.fromisoformat(low), tz))
        or (high and end > local_midnight(date.fromisoformat(high), tz))
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def post_instants(
    client: TestClient, headers: dict[str, str], instants: list[datetime], **fields: Any
) -> None:
    post_all(
        client,
        headers,
        [
            answer(i % 11, submitted_at=instant.isoformat(), **fields)
            for i, instant in enumerate(instants)
        ],
    )


def bucket_groups(
    client: TestClient,
    headers: dict[str, str],
    tz: str,
    interval: str,
    extra: list[tuple[str, str]] | None = None,
) -> list[tuple[str, int]]:
    """[(bucket, n)] in the order the service returns, without empty buckets."""
    params = [("interval", interval), ("tz", tz), *(extra or [])]
    reply = client.get("/v1/scores", headers=headers, params=params)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["query"]["interval"] == interval
    assert body["query"]["tz"] == tz
    groups = []
    for group in body["groups"]:
        assert set(group["key"]) == {"bucket", "bucket_start"}, group["key"]
        day = date.fromisoformat(group["key"]["bucket"])  # a plain YYYY-MM-DD date
        assert len(group["key"]["bucket"]) == 10
        # The bucket's first instant, in UTC: local midnight (or the first real instant).
        assert group["key"]["bucket_start"] == rfc3339(local_midnight(day, tz))
        assert group["partial"] is expected_partial(day, tz, interval, dict(params)), day
        if group["overall"]["n"]:  # whether empty buckets are listed is not specified
            groups.append((group["key"]["bucket"], group["overall"]["n"]))
    return groups


def around(first: date, days: int, tz: str, step_minutes: int = 53) -> list[datetime]:
    """Every local midnight in the window with its neighbours, plus a grid of instants."""
    instants = []
    for offset in range(days + 1):
        midnight = local_midnight(first + timedelta(days=offset), tz)
        instants += [
            midnight - SECOND,
            midnight,
            midnight + SECOND,
            midnight - timedelta(minutes=20),
            midnight + timedelta(minutes=20),
        ]
    start = local_midnight(first, tz)
    end = local_midnight(first + timedelta(days=days), tz)
    cursor = start + timedelta(minutes=7)
    while cursor < end:
        instants.append(cursor)
        cursor += timedelta(minutes=step_minutes)
    return instants


def test_new_york_dst_examples(client: TestClient, admin_headers: dict[str, str]) -> None:
    instants = [
        utc(s)
        for s in (
            "2026-03-08T04:30:00Z",  # 23:30 EST on Mar 7
            "2026-03-08T05:30:00Z",  # 00:30 EST on Mar 8
            "2026-03-09T03:30:00Z",  # 23:30 EDT on Mar 8 (the day had 23 hours)
            "2026-03-09T04:30:00Z",  # 00:30 EDT on Mar 9
            "2026-11-01T03:30:00Z",  # 23:30 EDT on Oct 31
            "2026-11-01T04:30:00Z",  # 00:30 EDT on Nov 1
            "2026-11-02T04:30:00Z",  # 23:30 EST on Nov 1 (the day had 25 hours)
            "2026-11-02T05:30:00Z",  # 00:30 EST on Nov 2
        )
    ]
    post_instants(client, admin_headers, instants)
    tz = "America/New_York"
    by_hand = [
        ("2026-03-07", 1),
        ("2026-03-08", 2),
        ("2026-03-09", 1),
        ("2026-10-31", 1),
        ("2026-11-01", 2),
        ("2026-11-02", 1),
    ]
    assert expected_buckets(instants, tz, "day") == by_hand
    assert bucket_groups(client, admin_headers, tz, "day") == by_hand
    # Weeks: Mar 7 is a Saturday (week of Mar 2), Mar 8 a Sunday, Mar 9 a Monday.
    weeks = [("2026-03-02", 3), ("2026-03-09", 1), ("2026-10-26", 3), ("2026-11-02", 1)]
    assert expected_buckets(instants, tz, "week") == weeks
    assert bucket_groups(client, admin_headers, tz, "week") == weeks
    months = [("2026-03-01", 4), ("2026-10-01", 1), ("2026-11-01", 3)]
    assert expected_buckets(instants, tz, "month") == months
    assert bucket_groups(client, admin_headers, tz, "month") == months
    # The same answers in UTC.
    assert bucket_groups(client, admin_headers, "UTC", "day") == [
        ("2026-03-08", 2),
        ("2026-03-09", 2),
        ("2026-11-01", 2),
        ("2026-11-02", 2),
    ]


@pytest.mark.parametrize(
    ("tz", "first", "days"),
    [
        ("UTC", date(2026, 3, 6), 4),
        ("America/New_York", date(2026, 3, 6), 4),  # spring forward on 2026-03-08
        ("America/New_York", date(2026, 10, 30), 4),  # fall back on 2026-11-01
        ("Asia/Kolkata", date(2026, 5, 1), 3),  # +05:30
        ("Asia/Kathmandu", date(2026, 5, 1), 3),  # +05:45
        ("Australia/Lord_Howe", date(2026, 4, 3), 4),  # +11 -> +10:30 on 2026-04-05
        ("Australia/Lord_Howe", date(2026, 10, 2), 4),  # +10:30 -> +11 on 2026-10-04
        ("Pacific/Kiritimati", date(2026, 2, 26), 4),  # +14: Mar 1 begins on Feb 28 in UTC
        ("Pacific/Apia", date(2011, 12, 28), 4),  # Dec 30 2011 never happened in Samoa
        ("America/Santiago", date(2026, 9, 4), 4),  # no midnight on 2026-09-06
        ("America/Havana", date(2026, 10, 30), 4),  # midnight twice on 2026-11-01
    ],
)
def test_buckets_match_zoneinfo(
    client: TestClient, admin_headers: dict[str, str], tz: str, first: date, days: int
) -> None:
    instants = around(first, days, tz)
    post_instants(client, admin_headers, instants)
    for interval in INTERVALS:
        expected = expected_buckets(instants, tz, interval)
        assert bucket_groups(client, admin_headers, tz, interval) == expected, interval
    if tz != "UTC":  # the zone matters: UTC buckets differ
        assert expected_buckets(instants, "UTC", "day") != expected_buckets(instants, tz, "day")


def test_apia_skipped_day_has_no_bucket(client: TestClient, admin_headers: dict[str, str]) -> None:
    instants = [utc("2011-12-30T09:59:59Z"), utc("2011-12-30T10:00:00Z")]
    post_instants(client, admin_headers, instants)
    # 23:59:59 on Dec 29 at -10:00, then 00:00 on Dec 31 at +14:00.
    expected = [("2011-12-29", 1), ("2011-12-31", 1)]
    assert expected_buckets(instants, "Pacific/Apia", "day") == expected
    assert bucket_groups(client, admin_headers, "Pacific/Apia", "day") == expected


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata", "America/New_York"])
def test_instants_just_before_midnight(
    client: TestClient, admin_headers: dict[str, str], tz: str
) -> None:
    """Sub-millisecond timestamps just before a local midnight stay on their own day.

    The midnights end a Sunday, a month and a year, so week and month buckets are at stake.
    """
    instants = []
    for day in (date(2026, 6, 1), date(2026, 1, 1)):
        midnight = local_midnight(day, tz)
        instants += [midnight - timedelta(microseconds=us) for us in (1, 100, 400, 500, 900)]
        instants += [midnight - timedelta(milliseconds=1), midnight]
    post_instants(client, admin_headers, instants)
    for interval in INTERVALS:
        expected = expected_buckets(instants, tz, interval)
        assert len(expected) == (4 if interval != "week" else 3)
        assert bucket_groups(client, admin_headers, tz, interval) == expected, interval


def test_week_buckets_across_year_boundaries(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    instants = [
        utc(s)
        for s in (
            "2020-12-27T23:59:59Z",  # Sunday: week of Mon 2020-12-21
            "2020-12-31T12:00:00Z",  # Thursday: ISO week 53 of 2020, from Mon 2020-12-28
            "2021-01-03T23:59:59Z",  # Sunday, still that week
            "2021-01-04T00:00:00Z",  # Monday: week 1 of 2021
            "2024-12-30T00:00:00Z",  # Monday: ISO week 1 of 2025 starts in 2024
            "2025-01-01T08:00:00Z",
            "2025-12-28T12:00:00Z",  # Sunday: week of Mon 2025-12-22
            "2025-12-29T00:00:00Z",  # Monday
            "2025-12-31T23:59:59Z",
            "2026-01-01T00:00:00Z",  # Thursday, same ISO week as 2025-12-29
            "2026-01-04T23:59:59Z",  # Sunday, same week
            "2026-01-05T00:00:00Z",  # Monday: next week
        )
    ]
    post_instants(client, admin_headers, instants)
    by_hand = [
        ("2020-12-21", 1),
        ("2020-12-28", 2),
        ("2021-01-04", 1),
        ("2024-12-30", 2),
        ("2025-12-22", 1),
        ("2025-12-29", 4),
        ("2026-01-05", 1),
    ]
    assert expected_buckets(instants, "UTC", "week") == by_hand
    assert bucket_groups(client, admin_headers, "UTC", "week") == by_hand
    months = [
        ("2020-12-01", 2),
        ("2021-01-01", 2),
        ("2024-12-01", 1),
        ("2025-01-01", 1),
        ("2025-12-01", 3),
        ("2026-01-01", 3),
    ]
    assert expected_buckets(instants, "UTC", "month") == months
    assert bucket_groups(client, admin_headers, "UTC", "month") == months
    for tz in ("Pacific/Kiritimati", "America/New_York", "Asia/Kathmandu"):
        for interval in ("week", "month"):
            assert bucket_groups(client, admin_headers, tz, interval) == expected_buckets(
                instants, tz, interval
            ), (tz, interval)


@pytest.mark.parametrize(
    "tz", ["America/New_York", "Asia/Kathmandu", "Pacific/Kiritimati", "Australia/Lord_Howe"]
)
def test_month_buckets_over_a_year(
    client: TestClient, admin_headers: dict[str, str], tz: str
) -> None:
    """A year of month starts (both DST changes inside the span) and fixed UTC instants."""
    instants = []
    for year, month in [(2025, m) for m in range(11, 13)] + [(2026, m) for m in range(1, 12)]:
        start = local_midnight(date(year, month, 1), tz)
        instants += [start - SECOND, start, start + timedelta(minutes=30)]
        instants.append(datetime(year, month, 1, 4, 30, tzinfo=UTC))
        instants.append(datetime(year, month, 1, 13, 15, tzinfo=UTC))
    post_instants(client, admin_headers, instants)
    for interval in INTERVALS:
        assert bucket_groups(client, admin_headers, tz, interval) == expected_buckets(
            instants, tz, interval
        ), interval


def test_interval_with_date_range(client: TestClient, admin_headers: dict[str, str]) -> None:
    tz = "Asia/Kathmandu"
    instants = around(date(2026, 2, 27), 3, tz, step_minutes=97) + around(
        date(2026, 3, 30), 3, tz, step_minutes=97
    )
    post_instants(client, admin_headers, instants)
    low, high = local_midnight(date(2026, 3, 1), tz), local_midnight(date(2026, 4, 1), tz)
    inside = [i for i in instants if low <= i < high]
    assert 0 < len(inside) < len(instants)
    window = [("from", "2026-03-01"), ("to", "2026-04-01")]
    assert bucket_groups(client, admin_headers, tz, "month", window) == [
        ("2026-03-01", len(inside))
    ]
    for interval in ("day", "week"):
        assert bucket_groups(client, admin_headers, tz, interval, window) == expected_buckets(
            inside, tz, interval
        ), interval


@pytest.mark.parametrize("interval", INTERVALS)
def test_interval_with_group_by(
    client: TestClient, admin_headers: dict[str, str], interval: str
) -> None:
    tz = "America/New_York"
    instants = around(date(2026, 2, 27), 10, tz, step_minutes=131)
    merchants = ["m_1", "m_2", None]
    answers = []
    expected: Counter[tuple[str, str | None]] = Counter()
    promoters: Counter[tuple[str, str | None]] = Counter()
    for i, instant in enumerate(instants):
        merchant = merchants[i % 3]
        score = (i * 7) % 11
        fields: dict[str, Any] = {"submitted_at": instant.isoformat()}
        if merchant:
            fields["context"] = {"merchant_id": merchant, "channel": "web"}
        answers.append(answer(score, **fields))
        key = (bucket_of(instant, tz, interval), merchant)
        expected[key] += 1
        promoters[key] += score >= 9
    post_all(client, admin_headers, answers)
    reply = client.get(
        "/v1/scores",
        headers=admin_headers,
        params=[("interval", interval), ("tz", tz), ("group_by", "merchant_id")],
    )
    assert reply.status_code == 200, reply.text
    got = []
    for group in reply.json()["groups"]:
        assert set(group["key"]) == {"bucket", "bucket_start", "merchant_id"}, group["key"]
        day = date.fromisoformat(group["key"]["bucket"])
        assert group["key"]["bucket_start"] == rfc3339(local_midnight(day, tz))
        if group["overall"]["n"]:
            key = (group["key"]["bucket"], group["key"]["merchant_id"])
            got.append(key)
            assert group["overall"]["n"] == expected[key], key
            assert group["overall"]["promoters"] == promoters[key], key
    assert sorted(got, key=repr) == sorted(expected, key=repr)  # each group exactly once
    buckets = [bucket for bucket, _ in got]
    assert buckets == sorted(buckets)  # ordered by bucket first
    for bucket in set(buckets):
        named = [m for b, m in got if b == bucket and m is not None]
        assert named == sorted(named)
