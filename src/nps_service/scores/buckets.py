"""SQL expressions for local-calendar buckets (day, ISO week, month) in any IANA zone.

The zone's UTC offsets over the queried span come from Python's tz database and enter the
SQL as a CASE over transition instants, so SQLite (which has no zone data) and PostgreSQL
bucket identically: the local time is `submitted_at + offset(submitted_at)`, exact across
DST changes and for zones such as +05:30 or +05:45.
"""

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, Integer, case, cast, func, literal
from sqlalchemy.sql.expression import ColumnElement as Expr

from nps_service.responses.models import Response
from nps_service.timezones import utc_offset_segments


class Interval(StrEnum):
    """Bucket sizes: `week` is ISO (Monday start)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def offset_seconds_expr(tz: ZoneInfo, start: datetime, end: datetime) -> ColumnElement[int]:
    """The zone's UTC offset in seconds at each row's submitted_at."""
    segments = utc_offset_segments(tz, start, end)
    if len(segments) == 1:
        return literal(segments[0][1], Integer)
    whens = [
        (Response.submitted_at < boundary, literal(offset, Integer))
        for (_, offset), (boundary, _) in pairwise(segments)
    ]
    return case(*whens, else_=literal(segments[-1][1], Integer))


def bucket_expr(
    dialect: str, interval: Interval, tz: ZoneInfo, start: datetime, end: datetime
) -> Expr[date]:
    """The local date each row's bucket starts on."""
    offset = offset_seconds_expr(tz, start, end)
    if dialect == "sqlite":
        # date('2026-03-29 01:30:00', '+7200 seconds') is the local calendar day.
        shift = func.printf("%+d seconds", offset)
        modifiers: Sequence[ColumnElement[str]] = {
            Interval.DAY: [],
            Interval.WEEK: [literal("weekday 0"), literal("-6 days")],
            Interval.MONTH: [literal("start of month")],
        }[interval]
        # Cut the stored text to whole seconds first: with a modifier, SQLite rounds to the
        # millisecond, which would carry 23:59:59.9995 into the next day.
        seconds = func.substr(Response.submitted_at, 1, 19)
        return func.date(seconds, shift, *modifiers)
    local = func.timezone("UTC", Response.submitted_at) + func.make_interval(
        0, 0, 0, 0, 0, 0, offset
    )
    return cast(func.date_trunc(interval.value, local), Date)


def as_date(value: date | str) -> date:
    """SQLite returns bucket dates as text, PostgreSQL as dates."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)
