"""GET /v1/merchants: a category's merchants ranked over a trailing window."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from nps_service.filters import ResponseFilter
from nps_service.responses.models import DIMENSIONS
from nps_service.scores.query import group_totals
from nps_service.scores.service import ScoreOptions, metric_of, score_groups
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
    scope = ResponseFilter(
        start=window.start_utc, end=window.end_utc, tz=window.tz, segments={"category": (category,)}
    )
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
    entries.sort(key=lambda entry: entry["merchant_id"])
    with_value = [e for e in entries if sort_value(e, sort) is not None]
    without = [e for e in entries if sort_value(e, sort) is None]
    with_value.sort(key=lambda e: cast(float, sort_value(e, sort)), reverse=sort.startswith("-"))
    ranked = with_value + without
    for position, entry in enumerate(ranked, start=1):
        entry["rank"] = position
    return ranked
