"""Which rollups exist: time levels (UTC-aligned slots) and segment field sets (grains)."""

from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum

from nps_service.responses.models import SEGMENT_FIELDS

# Rollup key columns in index order: merchant first so one merchant's rows are contiguous.
ROLLUP_FIELDS = ("merchant_id", "category", "channel", "region", "platform", "touchpoint")
assert set(ROLLUP_FIELDS) == set(SEGMENT_FIELDS)
# Stored in place of NULL so that the unique key (and ON CONFLICT) treats it as a value.
ABSENT = ""


class Level(IntEnum):
    """A rollup slot length. Every IANA offset is a multiple of 15 minutes, so a quarter-hour
    slot always falls inside one local day, whatever the zone."""

    QUARTER = 0
    HOUR = 1
    DAY = 2

    @property
    def unit(self) -> timedelta:
        return {0: timedelta(minutes=15), 1: timedelta(hours=1), 2: timedelta(days=1)}[self]


@dataclass(frozen=True)
class Grain:
    """A set of segment fields kept in rollups, at some time levels."""

    id: int
    name: str
    fields: frozenset[str]
    levels: tuple[Level, ...]  # coarse to fine
    size_rank: int  # smaller answers first when several grains can serve a query

    def serves(self, needed: set[str]) -> bool:
        return needed <= self.fields


ALL_LEVELS = (Level.DAY, Level.HOUR, Level.QUARTER)
# Chosen for the dashboards people run: the global NPS, one tag at a time (by day in any
# zone), and merchants within a category (scorecards and rankings over trailing windows,
# which need whole days only; one merchant has too few answers per hour to be worth it).
GRAINS = (
    Grain(0, "global", frozenset(), ALL_LEVELS, 0),
    Grain(1, "platform", frozenset({"platform"}), ALL_LEVELS, 1),
    Grain(2, "touchpoint", frozenset({"touchpoint"}), ALL_LEVELS, 2),
    Grain(3, "channel", frozenset({"channel"}), ALL_LEVELS, 3),
    Grain(4, "category", frozenset({"category"}), ALL_LEVELS, 4),
    Grain(5, "region", frozenset({"region"}), (Level.DAY, Level.HOUR), 5),
    Grain(6, "merchant", frozenset({"merchant_id", "category"}), (Level.DAY,), 6),
)


def choose_grain(needed: set[str]) -> Grain | None:
    """The smallest grain holding every filtered and grouped field, if any."""
    candidates = [grain for grain in GRAINS if grain.serves(needed)]
    return min(candidates, key=lambda grain: grain.size_rank) if candidates else None
