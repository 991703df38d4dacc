"""Cut a query's time range into pieces that rollup slots (or raw rows) can answer exactly.

Each bucket of the query is covered greedily: whole days where the bucket holds whole
UTC days, whole hours at its edges, quarter-hours at the very edges, and raw rows only
for what is left (a range bound that is not on a quarter-hour). Adjacent pieces of one
level merge, so a day-by-day series in a whole-hour zone is one range of hour slots.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import pairwise

from nps_service.rollups.grains import Grain, Level

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Past this many pieces a query plan would be an unwieldy OR: plan by one level instead.
MAX_PIECES = 64


@dataclass(frozen=True)
class Piece:
    """[start, end) answered from `level` slots, or from raw rows when level is None.

    None bounds are open (the range is unbounded on that side).
    """

    level: Level | None
    start: datetime | None
    end: datetime | None


def floor_to(instant: datetime, level: Level) -> datetime:
    """The start of the `level` slot holding `instant`."""
    origin = _EPOCH - level.offset
    return origin + ((instant - origin) // level.unit) * level.unit


def ceil_to(instant: datetime, level: Level) -> datetime:
    floored = floor_to(instant, level)
    return floored if floored == instant else floored + level.unit


def _cost(pieces: list[Piece]) -> float:
    """Roughly how many rows a cover reads: slots per piece, raw pieces much dearer."""
    total = 0.0
    for piece in pieces:
        if piece.start is None or piece.end is None:
            continue  # the open middle of an unbounded range: the same for every cover
        if piece.level is None:
            total += 10_000
        else:
            total += (piece.end - piece.start) / piece.level.unit
    return total


def _best_cover(
    start: datetime | None, end: datetime | None, levels: tuple[Level, ...]
) -> list[Piece]:
    """The cheapest cover by one family of levels (UTC, or UTC+08:00), longest slots first.

    Mixing families does not help: after UTC days, what is left of a China-time bound
    (16:00 to midnight UTC) holds no whole China day.
    """
    sub_day = tuple(level for level in levels if level.family is None)
    families = {level.family for level in levels if level.family is not None}
    candidates = [
        _cover(
            start,
            end,
            (
                *sorted(
                    (level for level in levels if level.family == family),
                    key=lambda level: level.unit,
                    reverse=True,
                ),
                *sub_day,
            ),
        )
        for family in sorted(families)
    ] or [_cover(start, end, sub_day)]
    return min(candidates, key=_cost)


def _cover(start: datetime | None, end: datetime | None, levels: tuple[Level, ...]) -> list[Piece]:
    if start is not None and end is not None and start >= end:
        return []
    if not levels:
        return [Piece(None, start, end)]
    level, finer = levels[0], levels[1:]
    inner_start = None if start is None else ceil_to(start, level)
    inner_end = None if end is None else floor_to(end, level)
    if inner_start is not None and inner_end is not None and inner_start >= inner_end:
        return _cover(start, end, finer)
    head = [] if start is None else _cover(start, inner_start, finer)
    tail = [] if end is None else _cover(inner_end, end, finer)
    return [*head, Piece(level, inner_start, inner_end), *tail]


def _merged(pieces: list[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if last is not None and last.level == piece.level and last.end == piece.start:
            merged[-1] = Piece(piece.level, last.start, piece.end)
        else:
            merged.append(piece)
    return merged


def plan(
    grain: Grain, start: datetime | None, end: datetime | None, boundaries: Sequence[datetime]
) -> tuple[Piece, ...]:
    """Pieces covering [start, end) such that none crosses a bucket boundary.

    Cached: dashboards ask for the same ranges again and again (6 ms for a 90-day series).
    """
    return _plan(grain, start, end, tuple(boundaries))


@lru_cache(maxsize=512)
def _plan(
    grain: Grain, start: datetime | None, end: datetime | None, boundaries: tuple[datetime, ...]
) -> tuple[Piece, ...]:
    # Only boundaries inside the range cut it (the data span can reach past either end).
    inside = [b for b in boundaries if (start is None or b > start) and (end is None or b < end)]
    edges = [start, *inside, end]
    pieces = _merged(
        [piece for low, high in pairwise(edges) for piece in _best_cover(low, high, grain.levels)]
    )
    if len(pieces) <= MAX_PIECES:
        return tuple(pieces)
    # Too fragmented (e.g. day buckets in a +05:30 zone for years): use the coarsest level
    # on which every boundary falls for the whole range, finer levels only at its two ends.
    aligned = tuple(level for level in grain.levels if all(floor_to(b, level) == b for b in inside))
    return tuple(_merged(_best_cover(start, end, aligned)))
