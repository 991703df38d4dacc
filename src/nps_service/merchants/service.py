"""Where a merchant's scorecard is built: rankings within a category, one merchant's
scores, composite, rank, percentile and change since the window before."""

from dataclasses import dataclass
from typing import Any

from nps_service.merchants.window import Window
from nps_service.rollups import TotalsEngine, TotalsQuery
from nps_service.scores.params import ScoreOptions
from nps_service.scores.service import ScoredGroups, metric_of, score_columns, score_groups
from nps_service.stats.compare import compare_many
from nps_service.stats.nps import z_for
from nps_service.stats.ranking import composite, percentile
from nps_service.survey import DIMENSIONS, METRICS


def composite_of(group: dict[str, Any], weights: dict[str, float]) -> float | None:
    """The composite experience score of a scored group."""
    return composite({name: group["dimensions"][name]["nps"] for name in DIMENSIONS}, weights)


@dataclass(frozen=True)
class Ranking:
    """A category's merchants meeting `min_n`, best first; built as columns, written out as
    entries only for those shown."""

    scored: ScoredGroups
    composites: list[float | None]  # per group of `scored`
    order: list[int]  # the ranked groups: rank 1 first

    def __len__(self) -> int:
        return len(self.order)

    def position(self, merchant_id: str) -> int | None:
        """1-based rank of the merchant, None if it does not qualify."""
        ranks = {self.scored.keys[i]["merchant_id"]: r for r, i in enumerate(self.order, 1)}
        return ranks.get(merchant_id)

    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        """`RankedMerchant` bodies of the first `limit` merchants (all without one)."""
        shown = self.order[:limit] if limit else self.order
        return [
            {
                "merchant_id": group["key"]["merchant_id"],
                "rank": rank,
                "overall": group["overall"],
                "dimensions": group["dimensions"],
                "composite": self.composites[i],
            }
            for rank, (i, group) in enumerate(zip(shown, self.scored.rows(shown), strict=True), 1)
        ]


def rank_merchants(
    engine: TotalsEngine,
    category: str,
    window: Window,
    options: ScoreOptions,
    weights: dict[str, float],
    sort: str,
) -> Ranking:
    """Merchants with at least `min_n` answers in the window, best first by `sort`
    (descending with a leading `-`); ties by merchant id; merchants without a value last."""
    query = TotalsQuery(window.scope(category=(category,)), None, ["merchant_id"], options.weighted)
    scored = score_columns(engine.group_totals(query), options)
    dimension_nps = [scored.metrics[name].nps.tolist() for name in DIMENSIONS]
    composites = [
        composite(
            {
                name: _value(values[i])
                for name, values in zip(DIMENSIONS, dimension_nps, strict=True)
            },
            weights,
        )
        for i in range(len(scored))
    ]
    ids = [key["merchant_id"] for key in scored.keys]
    n = scored.metrics["overall"].n.tolist()
    qualifying = sorted(
        (i for i in range(len(scored)) if ids[i] is not None and n[i] >= options.min_n),
        key=lambda i: str(ids[i]),
    )
    values = _sort_values(scored, composites, sort)
    # Ties keep merchant-id order (sorting is stable, also in reverse).
    with_value = [i for i in qualifying if values[i] is not None]
    with_value.sort(key=lambda i: values[i] or 0.0, reverse=sort.startswith("-"))
    order = with_value + [i for i in qualifying if values[i] is None]
    return Ranking(scored, composites, order)


def _sort_values(
    scored: ScoredGroups, composites: list[float | None], sort: str
) -> list[float | None]:
    """`composite`, or `<field>` of overall, or `<dimension>.<field>`, per group."""
    field = sort.lstrip("-")
    if field == "composite":
        return composites
    metric, _, name = field.rpartition(".")
    return [_value(v) for v in getattr(scored.metrics[metric or "overall"], name).tolist()]


def _value(value: float) -> float | None:
    """A statistic as the API shows it: NaN (no statistic) is None."""
    return None if value != value else value


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
    position = ranked.position(merchant_id)
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
