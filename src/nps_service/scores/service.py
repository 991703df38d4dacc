"""Turn grouped class totals into scored, sorted groups."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from nps_service.filters import ResponseFilter
from nps_service.scores.buckets import Interval
from nps_service.scores.query import GroupTotals, group_totals
from nps_service.scores.schemas import (
    DimensionScores,
    MetricScore,
    ScoreGroup,
    ScoreQuery,
    ScoresOut,
)
from nps_service.scores.stats import MetricStats, summarise


@dataclass(frozen=True)
class ScoreOptions:
    """Validated score parameters besides the shared filters."""

    interval: Interval | None
    group_by: list[str]
    weighted: bool
    confidence: float
    min_n: int
    sort: str
    limit: int | None


def compute_scores(session: Session, scope: ResponseFilter, options: ScoreOptions) -> ScoresOut:
    """Aggregate in SQL, then apply the statistics per group and order the groups."""
    totals = group_totals(
        session,
        scope,
        interval=options.interval,
        group_by=options.group_by,
        weighted=options.weighted,
    )
    groups = [_score_group(group, options) for group in totals]
    groups = _sorted(groups, options)
    if options.limit is not None:
        groups = groups[: options.limit]
    echo = scope.echo()
    query = ScoreQuery.model_validate(
        {
            **echo,
            "interval": options.interval.value if options.interval else None,
            "group_by": options.group_by,
            "weighted": options.weighted,
            "confidence": options.confidence,
            "min_n": options.min_n,
            "sort": options.sort,
            "limit": options.limit,
        }
    )
    return ScoresOut(query=query, groups=groups)


def _metric(stats: MetricStats) -> MetricScore:
    # Built from our own computed values: no validation needed (thousands per response).
    return MetricScore.model_construct(**vars(stats))


def _score_group(group: GroupTotals, options: ScoreOptions) -> ScoreGroup:
    scored = {
        name: _metric(
            summarise(
                totals,
                weighted=options.weighted,
                confidence=options.confidence,
                min_n=options.min_n,
            )
        )
        for name, totals in group.metrics.items()
    }
    overall = scored.pop("overall")
    return ScoreGroup.model_construct(
        key=group.key, overall=overall, dimensions=DimensionScores.model_construct(None, **scored)
    )


def _sorted(groups: list[ScoreGroup], options: ScoreOptions) -> list[ScoreGroup]:
    descending = options.sort.startswith("-")
    field = options.sort.lstrip("-")
    key_order = (["bucket"] if options.interval else []) + options.group_by

    def key_tuple(group: ScoreGroup) -> tuple[Any, ...]:
        # Null tag values sort after real values (before them when descending).
        return tuple((group.key.get(name) is None, group.key.get(name) or "") for name in key_order)

    if field == "key":
        return sorted(groups, key=key_tuple, reverse=descending)
    with_value = [g for g in groups if getattr(g.overall, field) is not None]
    without = [g for g in groups if getattr(g.overall, field) is None]
    # Ties fall back to the key order so results are deterministic.
    with_value.sort(key=key_tuple)
    with_value.sort(key=lambda g: getattr(g.overall, field), reverse=descending)
    return with_value + sorted(without, key=key_tuple)
