"""GET /v1/merchants: a category's merchants ranked over a trailing window."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from nps_service.filters import ResponseFilter
from nps_service.responses.models import DIMENSIONS
from nps_service.scores.query import group_totals
from nps_service.scores.service import ScoreOptions, metric_of, score_groups
from nps_service.scores.stats import compare_many, z_for
from nps_service.timezones import local_midnight

METRIC_NAMES = ("overall", *DIMENSIONS)
SORT_FIELDS = ("nps", "ci_low", "ci_high", "n")


@dataclass(frozen=True)
class Window:
    """The last `days` whole local days before `end` (exclusive), in `tz`."""

    days: int
    end: date
    tz: ZoneInfo

    @property
    def start_utc(self) -> datetime:
        return local_midnight(self.end - timedelta(days=self.days), self.tz)

    @property
    def end_utc(self) -> datetime:
        return local_midnight(self.end, self.tz)

    def scope(self, **segments: tuple[str, ...]) -> ResponseFilter:
        return ResponseFilter(start=self.start_utc, end=self.end_utc, tz=self.tz, segments=segments)


def composite(group: dict[str, Any], weights: dict[str, float]) -> float | None:
    """Weighted mean of the dimensions' NPS, over the dimensions that have one."""
    present = [
        (weight, group["dimensions"][name]["nps"])
        for name, weight in weights.items()
        if weight > 0 and group["dimensions"][name]["nps"] is not None
    ]
    total = sum(weight for weight, _ in present)
    return sum(weight * value for weight, value in present) / total if total > 0 else None


def sort_value(entry: dict[str, Any], sort: str) -> float | None:
    """`composite`, or `<field>` of overall, or `<dimension>.<field>`."""
    field = sort.lstrip("-")
    if field == "composite":
        value: float | None = entry["composite"]
        return value
    metric, _, name = field.rpartition(".")
    return metric_of(entry, metric or "overall")[name]  # type: ignore[no-any-return]


def rank_merchants(
    session: Session,
    category: str,
    window: Window,
    options: ScoreOptions,
    weights: dict[str, float],
    sort: str,
) -> list[dict[str, Any]]:
    """Merchants with at least `min_n` answers in the window, best first by `sort`
    (descending with a leading `-`); ties by merchant id; merchants without a value last."""
    scope = window.scope(category=(category,))
    totals = group_totals(
        session, scope, interval=None, group_by=["merchant_id"], weighted=options.weighted
    )
    entries = []
    for group in score_groups(totals, options):
        if group["key"]["merchant_id"] is None or group["overall"]["n"] < options.min_n:
            continue
        entries.append(
            {
                "merchant_id": group["key"]["merchant_id"],
                "overall": group["overall"],
                "dimensions": group["dimensions"],
                "composite": composite(group, weights),
            }
        )
    # Each value once; ties keep merchant-id order (sorting is stable, also in reverse).
    keyed = sorted(((sort_value(e, sort), e) for e in entries), key=lambda p: p[1]["merchant_id"])
    with_value = [(value, e) for value, e in keyed if value is not None]
    with_value.sort(key=lambda pair: pair[0], reverse=sort.startswith("-"))
    ranked = [e for _, e in with_value] + [e for value, e in keyed if value is None]
    for position, entry in enumerate(ranked, start=1):
        entry["rank"] = position
    return ranked


def merchant_category(session: Session, merchant_id: str, window: Window) -> str | None:
    """The category holding most of the merchant's answers in the window (ties by name)."""
    scope = ResponseFilter(
        start=window.start_utc,
        end=window.end_utc,
        tz=window.tz,
        segments={"merchant_id": (merchant_id,)},
    )
    totals = group_totals(session, scope, interval=None, group_by=["category"], weighted=False)
    counted = [
        (-sum(group.sums[:3]), group.key["category"])
        for group in totals
        if group.key["category"] is not None
    ]
    return min(counted)[1] if counted else None


def merchant_scores(
    session: Session, merchant_id: str, category: str, window: Window, options: ScoreOptions
) -> dict[str, Any]:
    """The merchant's overall and dimension scores in the window (n = 0 when none)."""
    scope = window.scope(merchant_id=(merchant_id,), category=(category,))
    totals = group_totals(session, scope, interval=None, group_by=[], weighted=options.weighted)
    (group,) = score_groups(totals, options)
    return group


def scorecard(
    session: Session,
    merchant_id: str,
    category: str,
    window: Window,
    options: ScoreOptions,
    weights: dict[str, float],
    rank_by: str,
) -> dict[str, Any]:
    """Scores, composite, rank among the category's merchants, and change since the
    window before (STATISTICS.md §4)."""
    now = merchant_scores(session, merchant_id, category, window, options)
    before_window = Window(window.days, window.end - timedelta(days=window.days), window.tz)
    before = merchant_scores(session, merchant_id, category, before_window, options)
    ranked = rank_merchants(session, category, window, options, weights, rank_by)
    position = next((e["rank"] for e in ranked if e["merchant_id"] == merchant_id), None)
    of = len(ranked)
    percentile = None
    if position is not None:
        percentile = 100.0 * (of - position) / (of - 1) if of > 1 else 100.0
    z = z_for(options.confidence)
    change = {}
    for metric in METRIC_NAMES:
        current, baseline = metric_of(now, metric), metric_of(before, metric)
        (row,) = compare_many([current], [baseline], z)
        change[metric] = {
            "current": current,
            "baseline": baseline,
            **row,
            "p_value_adjusted": row["p_value"],  # one comparison: nothing to adjust
        }
    composite_now, composite_before = composite(now, weights), composite(before, weights)
    return {
        "merchant_id": merchant_id,
        "category": category,
        "window": _window_echo(window),
        "baseline_window": _window_echo(before_window),
        "overall": now["overall"],
        "dimensions": now["dimensions"],
        "composite": {
            "score": composite_now,
            "baseline_score": composite_before,
            "delta": None
            if composite_now is None or composite_before is None
            else composite_now - composite_before,
            "weights": weights,
        },
        "rank": {
            "by": rank_by,
            "position": position,
            "of": of,
            "percentile": percentile,
            "min_n": options.min_n,
        },
        "change": {
            "overall": {
                "current": now["overall"],
                "baseline": before["overall"],
                **change["overall"],
            },
            "dimensions": {
                name: {
                    "current": now["dimensions"][name],
                    "baseline": before["dimensions"][name],
                    **change[name],
                }
                for name in DIMENSIONS
            },
        },
    }


def _window_echo(window: Window) -> dict[str, Any]:
    return {
        "from": window.start_utc,
        "to": window.end_utc,
        "days": window.days,
        "tz": window.tz.key,
    }
