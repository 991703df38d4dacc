"""Precomputed draw tables: every random choice of the generator is one `getrandbits`
indexing a list whose entries repeat in proportion to their probability."""

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, TypeVar

from nps_service.demo.catalogue import (
    CHANNELS,
    DRIVER_WEIGHTS,
    FULL_SURVEY_SHARE,
    PLATFORMS,
    REGIONS,
    TOUCHPOINTS,
)
from nps_service.survey import DIMENSIONS

T = TypeVar("T")

_RATING_QUANTILES = 256  # entries per rating table: draws are getrandbits(8)
Q0 = 150  # latent qualities are tenths of a rating plus this offset, so indices stay >= 0
_DRIVER_SCALE = 20  # the weighted sum of ratings in twentieths indexes the score tables


def draw_table(items: Sequence[T], weights: Sequence[float], bits: int) -> list[T]:
    """2**bits entries, each item repeated in proportion to its weight (largest remainder)."""
    size = 1 << bits
    total = math.fsum(weights)
    exact = [w * size / total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(items)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: size - sum(counts)]:
        counts[i] += 1
    table: list[T] = []
    for item, n in zip(items, counts, strict=True):
        table.extend([item] * n)
    return table


def bits_for(n: int, spare: int, low: int, high: int) -> int:
    return min(high, max(low, math.ceil(math.log2(max(n, 2))) + spare))


def _rating_table(mean: float, sd: float) -> list[int]:
    """Ratings 0-10 around a latent mean: rounded normal plus a small angry tail (0-3)."""
    angry = 0.015 + 0.10 * max(0.0, (6.0 - mean) / 6.0)
    n_angry = round(_RATING_QUANTILES * angry)
    n_normal = _RATING_QUANTILES - n_angry
    dist = NormalDist(mean, sd)
    ratings = [min(3, 4 * i // max(n_angry, 1)) for i in range(n_angry)]
    for i in range(n_normal):
        value = dist.inv_cdf((i + 0.5) / n_normal)
        ratings.append(min(10, max(0, round(value))))
    return ratings


def _mask_table(asked: tuple[float, float, float, float]) -> list[int]:
    """Which dimensions a survey asks, as bit masks (1 logistics, 2 product, 4 service, 8 app)."""
    weights = []
    for mask in range(16):
        p = 1.0
        for bit, q in enumerate(asked):
            p *= q if mask >> bit & 1 else 1 - q
        weights.append((1 - FULL_SURVEY_SHARE) * p + (FULL_SURVEY_SHARE if mask == 15 else 0.0))
    return draw_table(list(range(16)), weights, 8)


def threshold(p: float) -> int:
    """`getrandbits(8) < threshold` is true with probability p."""
    return round(p * 256)


def properties_table(campaign: str | None) -> list[dict[str, Any] | None]:
    """Free-form properties: the running campaign on half the answers, VIPs, new users."""
    p_campaign = 0.55 if campaign else 0.0
    variants: list[dict[str, Any] | None] = []
    weights: list[float] = []
    for in_campaign in (False, True):
        for vip in (False, True):
            for new_user in (False, True):
                props: dict[str, Any] = {}
                if in_campaign:
                    props["campaign"] = campaign
                if vip:
                    props["vip"] = True
                if new_user:
                    props["new_user"] = True
                variants.append(props or None)
                weights.append(
                    (p_campaign if in_campaign else 1 - p_campaign)
                    * (0.07 if vip else 0.93)
                    * (0.04 if new_user else 0.96)
                )
    return draw_table(variants, weights, 10)


def clamp(value: int, low: int, high: int) -> int:
    return min(high, max(low, value))


def _context_table() -> list[tuple[Any, ...]]:
    """Joint (channel, platform, touchpoint) draws with their offsets and survey design."""
    items = []
    weights = []
    for channel, channel_share, product_offset in CHANNELS:
        for platform, platform_share, app_offset in PLATFORMS:
            for touchpoint, share, offsets, asked, p_order in TOUCHPOINTS:
                items.append(
                    (
                        channel,
                        platform,
                        touchpoint,
                        offsets[0],
                        offsets[1] + product_offset,
                        offsets[2],
                        offsets[3] + app_offset,
                        _mask_table(asked),
                        threshold(p_order),
                    )
                )
                weights.append(channel_share * platform_share * share)
    return draw_table(items, weights, 12)


def _score_tables() -> list[list[int]]:
    """Overall score given the weighted sum of the four ratings (in 1/_DRIVER_SCALE steps)."""
    return [
        _rating_table(0.9 + 0.95 * v / _DRIVER_SCALE, 1.0) for v in range(10 * _DRIVER_SCALE + 1)
    ]


def _driver_table(weight: float) -> list[int]:
    return [round(weight * rating * _DRIVER_SCALE) for rating in range(11)]


@dataclass(frozen=True)
class StaticTables:
    """Tables that do not depend on the configuration, built once per process."""

    contexts: list[tuple[Any, ...]]
    regions: list[tuple[str, int]]
    moods: list[int]
    ratings: list[list[int]]  # by latent quality in tenths + Q0
    scores: list[list[int]]  # by the weighted sum of the four ratings
    drivers: tuple[list[int], ...]  # per dimension: rating -> its part of that sum
    comment_thresholds: list[int]  # by score
    weights: list[float]
    minute_second: list[str]  # "MM:SS+00:00" by second of the hour


@functools.cache
def static_tables() -> StaticTables:
    weight_quantiles = NormalDist(0, 0.6)
    return StaticTables(
        contexts=_context_table(),
        regions=draw_table(
            [(name, clamp(offset, -30, 10)) for name, _, offset in REGIONS],
            [share for _, share, _ in REGIONS],
            12,
        ),
        moods=[
            clamp(round(NormalDist(0, 8).inv_cdf((i + 0.5) / 256)), -25, 25) for i in range(256)
        ],
        ratings=[_rating_table(clamp(i - Q0, 0, 100) / 10, 1.25) for i in range(2 * Q0 + 150)],
        scores=_score_tables(),
        drivers=tuple(_driver_table(DRIVER_WEIGHTS[d]) for d in DIMENSIONS),
        comment_thresholds=[
            threshold(0.16 if s <= 6 else 0.05 if s <= 8 else 0.04) for s in range(11)
        ],
        weights=[
            round(min(5.0, max(0.2, math.exp(weight_quantiles.inv_cdf((i + 0.5) / 1024)))), 2)
            for i in range(1024)
        ],
        minute_second=[f"{s // 60:02d}:{s % 60:02d}+00:00" for s in range(3600)],
    )


# Clear the version and variant bits of 128 random bits, then set version 4, variant 10.
