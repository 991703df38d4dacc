"""The windows an alert compares: whole local days or ISO weeks in the alert's zone.

An interval is half-open, [start, end), in UTC. A `day` runs from one local midnight to
the next and a `week` from Monday 00:00 local to the next Monday, so a day across a DST
change lasts 23 or 25 hours (Europe/Berlin, 2026-10-25: 25 h) and the baseline, the
interval just before, is the previous local day or week whatever its length in hours.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from nps_service.timezones import local_midnight

INTERVALS = ("day", "week")


@dataclass(frozen=True)
class Window:
    """An evaluated interval and its baseline, both UTC and half-open."""

    start: datetime
    end: datetime
    baseline_start: datetime

    @property
    def baseline_end(self) -> datetime:
        return self.start


def _step(interval: str) -> timedelta:
    if interval not in INTERVALS:
        raise ValueError(f"unknown interval {interval!r}")
    return timedelta(days=1 if interval == "day" else 7)


def _first_day(day: date, interval: str) -> date:
    """The first local day of the interval holding `day`."""
    return day if interval == "day" else day - timedelta(days=day.weekday())


def latest_closed(interval: str, tz: ZoneInfo, at: datetime) -> Window:
    """The latest interval whose end is at or before `at` (an aware datetime)."""
    step = _step(interval)
    end_day = _first_day(at.astimezone(tz).date(), interval)
    if local_midnight(end_day, tz) > at:  # only where a zone's midnight repeats
        end_day -= step
    start_day = end_day - step
    return Window(
        start=local_midnight(start_day, tz),
        end=local_midnight(end_day, tz),
        baseline_start=local_midnight(start_day - step, tz),
    )


def rfc3339(instant: datetime) -> str:
    """UTC, with a `Z`: how every time of an alert's data is written."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
