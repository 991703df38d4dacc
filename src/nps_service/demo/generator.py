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

import math
import random
from collections.abc import Iterator
from typing import Any

from nps_service.demo.catalogue import (
    BAD_LOGISTICS_MERCHANTS,
    BAD_LOGISTICS_RANKS,
    CATEGORIES,
    COMPLAINTS,
    PRAISE,
)
from nps_service.demo.config import DemoConfig
from nps_service.demo.seasons import hour_grid
from nps_service.demo.tables import Q0, bits_for, clamp, draw_table, static_tables, threshold
from nps_service.survey import DIMENSIONS


def draw_merchants(
    config: DemoConfig, rng: random.Random
) -> tuple[list[tuple[Any, ...]], list[float]]:
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
                Q0 + clamp(round(logistics), 0, 100),
                Q0 + clamp(round(product), 0, 100),
                Q0 + clamp(round(service), 0, 100),
            )
        )
    weights = [
        (rank + 1 + config.zipf_offset) ** -config.zipf_exponent for rank in range(len(merchants))
    ]
    return merchants, weights


_UUID_CLEAR = ((1 << 128) - 1) ^ (0xF000 << 64) ^ (0xC000 << 48)
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def generate(config: DemoConfig) -> Iterator[dict[str, Any]]:
    """Answers shaped exactly like the POST /v1/responses body, in submitted_at order.

    Ids are uuid4 strings drawn from the seeded RNG: the same config gives the same answers.
    """
    rng = random.Random(config.seed)
    rb = rng.getrandbits
    merchants, merchant_weights = draw_merchants(config, rng)
    merchant_bits = bits_for(len(merchants), 7, 12, 22)
    merchant_table = draw_table(merchants, merchant_weights, merchant_bits)
    static = static_tables()
    context_table, region_table, mood_table = static.contexts, static.regions, static.moods
    ratings, scores = static.ratings, static.scores
    drive_l, drive_p, drive_s, drive_a = static.drivers
    comment_threshold, weight_table = static.comment_thresholds, static.weights
    minute_second = static.minute_second
    complaints = [COMPLAINTS[d] for d in DIMENSIONS]
    app_quality = Q0 + 84
    weight_threshold = threshold(0.10)
    respondents = config.respondents
    hours = hour_grid(config, rng)

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
