"""Where a merchant's scorecard is built: rankings within a category, one merchant's
scores, composite, rank, percentile and change since the window before."""

from typing import Any

from nps_service.merchants.window import Window
from nps_service.rollups import TotalsEngine, TotalsQuery
from nps_service.scores.params import ScoreOptions
from nps_service.scores.service import metric_of, score_groups
from nps_service.stats.compare import compare_many
from nps_service.stats.nps import z_for
from nps_service.stats.ranking import composite, percentile
from nps_service.survey import DIMENSIONS, METRICS


def composite_of(group: dict[str, Any], weights: dict[str, float]) -> float | None:
    """The composite experience score of a scored group."""
    return composite({name: group["dimensions"][name]["nps"] for name in DIMENSIONS}, weights)


def sort_value(entry: dict[str, Any], sort: str) -> float | None:
    """`composite`, or `<field>` of overall, or `<dimension>.<field>`."""
    field = sort.lstrip("-")
    if field == "composite":
        value: float | None = entry["composite"]
        return value
    metric, _, name = field.rpartition(".")
    return metric_of(entry, metric or "overall")[name]  # type: ignore[no-any-return]


def rank_merchants(
    engine: TotalsEngine,
    category: str,
    window: Window,
    options: ScoreOptions,
    weights: dict[str, float],
    sort: str,
) -> list[dict[str, Any]]:
    """Merchants with at least `min_n` answers in the window, best first by `sort`
    (descending with a leading `-`); ties by merchant id; merchants without a value last."""
    query = TotalsQuery(window.scope(category=(category,)), None, ["merchant_id"], options.weighted)
    entries = []
    for group in score_groups(engine.group_totals(query), options):
        if group["key"]["merchant_id"] is None or group["overall"]["n"] < options.min_n:
            continue
        entries.append(
            {
                "merchant_id": group["key"]["merchant_id"],
                "overall": group["overall"],
                "dimensions": group["dimensions"],
                "composite": composite_of(group, weights),
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


def merchant_category(engine: TotalsEngine, merchant_id: str, window: Window) -> str | None:
    """The category holding most of the merchant's answers in the window (ties by name)."""
    query = TotalsQuery(window.scope(merchant_id=(merchant_id,)), None, ["category"])
    totals = engine.group_totals(query)
    answers = totals.metrics["overall"].n.tolist()
    counted = [
        (-n, key["category"])
        for key, n in zip(totals.keys, answers, strict=True)
        if key["category"] is not None
    ]
    return min(counted)[1] if counted else None


def merchant_scores(
    engine: TotalsEngine, merchant_id: str, category: str, window: Window, options: ScoreOptions
) -> dict[str, Any]:
    """The merchant's overall and dimension scores in the window (n = 0 when none)."""
    scope = window.scope(merchant_id=(merchant_id,), category=(category,))
    totals = engine.group_totals(TotalsQuery(scope, None, [], options.weighted))
    (group,) = score_groups(totals, options)
    return group


def scorecard(
    engine: TotalsEngine,
    merchant_id: str,
    category: str,
    window: Window,
    options: ScoreOptions,
    weights: dict[str, float],
    rank_by: str,
) -> dict[str, Any]:
    """Scores, composite, rank among the category's merchants, and change since the
    window before (STATISTICS.md §4)."""
    now = merchant_scores(engine, merchant_id, category, window, options)
    before = merchant_scores(engine, merchant_id, category, window.before, options)
    ranked = rank_merchants(engine, category, window, options, weights, rank_by)
    position = next((e["rank"] for e in ranked if e["merchant_id"] == merchant_id), None)
    composite_now, composite_before = composite_of(now, weights), composite_of(before, weights)
    change = _change(now, before, z_for(options.confidence))
    return {
        "merchant_id": merchant_id,
        "category": category,
        "window": window.echo(),
        "baseline_window": window.before.echo(),
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
            "of": len(ranked),
            "percentile": percentile(position, len(ranked)),
            "min_n": options.min_n,
        },
        "change": {
            "overall": change["overall"],
            "dimensions": {name: change[name] for name in DIMENSIONS},
        },
    }


def _change(now: dict[str, Any], before: dict[str, Any], z: float) -> dict[str, dict[str, Any]]:
    """Each metric now against the window before."""
    change = {}
    for metric in METRICS:
        current, baseline = metric_of(now, metric), metric_of(before, metric)
        (row,) = compare_many([current], [baseline], z)
        change[metric] = {
            "current": current,
            "baseline": baseline,
            **row,
            "p_value_adjusted": row["p_value"],  # one comparison: nothing to adjust
        }
    return change
