"""Unit tests of nps_service.timezones: time bounds, zone names and UTC-offset segments.

Expected instants are worked out by hand from the published DST rules; zoneinfo is used
only to check the test's own premises (that a date really is a DST-gap date).
"""

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from nps_service.timezones import parse_time_bound, parse_time_zone, utc_offset_segments

UTC_ZONE = ZoneInfo("UTC")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SANTIAGO = ZoneInfo("America/Santiago")
HAVANA = ZoneInfo("America/Havana")
KOLKATA = ZoneInfo("Asia/Kolkata")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


# --------------------------------------------------------------------------------------
# parse_time_bound: dates
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "tz", "expected"),
    [
        ("2026-11-20", UTC_ZONE, utc(2026, 11, 20)),
        # UTC+8, no DST: local midnight is 16:00 UTC the day before.
        ("2026-11-20", SHANGHAI, utc(2026, 11, 19, 16)),
        # New York in winter (EST, UTC−5) and summer (EDT, UTC−4).
        ("2026-01-15", NEW_YORK, utc(2026, 1, 15, 5)),
        ("2026-07-15", NEW_YORK, utc(2026, 7, 15, 4)),
        # Kolkata is UTC+5:30.
        ("2026-03-01", KOLKATA, utc(2026, 2, 28, 18, 30)),
        # Leap day.
        ("2028-02-29", UTC_ZONE, utc(2028, 2, 29)),
    ],
)
def test_date_is_local_midnight(raw: str, tz: ZoneInfo, expected: datetime) -> None:
    parsed = parse_time_bound(raw, tz)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def _first_instant_of(day: date, tz: ZoneInfo) -> datetime:
    """Brute force: step a minute at a time from well before, in UTC, to the day's start."""
    instant = datetime.combine(day, datetime.min.time(), tzinfo=UTC) - timedelta(hours=16)
    while local_date(instant, tz) < day:
        instant += timedelta(minutes=1)
    return instant


@pytest.mark.parametrize(
    ("day", "tz", "expected"),
    [
        # Chile starts DST on the first Sunday of September at 24:00: clocks jump from
        # 00:00 −04 to 01:00 −03, so 2026-09-06 starts at 01:00 −03 = 04:00 UTC.
        (date(2026, 9, 6), SANTIAGO, utc(2026, 9, 6, 4)),
        # Cuba starts DST on the second Sunday of March at 00:00: 00:00 −05 → 01:00 −04,
        # so 2026-03-08 starts at 01:00 −04 = 05:00 UTC.
        (date(2026, 3, 8), HAVANA, utc(2026, 3, 8, 5)),
    ],
)
def test_date_whose_midnight_is_skipped(day: date, tz: ZoneInfo, expected: datetime) -> None:
    # Premise: midnight really does not exist that day (it does not survive a round trip).
    naive_midnight = datetime.combine(day, datetime.min.time())
    round_trip = naive_midnight.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
    assert round_trip.replace(tzinfo=None) != naive_midnight
    parsed = parse_time_bound(day.isoformat(), tz)
    assert parsed == expected
    assert parsed == _first_instant_of(day, tz)
    # The bound is the day's first real instant: the second before is the previous day.
    assert local_date(parsed, tz) == day
    assert local_date(parsed - timedelta(seconds=1), tz) == day - timedelta(days=1)


def test_date_whose_midnight_happens_twice_uses_the_first() -> None:
    # Cuba ends DST on the first Sunday of November at 01:00 −04 → 00:00 −05, so
    # 2026-11-01 00:00 happens at 04:00 UTC and again at 05:00 UTC. The day starts at
    # the first.
    day = date(2026, 11, 1)
    assert utc(2026, 11, 1, 4).astimezone(HAVANA).replace(tzinfo=None) == datetime(2026, 11, 1)
    assert utc(2026, 11, 1, 5).astimezone(HAVANA).replace(tzinfo=None) == datetime(2026, 11, 1)
    parsed = parse_time_bound(day.isoformat(), HAVANA)
    assert parsed == utc(2026, 11, 1, 4)
    assert local_date(parsed - timedelta(seconds=1), HAVANA) == date(2026, 10, 31)


def test_date_after_a_repeated_hour_before_midnight() -> None:
    # Chile ends DST on the first Sunday of April at 24:00 −03 → 23:00 −04: the hour
    # 23:00-24:00 of 2026-04-04 happens twice, and 2026-04-05 starts once, at 04:00 UTC.
    parsed = parse_time_bound("2026-04-05", SANTIAGO)
    assert parsed == utc(2026, 4, 5, 4)
    assert parsed == _first_instant_of(date(2026, 4, 5), SANTIAGO)


# --------------------------------------------------------------------------------------
# parse_time_bound: datetimes
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-20T10:00:00Z", utc(2026, 11, 20, 10)),
        ("2026-11-20T10:00:00+00:00", utc(2026, 11, 20, 10)),
        ("2026-11-20T10:00:00+08:00", utc(2026, 11, 20, 2)),
        ("2026-11-20T10:00:00-05:30", utc(2026, 11, 20, 15, 30)),
        ("2026-11-20T10:00:00.250+08:00", utc(2026, 11, 20, 2, 0, 0, 250_000)),
        # Offsets cross the date line.
        ("2026-11-20T01:00:00+08:00", utc(2026, 11, 19, 17)),
        ("2026-12-31T23:30:00-01:00", utc(2027, 1, 1, 0, 30)),
    ],
)
def test_rfc3339_with_offset_ignores_tz(raw: str, expected: datetime) -> None:
    for tz in (UTC_ZONE, SHANGHAI, NEW_YORK):
        parsed = parse_time_bound(raw, tz)
        assert parsed == expected
        assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "raw", ["2026-11-20t10:00:00Z", "2026-11-20T10:00:00z", "2026-11-20t10:00:00z"]
)
def test_rfc3339_lowercase_t_and_z(raw: str) -> None:
    # RFC 3339 §5.6: "T" and "Z" may alternatively be lower case (ABNF is case-insensitive).
    assert parse_time_bound(raw, SHANGHAI) == utc(2026, 11, 20, 10)


@pytest.mark.parametrize(
    ("raw", "tz", "expected"),
    [
        ("2026-11-20T10:00:00", SHANGHAI, utc(2026, 11, 20, 2)),
        ("2026-11-20T10:00:00", UTC_ZONE, utc(2026, 11, 20, 10)),
        ("2026-07-01T12:00:00", NEW_YORK, utc(2026, 7, 1, 16)),  # EDT, UTC−4
        ("2026-12-01T12:00:00", NEW_YORK, utc(2026, 12, 1, 17)),  # EST, UTC−5
        ("2026-07-01T12:00:00", BERLIN, utc(2026, 7, 1, 10)),  # CEST, UTC+2
    ],
)
def test_naive_datetime_is_read_in_tz(raw: str, tz: ZoneInfo, expected: datetime) -> None:
    assert parse_time_bound(raw, tz) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # A '+' that was not percent-encoded arrives as a space.
        ("2026-11-20T10:00:00 08:00", utc(2026, 11, 20, 2)),
        ("2026-11-20T10:00 08:00", utc(2026, 11, 20, 2)),
        ("2026-11-20T10:00:00.5 05:30", utc(2026, 11, 20, 4, 30, 0, 500_000)),
    ],
)
def test_unencoded_plus_is_read_as_plus(raw: str, expected: datetime) -> None:
    assert parse_time_bound(raw, NEW_YORK) == expected


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_time_bound("  2026-11-20  ", SHANGHAI) == utc(2026, 11, 19, 16)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "yesterday",
        "2026-13-01",
        "2026-02-30",
        "2026-11-20T25:00:00Z",
        "2026-11-20T10:00:00+25:00",
        "2026-11-20T10:61:00Z",
        "20261120T100000Zgarbage",
        "2026-11-20T10:00:00Z trailing",
        "1763632800",
        "2026/11/20",
        "null",
    ],
)
def test_garbage_is_a_value_error(raw: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message wording is not the contract
        parse_time_bound(raw, UTC_ZONE)


# --------------------------------------------------------------------------------------
# parse_time_zone
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["UTC", "Asia/Shanghai", "America/Argentina/Buenos_Aires", "Europe/Berlin"]
)
def test_known_zone(name: str) -> None:
    zone = parse_time_zone(name)
    assert zone.key == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Mars/Olympus_Mons",
        "Europe/Berlinn",
        "europe/berlin",
        "UTC+8",
        " UTC",
        "UTC\x00",
        # Longer than any file name the operating system accepts.
        pytest.param("A" * 300, id="300-characters"),
        pytest.param("Europe/" + "x" * 5000, id="5007-characters"),
    ],
)
def test_unknown_zone_is_a_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        parse_time_zone(name)


@pytest.mark.parametrize(
    "name",
    [
        "Asia",  # a directory of the zone database, not a zone
        "America/Argentina",
    ],
)
def test_zone_directory_is_a_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        parse_time_zone(name)


@pytest.mark.parametrize(
    "name",
    [
        "/etc/passwd",
        "/usr/share/zoneinfo/UTC",
        "../../../../etc/passwd",
        "../UTC",
        "Europe/../Europe/Berlin",
        "./UTC",
        ".",
        "..",
        "Europe//Berlin",
        "Europe/Berlin/",
        "zone.tab",
        "tzdata.zi",
    ],
)
def test_path_like_zone_is_a_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        parse_time_zone(name)


# --------------------------------------------------------------------------------------
# utc_offset_segments
# --------------------------------------------------------------------------------------

YEAR_START, YEAR_END = utc(2026, 1, 1), utc(2027, 1, 1)


def test_new_york_2026_transitions() -> None:
    # US rules: DST from the second Sunday of March 02:00 EST (= 07:00 UTC) to the first
    # Sunday of November 02:00 EDT (= 06:00 UTC). In 2026: March 8 and November 1.
    assert date(2026, 3, 8).weekday() == 6
    assert date(2026, 11, 1).weekday() == 6
    segments = utc_offset_segments(NEW_YORK, YEAR_START, YEAR_END)
    assert segments == [
        (YEAR_START, -5 * 3600),
        (utc(2026, 3, 8, 7), -4 * 3600),
        (utc(2026, 11, 1, 6), -5 * 3600),
    ]


def test_berlin_2026_transitions() -> None:
    # EU rules: summer time from the last Sunday of March to the last Sunday of October,
    # switching at 01:00 UTC. In 2026: March 29 and October 25.
    assert date(2026, 3, 29).weekday() == 6
    assert (date(2026, 3, 29) + timedelta(days=7)).month == 4
    assert date(2026, 10, 25).weekday() == 6
    assert (date(2026, 10, 25) + timedelta(days=7)).month == 11
    segments = utc_offset_segments(BERLIN, YEAR_START, YEAR_END)
    assert segments == [
        (YEAR_START, 3600),
        (utc(2026, 3, 29, 1), 7200),
        (utc(2026, 10, 25, 1), 3600),
    ]


def test_transitions_are_exact_to_the_second() -> None:
    # Before each transition instant the old offset holds, at it the new one.
    for tz in (NEW_YORK, BERLIN):
        segments = utc_offset_segments(tz, YEAR_START, YEAR_END)
        for (_, before), (at, after) in pairwise(segments):
            assert at.microsecond == 0
            assert (at - timedelta(seconds=1)).astimezone(tz).utcoffset() == timedelta(
                seconds=before
            )
            assert at.astimezone(tz).utcoffset() == timedelta(seconds=after)


def test_kolkata_has_one_segment() -> None:
    assert utc_offset_segments(KOLKATA, YEAR_START, YEAR_END) == [(YEAR_START, 19800)]


def test_window_without_a_transition() -> None:
    start, end = utc(2026, 4, 1), utc(2026, 4, 30)
    assert utc_offset_segments(NEW_YORK, start, end) == [(start, -4 * 3600)]


def test_odd_start_and_boundaries_given_in_another_offset() -> None:
    # Start and end need not be UTC or whole hours; the transition is still found exactly.
    start = datetime(2026, 3, 7, 13, 17, 42, 123456, tzinfo=timezone(timedelta(hours=8)))
    end = datetime(2026, 3, 9, tzinfo=timezone(timedelta(hours=-3)))
    segments = utc_offset_segments(NEW_YORK, start, end)
    assert [(at.astimezone(UTC), offset) for at, offset in segments] == [
        (start.astimezone(UTC), -5 * 3600),
        (utc(2026, 3, 8, 7), -4 * 3600),
    ]


def test_half_hour_dst_shift() -> None:
    # Lord Howe Island: standard time UTC+10:30, summer time UTC+11 (a 30-minute shift).
    # Summer time ends on the first Sunday of April at 02:00 +11 (= 15:00 UTC Saturday)
    # and starts on the first Sunday of October at 02:00 +10:30 (= 15:30 UTC Saturday).
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    segments = utc_offset_segments(lord_howe, YEAR_START, YEAR_END)
    assert segments == [
        (YEAR_START, 11 * 3600),
        (utc(2026, 4, 4, 15), 10 * 3600 + 1800),
        (utc(2026, 10, 3, 15, 30), 11 * 3600),
    ]
