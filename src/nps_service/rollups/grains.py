"""Which rollups exist: time levels (UTC-aligned slots) and segment field sets (grains)."""

from dataclasses import dataclass, field
from datetime import timedelta

from nps_service.survey import SEGMENT_FIELDS

# Rollup key columns in index order: merchant first so one merchant's rows are contiguous.
ROLLUP_FIELDS = ("merchant_id", "category", "channel", "region", "platform", "touchpoint")
assert set(ROLLUP_FIELDS) == set(SEGMENT_FIELDS)
# Stored in place of NULL so that the unique key (and ON CONFLICT) treats it as a value.
ABSENT = ""


@dataclass(frozen=True)
class Level:
    """A rollup slot length, and where its slots start.

    Every IANA offset is a multiple of 15 minutes, so a quarter-hour slot always falls
    inside one local day, whatever the zone; hours serve whole-hour zones; days serve UTC.
    `DAY_CST` days run from midnight to midnight at UTC+08:00, the zone of the platforms
    this service is built for, so day-by-day dashboards in China time read one slot a day.
    """

    id: int
    name: str
    unit: timedelta
    offset: timedelta = timedelta(0)  # slots start at multiples of `unit` in UTC + offset

    # Levels of one family nest (a week is whole days of the same zone); sub-day levels
    # (None) fit inside either family, as every offset they serve is a whole hour.
    family: timedelta | None = field(init=False, compare=False)

    def __post_init__(self) -> None:
        whole_days = self.unit >= timedelta(days=1)
        object.__setattr__(self, "family", self.offset % timedelta(days=1) if whole_days else None)


QUARTER = Level(0, "quarter", timedelta(minutes=15))
HOUR = Level(1, "hour", timedelta(hours=1))
DAY = Level(2, "day", timedelta(days=1))
DAY_CST = Level(3, "day+08:00", timedelta(days=1), timedelta(hours=8))
# Weeks from Monday 00:00 (2000-01-03 was a Monday; slots count from 2000-01-01).
WEEK = Level(4, "week", timedelta(days=7), -timedelta(days=2))
WEEK_CST = Level(5, "week+08:00", timedelta(days=7), -timedelta(days=2) + timedelta(hours=8))


@dataclass(frozen=True)
class Grain:
    """A set of segment fields kept in rollups, at some time levels."""

    id: int
    name: str
    fields: frozenset[str]
    levels: tuple[Level, ...]  # longest slots first
    size_rank: int  # smaller answers first when several grains can serve a query

    def serves(self, needed: set[str]) -> bool:
        return needed <= self.fields


FINE = (DAY, DAY_CST, HOUR, QUARTER)
HOURLY = (DAY, DAY_CST, HOUR)
DAILY = (DAY, DAY_CST)
WEEKLY = (WEEK, WEEK_CST, DAY, DAY_CST)
# Chosen for the dashboards people run: the global NPS (by day in any zone, quarter-hours
# for +05:30-style zones), one tag at a time by day in any whole-hour zone, and merchants
# within a category (scorecards and rankings over trailing windows: whole weeks, and days
# at the edges, so that ranking a category's merchants over 90 days reads about a quarter
# of the rows that days alone would need).
# Each (grain, level) costs folding work and rows in proportion to its distinct keys, so
# the 31 regions and the 5,000+ merchants keep days only: a query on them in another zone
# reads raw answers for the hours at the edges of its range (still exact, just slower).
GRAINS = (
    Grain(0, "global", frozenset(), FINE, 0),
    Grain(1, "platform", frozenset({"platform"}), HOURLY, 1),
    Grain(2, "touchpoint", frozenset({"touchpoint"}), HOURLY, 2),
    Grain(3, "channel", frozenset({"channel"}), HOURLY, 3),
    Grain(4, "category", frozenset({"category"}), HOURLY, 4),
    Grain(5, "region", frozenset({"region"}), DAILY, 5),
    Grain(6, "merchant", frozenset({"merchant_id", "category"}), WEEKLY, 6),
)

MERCHANT_GRAIN = GRAINS[6]
assert MERCHANT_GRAIN.fields == {"merchant_id", "category"}
LONGEST_SLOT = max(level.unit for grain in GRAINS for level in grain.levels)


def choose_grain(needed: set[str]) -> Grain | None:
    """The smallest grain holding every filtered and grouped field, if any."""
    candidates = [grain for grain in GRAINS if grain.serves(needed)]
    return min(candidates, key=lambda grain: grain.size_rank) if candidates else None
