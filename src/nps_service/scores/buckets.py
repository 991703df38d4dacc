"""A bucket's first instant and whether the request's range covers all of it.

A bucket is named by the local date it starts on (`bucket`, in `tz`); BI tools that plot
time (Grafana) want an instant, so `bucket_start` is the bucket's first instant in UTC
(RFC 3339 with `Z`): local midnight, or the first real instant of a day whose midnight a
DST jump skips. A bucket is `partial` when the range `[from, to)` does not cover the whole
bucket `[start, next bucket's start)`: a week bucket when `from` is a Wednesday, the last
month when `to` cuts it. Only `from` and `to` as given count: without them the range is
unbounded on that side, so a bucket still in progress is partial only when `to` cuts it
(send `to=now`, as Grafana does, to have it marked).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from nps_service.filters import ResponseFilter
from nps_service.rollups.buckets import next_bucket_day
from nps_service.survey import Interval
from nps_service.timezones import local_midnight


@dataclass(frozen=True)
class BucketBounds:
    start: str  # RFC 3339, UTC, `Z`
    partial: bool


def rfc3339(instant: datetime) -> str:
    """`2026-11-19T16:00:00Z`: UTC, whole seconds (every zone's midnight falls on one)."""
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def bucket_bounds(bucket: str, interval: Interval, scope: ResponseFilter) -> BucketBounds:
    """The bounds of the bucket that starts on the local date `bucket`."""
    day = date.fromisoformat(bucket)
    start = local_midnight(day, scope.tz)
    try:
        end: datetime | None = local_midnight(next_bucket_day(interval, day), scope.tz)
    except (OverflowError, ValueError):  # the bucket of 9999-12: it ends after any `to`
        end = None
    partial = (scope.start is not None and start < scope.start) or (
        scope.end is not None and (end is None or end > scope.end)
    )
    return BucketBounds(rfc3339(start), partial)


def bounds_by_bucket(
    buckets: Iterable[str], interval: Interval, scope: ResponseFilter
) -> dict[str, BucketBounds]:
    """Each distinct bucket's bounds (buckets repeat once per group_by value)."""
    return {bucket: bucket_bounds(bucket, interval, scope) for bucket in set(buckets)}


def with_bucket_starts(
    keys: list[dict[str, Any]], interval: Interval, scope: ResponseFilter
) -> tuple[list[dict[str, Any]], list[bool]]:
    """Keys with `bucket_start` right after `bucket`, and each one's `partial` flag."""
    bounds = bounds_by_bucket((key["bucket"] for key in keys), interval, scope)
    out, partial = [], []
    for key in keys:
        found = bounds[key["bucket"]]
        out.append({"bucket": key["bucket"], "bucket_start": found.start, **key})
        partial.append(found.partial)
    return out, partial
