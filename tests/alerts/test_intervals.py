"""The local-calendar windows of alerts: days and ISO weeks, DST-exact."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nps_service.alerts.intervals import latest_closed

BERLIN = ZoneInfo("Europe/Berlin")


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_a_day_ends_at_or_before_at() -> None:
    window = latest_closed("day", ZoneInfo("UTC"), utc(2026, 11, 11))
    assert (window.start, window.end) == (utc(2026, 11, 10), utc(2026, 11, 11))
    assert (window.baseline_start, window.baseline_end) == (utc(2026, 11, 9), utc(2026, 11, 10))
    just_before = latest_closed(
        "day", ZoneInfo("UTC"), datetime(2026, 11, 10, 23, 59, 59, tzinfo=UTC)
    )
    assert just_before.end == utc(2026, 11, 10)


def test_days_across_dst_changes_in_berlin() -> None:
    autumn = latest_closed("day", BERLIN, utc(2026, 10, 26, 8))
    assert autumn.start == utc(2026, 10, 24, 22)
    assert autumn.end == utc(2026, 10, 25, 23)
    assert (autumn.end - autumn.start).total_seconds() == 25 * 3600
    assert autumn.baseline_start == utc(2026, 10, 23, 22)
    spring = latest_closed("day", BERLIN, utc(2026, 3, 30, 8))
    assert (spring.end - spring.start).total_seconds() == 23 * 3600
    assert spring.end - spring.start < spring.baseline_end - spring.baseline_start


def test_weeks_start_on_monday_local() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    # Wednesday 2026-11-11: the last whole week is Monday 11-02 to Monday 11-09 local.
    window = latest_closed("week", shanghai, utc(2026, 11, 11, 3))
    assert window.start == utc(2026, 11, 1, 16)
    assert window.end == utc(2026, 11, 8, 16)
    assert window.baseline_start == utc(2026, 10, 25, 16)
    # Exactly at a Monday midnight, the week just ended is the latest closed.
    assert latest_closed("week", shanghai, utc(2026, 11, 8, 16)).end == utc(2026, 11, 8, 16)
    # A week across the autumn change in Berlin lasts 7 days and an hour.
    week = latest_closed("week", BERLIN, utc(2026, 10, 27))
    assert (week.end - week.start).total_seconds() == (7 * 24 + 1) * 3600
