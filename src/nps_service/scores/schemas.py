"""Score bodies: stable field names that BI tools and generated clients rely on."""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

BUCKET_HELP = "With `interval`: the local date (in `tz`) the bucket starts, YYYY-MM-DD."
BUCKET_START_HELP = (
    "With `interval`: the bucket's first instant, RFC 3339 in UTC (`Z`): local midnight of "
    "`bucket` in `tz` (the first real instant when a DST jump skips midnight), e.g. "
    "2026-11-19T16:00:00Z for the day 2026-11-20 in Asia/Shanghai. For time-series tools."
)
PARTIAL_HELP = (
    "With `interval`: true when the range [`from`, `to`) does not cover the whole bucket "
    "(`from` after its start, e.g. a Wednesday for weekly buckets, or `to` before its end), "
    "so it holds fewer days than a whole one; false when it does, or on a side where the "
    "range is open (a bucket still in progress is marked only when `to` cuts it). Null "
    "without `interval`. On the group, not the key: it describes the group's coverage, "
    "not which group it is."
)


class MetricScore(BaseModel):
    """NPS of one metric over one group, with its sample and interval."""

    n: int = Field(description="Responses that answered this question.")
    promoters: int
    passives: int
    detractors: int
    promoter_share: float | None = Field(description="0..1; weighted when `weighted=true`.")
    passive_share: float | None
    detractor_share: float | None
    nps: float | None = Field(description="Unrounded, -100..100; null when n = 0 or suppressed.")
    ci_low: float | None = Field(description="Adjusted-Wald lower bound, -100..100.")
    ci_high: float | None = Field(description="Adjusted-Wald upper bound, -100..100.")
    effective_n: float = Field(description="n, or Kish's (Σw)²/Σw² when weighted.")
    suppressed: bool = Field(description="True when 0 < n < min_n.")


class DimensionScores(BaseModel):
    """Each dimension over the responses that rated it."""

    logistics: MetricScore
    product: MetricScore
    service: MetricScore
    app: MetricScore


class DisplayCounts(BaseModel):
    """Prompts shown in the group's scope and range (by `shown_at`), and what came of them."""

    shown: int
    answered: int = Field(description="Displays that an answer names (`display_id`).")
    declined: int = Field(description="Displays closed without an answer.")
    response_rate: float | None = Field(description="answered / shown; null when shown = 0.")


def _present_when(description: str) -> Any:
    """A key field that is absent unless the request asks for it (never a default)."""
    return Field(description=description, json_schema_extra=_no_default)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _tag(name: str) -> Any:
    return _present_when(
        f"With `group_by={name}`: the group's value; null for answers without that tag."
    )


class ScoreKey(BaseModel):
    """What a group stands for: with `interval` its bucket, with `group_by` each field."""

    bucket: Annotated[date | SkipJsonSchema[None], _present_when(BUCKET_HELP)] = None
    bucket_start: Annotated[datetime | SkipJsonSchema[None], _present_when(BUCKET_START_HELP)] = (
        None
    )
    merchant_id: Annotated[str | None, _tag("merchant_id")] = None
    category: Annotated[str | None, _tag("category")] = None
    channel: Annotated[str | None, _tag("channel")] = None
    region: Annotated[str | None, _tag("region")] = None
    platform: Annotated[str | None, _tag("platform")] = None
    touchpoint: Annotated[str | None, _tag("touchpoint")] = None


class ScoreGroup(BaseModel):
    """One bucket and/or segment."""

    key: ScoreKey
    overall: MetricScore
    dimensions: DimensionScores
    displays: DisplayCounts | None = Field(
        None,
        description="Display counts of `/v1/scores` groups; null with `property.*` filters "
        "(displays keep no properties).",
    )
    partial: bool | None = Field(description=PARTIAL_HELP)


class ScoreQuery(BaseModel):
    """The query as the server understood it."""

    from_: datetime | None = Field(alias="from")
    to: datetime | None
    tz: str
    interval: str | None
    group_by: list[str]
    filters: dict[str, list[str]]
    weighted: bool
    confidence: float
    min_n: int
    sort: str
    limit: int | None


class ScoresOut(BaseModel):
    """Global NPS (one group with an empty key) or one group per bucket/segment."""

    query: ScoreQuery
    groups: list[ScoreGroup]


class MetricComparison(BaseModel):
    """One metric in the current period against the baseline (STATISTICS.md §4)."""

    current: MetricScore
    baseline: MetricScore
    delta: float | None = Field(
        description="Current minus baseline NPS in points, from the plain NPS values; null "
        "when either side has no NPS (no answers, or suppressed)."
    )
    delta_ci_low: float | None = Field(description="Interval of the change, adjusted-Wald.")
    delta_ci_high: float | None
    z: float | None = Field(description="Adjusted difference over its standard error.")
    p_value: float | None = Field(description="Two-sided, 2·(1 − Φ(|z|)).")
    p_value_adjusted: float | None = Field(
        description="Holm-adjusted over this response's groups (per metric); equals "
        "p_value when there is one group."
    )


class DimensionComparisons(BaseModel):
    logistics: MetricComparison
    product: MetricComparison
    service: MetricComparison
    app: MetricComparison


class ComparisonGroup(BaseModel):
    """One segment (or the whole scope, with an empty key)."""

    key: dict[str, str | None] = Field(description="Each group_by field.")
    overall: MetricComparison
    dimensions: DimensionComparisons


class CompareQuery(BaseModel):
    """The comparison as the server understood it."""

    from_: datetime | None = Field(alias="from")
    to: datetime | None
    baseline_from: datetime
    baseline_to: datetime
    tz: str
    group_by: list[str]
    filters: dict[str, list[str]]
    weighted: bool
    confidence: float
    min_n: int
    limit: int | None


class CompareOut(BaseModel):
    """Current period against the baseline, per group and metric."""

    query: CompareQuery
    groups: list[ComparisonGroup]


class MetricTrend(BaseModel):
    """The weighted least-squares slope of one metric's NPS over the buckets."""

    buckets: int = Field(description="Buckets with an NPS (answers, not suppressed) in the fit.")
    slope: float | None = Field(
        description="NPS points per bucket (per day, week or month); null with < 2 buckets."
    )
    slope_se: float | None = Field(description="Standard error of the slope.")
    slope_ci_low: float | None
    slope_ci_high: float | None
    z: float | None
    p_value: float | None = Field(description="Two-sided, against a flat trend.")
    significant: bool | None = Field(description="The interval excludes zero.")


class DimensionTrends(BaseModel):
    logistics: MetricTrend
    product: MetricTrend
    service: MetricTrend
    app: MetricTrend


class TrendGroup(BaseModel):
    key: dict[str, str | None] = Field(description="Each group_by field.")
    first_bucket: str = Field(description="Local start date of the first bucket with answers.")
    first_bucket_start: datetime = Field(description="Its first instant: " + BUCKET_START_HELP)
    first_bucket_partial: bool = Field(
        description="The range starts after the first bucket does (its `partial`, as in "
        "/v1/scores): that bucket holds fewer days than the others."
    )
    last_bucket: str = Field(description="Local start date of the last bucket with answers.")
    last_bucket_start: datetime = Field(description="Its first instant, as first_bucket_start.")
    last_bucket_partial: bool = Field(
        description="`to` cuts the last bucket short (its `partial`, as in /v1/scores)."
    )
    overall: MetricTrend
    dimensions: DimensionTrends


class TrendQuery(BaseModel):
    from_: datetime | None = Field(alias="from")
    to: datetime | None
    tz: str
    interval: str
    group_by: list[str]
    filters: dict[str, list[str]]
    weighted: bool
    confidence: float
    min_n: int
    limit: int | None


class TrendOut(BaseModel):
    """Per group: is the NPS rising or falling over the buckets, and significantly?"""

    query: TrendQuery
    groups: list[TrendGroup]
