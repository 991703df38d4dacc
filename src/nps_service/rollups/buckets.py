"""SQL expressions for local-calendar buckets (day, ISO week, month) in any IANA zone.

The zone's UTC offsets over the queried span come from Python's tz database and enter the
SQL as a CASE over transition instants, so SQLite (which has no zone data) and PostgreSQL
bucket identically: the local time is `submitted_at + offset(submitted_at)`, exact across
DST changes and for zones such as +05:30 or +05:45.
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, Integer, SQLColumnExpression, case, cast, func, literal
from sqlalchemy.sql.expression import ColumnElement as Expr

from nps_service.survey import Interval
from nps_service.timezones import local_midnight, utc_offset_segments


def offset_seconds_expr(
    column: SQLColumnExpression[datetime], tz: ZoneInfo, start: datetime, end: datetime
) -> ColumnElement[int]:
    """The zone's UTC offset in seconds at each row's `column` instant."""
    segments = utc_offset_segments(tz, start, end)
    if len(segments) == 1:
        return literal(segments[0][1], Integer)
    whens = [
        (column < boundary, literal(offset, Integer))
        for (_, offset), (boundary, _) in pairwise(segments)
    ]
    return case(*whens, else_=literal(segments[-1][1], Integer))


def bucket_expr(
    column: SQLColumnExpression[datetime],
    dialect: str,
    interval: Interval,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
) -> Expr[date]:
    """The local date on which the bucket of each row's `column` instant starts."""
    offset = offset_seconds_expr(column, tz, start, end)
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
        seconds = func.substr(column, 1, 19)
        return func.date(seconds, shift, *modifiers)
    local = func.timezone("UTC", column) + func.make_interval(0, 0, 0, 0, 0, 0, offset)
    return cast(func.date_trunc(interval.value, local), Date)


def as_date(value: date | str) -> date:
    """SQLite returns bucket dates as text, PostgreSQL as dates."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def bucket_starts(
    interval: Interval, tz: ZoneInfo, first: datetime, last: datetime
) -> list[datetime]:
    """UTC instants at which buckets after the one holding `first` start, up to `last`."""
    day = first.astimezone(tz).date()
    starts: list[datetime] = []
    while True:
        day = next_bucket_day(interval, day)
        instant = local_midnight(day, tz)
        if instant > last:
            return starts
        starts.append(instant)


def next_bucket_day(interval: Interval, day: date) -> date:
    """The first local day of the bucket after the one that holds `day`."""
    if interval is Interval.DAY:
        return day + timedelta(days=1)
    if interval is Interval.WEEK:
        return day + timedelta(days=7 - day.weekday())
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
