"""Realistic demo answers for a Douyin-style e-commerce platform, fast enough for 10M rows.

The model, in short: merchants (one category each, Zipf-like popularity) have a latent
quality per dimension; each answer draws a latent 0-10 experience per dimension around the
merchant's quality, shifted by season, channel, platform, touchpoint, region and a shared
per-answer mood, and the overall score is a noisy weighted sum of the four experiences
(product 0.35, logistics 0.30, service 0.20, app 0.15). Only the dimensions the survey asked
are reported; the rest are absent. Answers come out in submitted_at order.

Speed comes from precomputed tables: every random choice is one `getrandbits` indexing a
list whose entries repeat in proportion to their probability, and timestamps are an hour
prefix plus a precomputed "MM:SS+00:00" suffix.
"""

import csv
import functools
import json
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist
from typing import Any, TextIO, TypeVar

from nps_service.importer import CSV_COLUMNS as IMPORT_COLUMNS

T = TypeVar("T")

# The documented import layout: `nps-service import` reads what `write_csv` writes.
CSV_COLUMNS = IMPORT_COLUMNS

# Merchants "m_1" .. "m_<merchants>"; these are clearly bad at logistics whenever they exist
# (merchants >= their number). They sit at fixed popularity ranks (BAD_LOGISTICS_RANKS,
# 0 = most answers) so they always have enough answers to stand out in a ranking.
BAD_LOGISTICS_MERCHANTS = ("m_13", "m_42", "m_57", "m_88")
BAD_LOGISTICS_RANKS = (4, 11, 30, 75)

# name, share of merchants, quality offsets (tenths of a rating) for logistics, product, service
CATEGORIES: tuple[tuple[str, float, int, int, int], ...] = (
    ("apparel", 15.0, 0, -4, -2),
    ("beauty", 12.0, 1, 2, 0),
    ("food", 9.0, -3, 1, 0),
    ("fresh_produce", 4.0, -10, -3, -2),
    ("electronics", 7.0, 4, 3, -2),
    ("home", 8.0, -2, 0, 0),
    ("mother_baby", 5.0, 1, 2, 2),
    ("shoes_bags", 6.0, 0, -2, -1),
    ("appliances", 4.0, -4, 2, -1),
    ("digital_accessories", 4.0, 1, -3, -1),
    ("jewelry", 3.0, 2, -5, -3),
    ("sports_outdoor", 3.5, 0, 1, 0),
    ("toys", 3.0, 0, -1, 0),
    ("pets", 3.0, -1, 1, 1),
    ("furniture", 2.5, -8, -1, -3),
    ("health", 3.0, 1, 0, 1),
    ("books", 2.0, 3, 4, 1),
    ("alcohol_beverages", 2.0, -1, 1, 0),
    ("auto_parts", 1.5, -2, -1, -2),
    ("luxury", 1.5, 3, 1, 3),
    ("local_services", 1.0, 0, -2, -3),
)
# name, share of answers, product offset: live commerce over-promises, the mall under-promises
CHANNELS: tuple[tuple[str, float, int], ...] = (
    ("live_stream", 36.0, -5),
    ("short_video", 26.0, -3),
    ("search", 17.0, 2),
    ("mall", 13.0, 4),
    ("recommendation", 8.0, 0),
)
# name, share of answers, app offset
PLATFORMS: tuple[tuple[str, float, int], ...] = (
    ("android", 53.0, 0),
    ("ios", 29.0, 4),
    ("mini_program", 13.0, -6),
    ("web", 5.0, -9),
)
# name, share, offsets (logistics, product, service, app), P(asked) per dimension,
# P(order_id). People who contact customer service or after-sales mostly had a problem.
TOUCHPOINTS: tuple[
    tuple[str, float, tuple[int, int, int, int], tuple[float, float, float, float], float], ...
] = (
    ("post_delivery", 56.0, (0, 0, 0, 0), (0.90, 0.75, 0.12, 0.15), 0.95),
    ("in_app", 22.0, (0, 0, 0, 0), (0.25, 0.40, 0.20, 0.90), 0.10),
    ("customer_service", 13.0, (-3, -4, -6, 0), (0.20, 0.30, 0.95, 0.10), 0.60),
    ("after_sales", 9.0, (-5, -8, -10, 0), (0.45, 0.65, 0.90, 0.10), 0.85),
)
# Share of answers from a full survey that asks all four dimensions, whatever the touchpoint.
FULL_SURVEY_SHARE = 0.15
# ISO 3166-2:CN code, share of answers, logistics offset (remote provinces are slower)
REGIONS: tuple[tuple[str, float, int], ...] = (
    ("CN-GD", 11.0, 3),
    ("CN-JS", 8.0, 3),
    ("CN-ZJ", 8.0, 3),
    ("CN-SD", 7.0, 1),
    ("CN-HA", 6.0, 0),
    ("CN-SC", 6.0, -1),
    ("CN-HE", 5.0, 0),
    ("CN-HB", 4.5, 0),
    ("CN-HN", 4.5, 0),
    ("CN-AH", 4.5, 1),
    ("CN-FJ", 4.0, 2),
    ("CN-SH", 4.0, 4),
    ("CN-BJ", 3.5, 3),
    ("CN-LN", 3.0, -1),
    ("CN-SN", 3.0, -1),
    ("CN-JX", 3.0, 0),
    ("CN-GX", 3.0, -1),
    ("CN-CQ", 2.5, 0),
    ("CN-YN", 2.5, -3),
    ("CN-SX", 2.0, -1),
    ("CN-GZ", 2.0, -3),
    ("CN-HL", 2.0, -3),
    ("CN-TJ", 1.5, 2),
    ("CN-JL", 1.5, -2),
    ("CN-NM", 1.2, -6),
    ("CN-XJ", 1.2, -12),
    ("CN-GS", 1.2, -6),
    ("CN-HI", 0.8, -4),
    ("CN-NX", 0.4, -5),
    ("CN-QH", 0.3, -10),
    ("CN-XZ", 0.2, -15),
)
# Regression weights of the overall score on the four latent experiences (they sum to 1).
DRIVER_WEIGHTS = {"logistics": 0.30, "product": 0.35, "service": 0.20, "app": 0.15}

# Spring Festival (Chinese New Year) dates; outside this range 5 February is assumed.
SPRING_FESTIVAL = {
    2015: date(2015, 2, 19),
    2016: date(2016, 2, 8),
    2017: date(2017, 1, 28),
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}
CHINA_OFFSET = timedelta(hours=8)
# Relative answer volume by China local hour (evening peak) and weekday (Monday first).
HOURLY_VOLUME = (
    0.35, 0.20, 0.12, 0.08, 0.07, 0.10, 0.25, 0.50, 0.80, 1.00, 1.05, 1.10,
    1.25, 1.15, 1.00, 0.95, 0.95, 1.00, 1.10, 1.35, 1.60, 1.75, 1.55, 0.90,
)  # fmt: skip
WEEKDAY_VOLUME = (1.05, 1.00, 0.98, 0.97, 1.00, 1.10, 1.12)

COMPLAINTS: dict[str, tuple[str, ...]] = {
    "logistics": (
        "物流太慢了，等了一个星期",
        "快递三天才到，催了好几次",
        "包装破损，外箱都压扁了",
        "快递员没打电话直接放驿站",
        "发货太慢，说好48小时发货",
        "物流信息一直不更新",
        "Parcel arrived late and the box was crushed",
    ),
    "product": (
        "和直播间说的不一样，质量一般",
        "实物和图片差距很大",
        "尺码偏小，穿不上",
        "用了两天就坏了",
        "有异味，不像正品",
        "Not what the video showed",
    ),
    "service": (
        "客服一直不回复",
        "退款拖了很久才到账",
        "客服态度差，问题没解决",
        "售后推来推去",
        "Refund took two weeks",
    ),
    "app": (
        "App 老是闪退",
        "找不到订单入口，页面太乱",
        "支付的时候卡住了",
        "推送太多了",
        "The app keeps crashing at checkout",
    ),
}
PRAISE = (
    "很满意，下次还来",
    "物流很快，第二天就到了",
    "质量很好，和描述一致",
    "客服很耐心",
    "性价比高，推荐",
    "包装很用心",
    "Fast delivery, great quality",
    "好评！",
)

_RATING_QUANTILES = 256  # entries per rating table: draws are getrandbits(8)
_Q0 = 150  # latent qualities are tenths of a rating plus this offset, so indices stay >= 0
_DRIVER_SCALE = 20  # the weighted sum of ratings in twentieths indexes the score tables
_DIMENSIONS = ("logistics", "product", "service", "app")


def _this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class DemoConfig:
    """What to generate: answers fall in [end - days, end), in submitted_at order."""

    count: int
    seed: int = 42
    end: datetime = field(default_factory=_this_hour)
    days: int = 365
    merchants: int = 5000
    respondents: int = 900_000  # respondent ids u_100000 .. u_<100000 + respondents - 1>
    # Zipf-Mandelbrot popularity: answers per merchant ∝ 1 / (rank + 1 + offset)^exponent
    zipf_exponent: float = 1.1
    zipf_offset: float = 8.0

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("count must be >= 0")
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if self.merchants < 1 or self.respondents < 1:
            raise ValueError("merchants and respondents must be >= 1")
        if self.zipf_exponent < 0 or self.zipf_offset < 0:
            raise ValueError("zipf_exponent and zipf_offset must be >= 0")
        if self.end.tzinfo is None or self.end.utcoffset() is None:
            raise ValueError("end must include a UTC offset")
        object.__setattr__(self, "end", self.end.astimezone(UTC))
        if self.end - timedelta(days=self.days) < datetime(1970, 1, 1, tzinfo=UTC):
            raise ValueError("end - days must not be before 1970-01-01")

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def _table(items: Sequence[T], weights: Sequence[float], bits: int) -> list[T]:
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


def _bits_for(n: int, spare: int, low: int, high: int) -> int:
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
    return _table(list(range(16)), weights, 8)


def _threshold(p: float) -> int:
    """`getrandbits(8) < threshold` is true with probability p."""
    return round(p * 256)


def _bump(days_away: float, width: float) -> float:
    return math.exp(-0.5 * (days_away / width) ** 2)


def _days_to(local: datetime, month: int, day: int) -> float:
    """Signed days from the nearest (month, day) to a China-local time."""
    best = math.inf
    for year in (local.year - 1, local.year, local.year + 1):
        when = datetime(year, month, day, 12)
        delta = (local - when).total_seconds() / 86400
        best = delta if abs(delta) < abs(best) else best
    return best


def _days_to_spring_festival(local: datetime) -> float:
    best = math.inf
    for year in (local.year - 1, local.year, local.year + 1):
        festival = SPRING_FESTIVAL.get(year, date(year, 2, 5))
        when = datetime(festival.year, festival.month, festival.day, 12)
        delta = (local - when).total_seconds() / 86400
        best = delta if abs(delta) < abs(best) else best
    return best


def _properties_table(campaign: str | None) -> list[dict[str, Any] | None]:
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
    return _table(variants, weights, 10)


@dataclass
class _Hour:
    """One hour of the time grid: how many answers, where in the hour, how things were."""

    prefix: str  # "2026-11-20T10:"
    first_second: int
    seconds: int
    volume: float
    offsets: tuple[int, int, int, int]  # season and trend, tenths, per dimension
    properties: list[dict[str, Any] | None]


def _hours(config: DemoConfig, rng: random.Random) -> list[_Hour]:
    """The UTC hours covering [start, end), weighted by seasonal, weekly and daily volume."""
    start_us = _epoch_us(config.start)
    end_us = _epoch_us(config.end)
    first = -(-start_us // 1_000_000)  # whole seconds s with start <= s < end
    stop = -(-end_us // 1_000_000)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    day_noise: dict[date, float] = {}
    properties = {name: _properties_table(name) for name in (None, "double11", "618", "nianhuo")}
    hours = []
    for hour_start in range(first // 3600 * 3600, stop, 3600):
        lo = max(first, hour_start) - hour_start
        hi = min(stop, hour_start + 3600) - hour_start
        utc = epoch + timedelta(seconds=hour_start)
        local = (utc + CHINA_OFFSET).replace(tzinfo=None)
        if local.date() not in day_noise:
            day_noise[local.date()] = rng.lognormvariate(0.0, 0.08)
        double11 = _days_to(local, 11, 11)
        mid_year = _days_to(local, 6, 18)
        festival = _days_to_spring_festival(local)
        app_bug = _days_to(local, 8, 8)
        age_days = (end_us / 1e6 - hour_start) / 86400

        volume = (
            HOURLY_VOLUME[local.hour]
            * WEEKDAY_VOLUME[local.weekday()]
            * day_noise[local.date()]
            * (1 + 1.8 * _bump(double11 - 3, 4))
            * (1 + 0.8 * _bump(mid_year - 2, 3))
            * (1 - 0.5 * _bump(festival - 2, 6))
            * math.exp(-0.25 * age_days / 365)  # the platform grows
            * (hi - lo)
            / 3600
        )
        trend = max(-15.0, -6.0 * age_days / 365)  # slow improvement towards end
        logistics = (
            trend
            - 14 * _bump(double11 - 4, 5)
            - 7 * _bump(mid_year - 3, 4)
            - 16 * _bump(festival, 7)
        )
        product = trend - 2 * _bump(double11, 8)
        service = trend - 5 * _bump(double11 - 5, 6) - 5 * _bump(festival, 6)
        app = trend - 10 * _bump(app_bug, 3)  # an app release that broke checkout for a week
        if -20 <= double11 <= 9:
            campaign: str | None = "double11"
        elif -17 <= mid_year <= 5:
            campaign = "618"
        elif -25 <= festival <= -8:
            campaign = "nianhuo"
        else:
            campaign = None
        hours.append(
            _Hour(
                prefix=utc.strftime("%Y-%m-%dT%H:"),
                first_second=lo,
                seconds=hi - lo,
                volume=volume,
                offsets=(
                    _clamp(round(logistics), -40, 20),
                    _clamp(round(product), -40, 20),
                    _clamp(round(service), -40, 20),
                    _clamp(round(app), -40, 20),
                ),
                properties=properties[campaign],
            )
        )
    return hours


def _epoch_us(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _clamp(value: int, low: int, high: int) -> int:
    return min(high, max(low, value))


def _merchants(config: DemoConfig, rng: random.Random) -> tuple[list[tuple[Any, ...]], list[float]]:
    """Merchant tuples (id, category, logistics, product, service) in popularity order."""
    bad = {m for m in BAD_LOGISTICS_MERCHANTS if int(m[2:]) <= config.merchants}
    others = [f"m_{i}" for i in range(1, config.merchants + 1) if f"m_{i}" not in bad]
    rng.shuffle(others)
    by_rank = others
    for merchant_id, rank in zip(BAD_LOGISTICS_MERCHANTS, BAD_LOGISTICS_RANKS, strict=True):
        if merchant_id in bad:
            by_rank.insert(min(rank, len(by_rank)), merchant_id)
    category_of = rng.choices(CATEGORIES, weights=[c[1] for c in CATEGORIES], k=len(by_rank))
    merchants = []
    for rank, (merchant_id, category) in enumerate(zip(by_rank, category_of, strict=True)):
        shared = rng.gauss(0, 4) + 5 * math.exp(-rank / 200)  # big merchants are a bit better
        logistics = 84 + category[2] + shared + rng.gauss(0, 7)
        if merchant_id in bad:
            logistics = 36 + rng.gauss(0, 3)
        product = 84 + category[3] + shared + rng.gauss(0, 8)
        service = 83 + category[4] + shared + rng.gauss(0, 8)
        merchants.append(
            (
                merchant_id,
                category[0],
                _Q0 + _clamp(round(logistics), 0, 100),
                _Q0 + _clamp(round(product), 0, 100),
                _Q0 + _clamp(round(service), 0, 100),
            )
        )
    weights = [
        (rank + 1 + config.zipf_offset) ** -config.zipf_exponent for rank in range(len(merchants))
    ]
    return merchants, weights


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
                        _threshold(p_order),
                    )
                )
                weights.append(channel_share * platform_share * share)
    return _table(items, weights, 12)


def _score_tables() -> list[list[int]]:
    """Overall score given the weighted sum of the four ratings (in 1/_DRIVER_SCALE steps)."""
    return [
        _rating_table(0.9 + 0.95 * v / _DRIVER_SCALE, 1.0) for v in range(10 * _DRIVER_SCALE + 1)
    ]


def _driver_table(weight: float) -> list[int]:
    return [round(weight * rating * _DRIVER_SCALE) for rating in range(11)]


@dataclass(frozen=True)
class _Static:
    """Tables that do not depend on the configuration, built once per process."""

    contexts: list[tuple[Any, ...]]
    regions: list[tuple[str, int]]
    moods: list[int]
    ratings: list[list[int]]  # by latent quality in tenths + _Q0
    scores: list[list[int]]  # by the weighted sum of the four ratings
    drivers: tuple[list[int], ...]  # per dimension: rating -> its part of that sum
    comment_thresholds: list[int]  # by score
    weights: list[float]
    minute_second: list[str]  # "MM:SS+00:00" by second of the hour


@functools.cache
def _static() -> _Static:
    weight_quantiles = NormalDist(0, 0.6)
    return _Static(
        contexts=_context_table(),
        regions=_table(
            [(name, _clamp(offset, -30, 10)) for name, _, offset in REGIONS],
            [share for _, share, _ in REGIONS],
            12,
        ),
        moods=[
            _clamp(round(NormalDist(0, 8).inv_cdf((i + 0.5) / 256)), -25, 25) for i in range(256)
        ],
        ratings=[_rating_table(_clamp(i - _Q0, 0, 100) / 10, 1.25) for i in range(2 * _Q0 + 150)],
        scores=_score_tables(),
        drivers=tuple(_driver_table(DRIVER_WEIGHTS[d]) for d in _DIMENSIONS),
        comment_thresholds=[
            _threshold(0.16 if s <= 6 else 0.05 if s <= 8 else 0.04) for s in range(11)
        ],
        weights=[
            round(min(5.0, max(0.2, math.exp(weight_quantiles.inv_cdf((i + 0.5) / 1024)))), 2)
            for i in range(1024)
        ],
        minute_second=[f"{s // 60:02d}:{s % 60:02d}+00:00" for s in range(3600)],
    )


# Clear the version and variant bits of 128 random bits, then set version 4, variant 10.
_UUID_CLEAR = ((1 << 128) - 1) ^ (0xF000 << 64) ^ (0xC000 << 48)
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------


def generate(config: DemoConfig) -> Iterator[dict[str, Any]]:
    """Answers shaped exactly like the POST /v1/responses body, in submitted_at order.

    Ids are uuid4 strings drawn from the seeded RNG: the same config gives the same answers.
    """
    rng = random.Random(config.seed)
    rb = rng.getrandbits
    merchants, merchant_weights = _merchants(config, rng)
    merchant_bits = _bits_for(len(merchants), 7, 12, 22)
    merchant_table = _table(merchants, merchant_weights, merchant_bits)
    static = _static()
    context_table, region_table, mood_table = static.contexts, static.regions, static.moods
    ratings, scores = static.ratings, static.scores
    drive_l, drive_p, drive_s, drive_a = static.drivers
    comment_threshold, weight_table = static.comment_thresholds, static.weights
    minute_second = static.minute_second
    complaints = [COMPLAINTS[d] for d in _DIMENSIONS]
    app_quality = _Q0 + 84
    weight_threshold = _threshold(0.10)
    respondents = config.respondents
    hours = _hours(config, rng)

    total_volume = math.fsum(h.volume for h in hours)
    produced = 0
    cumulative = 0.0
    for hour in hours:
        cumulative += hour.volume
        upto = round(config.count * cumulative / total_volume) if total_volume else 0
        n, produced = upto - produced, upto
        if n <= 0:
            continue
        prefix = hour.prefix
        first, span = hour.first_second, hour.seconds
        off_l, off_p, off_s, off_a = hour.offsets
        app_base = app_quality + off_a
        props_table = hour.properties
        for second in sorted([first + rb(24) % span for _ in range(n)]):
            m = merchant_table[rb(merchant_bits)]
            k = context_table[rb(12)]
            g = region_table[rb(12)]
            mood = mood_table[rb(8)]
            el = ratings[m[2] + off_l + k[3] + g[1] + mood][rb(8)]
            ep = ratings[m[3] + off_p + k[4] + mood][rb(8)]
            es = ratings[m[4] + off_s + k[5] + mood][rb(8)]
            ea = ratings[app_base + k[6] + mood][rb(8)]
            score = scores[drive_l[el] + drive_p[ep] + drive_s[es] + drive_a[ea]][rb(8)]
            hexid = ((rb(128) & _UUID_CLEAR) | _UUID_SET).to_bytes(16, "big").hex()
            answer: dict[str, Any] = {
                "id": f"{hexid[:8]}-{hexid[8:12]}-{hexid[12:16]}-{hexid[16:20]}-{hexid[20:]}",
                "respondent_id": f"u_{100000 + rb(40) % respondents}",
                "score": score,
            }
            mask = k[7][rb(8)]
            if mask:
                dims: dict[str, int] = {}
                if mask & 1:
                    dims["logistics"] = el
                if mask & 2:
                    dims["product"] = ep
                if mask & 4:
                    dims["service"] = es
                if mask & 8:
                    dims["app"] = ea
                answer["dimensions"] = dims
            if rb(8) < comment_threshold[score]:
                if score >= 9:
                    answer["comment"] = PRAISE[rb(16) % len(PRAISE)]
                else:
                    worst = min(range(4), key=(el, ep, es, ea).__getitem__)
                    pool = complaints[worst]
                    answer["comment"] = pool[rb(16) % len(pool)]
            context = {
                "merchant_id": m[0],
                "category": m[1],
                "channel": k[0],
                "region": g[0],
                "platform": k[1],
                "touchpoint": k[2],
            }
            if rb(8) < k[8]:
                context["order_id"] = f"o_{100000000000000 + rb(48)}"
            answer["context"] = context
            if rb(8) < weight_threshold:
                answer["weight"] = weight_table[rb(10)]
            props = props_table[rb(10)]
            if props is not None:
                answer["properties"] = dict(props)
            answer["submitted_at"] = prefix + minute_second[second]
            yield answer


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------

_EMPTY: dict[str, Any] = {}


def _cell_time(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _csv_quote(text: str) -> str:
    """What csv.writer (QUOTE_MINIMAL, lineterminator "\\n") makes of one text field."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _PropertiesCell:
    """The quoted CSV cell of a properties object, cached: demo data repeats a few shapes."""

    def __init__(self, limit: int = 4096) -> None:
        self._cache: dict[tuple[Any, ...], str] = {}
        self._limit = limit

    def __call__(self, properties: dict[str, Any]) -> str:
        try:
            # The types too: True == 1 == 1.0 as keys, but they are written differently.
            key = (*properties.items(), *map(type, properties.values()))
            cell = self._cache.get(key)
        except TypeError:  # an unhashable value: not cacheable
            return _csv_quote(_dumps(properties))
        if cell is None:
            cell = _csv_quote(_dumps(properties))
            if len(self._cache) < self._limit:
                self._cache[key] = cell
        return cell


def write_csv(answers: Iterable[dict[str, Any]], out: TextIO, *, header: bool = True) -> int:
    """Write the documented import CSV (header CSV_COLUMNS); returns the rows written.

    Output is exactly csv.writer's (QUOTE_MINIMAL, lineterminator "\\n"). Rows whose cells
    need no quoting (nearly all) are joined directly, which is several times faster; any
    other row goes through csv.writer itself.
    """
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    slow = writer.writerow
    write = out.write
    quoted_properties = _PropertiesCell()
    rows = 0
    for a in answers:
        get = a.get
        d = get("dimensions") or _EMPTY
        c = get("context") or _EMPTY
        i, r, s = get("id"), a["respondent_id"], a["score"]
        dl, dp, ds, da = d.get("logistics"), d.get("product"), d.get("service"), d.get("app")
        t, m, k = get("comment"), c.get("merchant_id"), c.get("category")
        ch, g, pf, tp = c.get("channel"), c.get("region"), c.get("platform"), c.get("touchpoint")
        o, w, props, at = c.get("order_id"), get("weight"), get("properties"), get("submitted_at")
        if at.__class__ is not str:
            at = _cell_time(at)
        # 17 cells without the properties; csv.writer would write exactly this when no cell
        # holds a delimiter, a quote or a line break, which the checks below prove.
        line = (
            f"{'' if i is None else i},{r},{s},{'' if dl is None else dl},"
            f"{'' if dp is None else dp},{'' if ds is None else ds},{'' if da is None else da},"
            f"{'' if t is None else t},{'' if m is None else m},{'' if k is None else k},"
            f"{'' if ch is None else ch},{'' if g is None else g},{'' if pf is None else pf},"
            f"{'' if tp is None else tp},{'' if o is None else o},{'' if w is None else w},"
            f"{'' if at is None else at}"
        )
        if line.count(",") == 16 and '"' not in line and "\n" not in line and "\r" not in line:
            cut = line.rindex(",")
            p = quoted_properties(props) if props else ""
            write(f"{line[:cut]},{p}{line[cut:]}\n")
        else:
            slow(
                (
                    i,
                    r,
                    s,
                    dl,
                    dp,
                    ds,
                    da,
                    t,
                    m,
                    k,
                    ch,
                    g,
                    pf,
                    tp,
                    o,
                    w,
                    _dumps(props) if props else None,
                    at,
                )
            )
        rows += 1
    return rows


def write_ndjson(answers: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write one compact JSON object per line; returns the lines written."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    write = out.write
    rows = 0
    for a in answers:
        write(dumps(a) + "\n")
        rows += 1
    return rows
