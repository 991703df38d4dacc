"""Time zones and the local-calendar arithmetic that score buckets need."""

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A '+' in a query string arrives as a space when the client did not percent-encode it.
_UNENCODED_PLUS = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$")


def parse_time_zone(name: str) -> ZoneInfo:
    """An IANA zone by name; raises ValueError for unknown or malformed names."""
    if not _ZONE_NAME.match(name) or ".." in name:
        raise ValueError(f"unknown time zone {name[:80]!r}; use an IANA name such as Asia/Shanghai")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a zone folder
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai"
        ) from exc


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local calendar day, as UTC.

    When midnight does not exist (a DST gap at 00:00), fold=0 maps it to the offset before
    the gap, which is exactly the instant the gap ends: the day's first real instant.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_time_bound(raw: str, tz: ZoneInfo) -> datetime:
    """Parse `from`/`to`: an RFC 3339 datetime, or a date meaning midnight in `tz`.

    A datetime without an offset is read as local time in `tz` (BI tools often send those).
    """
    text = raw.strip().upper()  # RFC 3339 allows a lowercase "t" and "z"
    if _DATE_ONLY.match(text):
        return local_midnight(date.fromisoformat(text), tz)
    text = _UNENCODED_PLUS.sub(r"\1+\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{raw!r} is neither an RFC 3339 datetime nor a YYYY-MM-DD date") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


@lru_cache(maxsize=256)
def utc_offset_segments(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offset over [start, end] as (segment start, offset seconds) pairs.

    The first pair starts at `start`; each later pair starts at a transition. Found by
    stepping in 6-hour strides and bisecting to the second, which is exact for every real
    zone (no zone changes its offset twice within six hours). Cached: queries ask for the
    same spans in whole days again and again (5 ms for 90 days). Do not change the list.
    """

    def offset_at(instant: datetime) -> int:
        delta = instant.astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    segments = [(start, offset_at(start))]
    stride = timedelta(hours=6)
    cursor = start
    while cursor < end:
        step_end = min(cursor + stride, end)
        if offset_at(step_end) != segments[-1][1]:
            low, high = cursor, step_end
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset_at(middle) == segments[-1][1]:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)
            segments.append((high, offset_at(high)))
        cursor = step_end
    return segments
