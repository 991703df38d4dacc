"""Score bodies: stable field names that BI tools and generated clients rely on."""

from datetime import datetime

from pydantic import BaseModel, Field


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


class ScoreGroup(BaseModel):
    """One bucket and/or segment."""

    key: dict[str, str | None] = Field(
        description="`bucket` (local start date) with `interval`, plus each group_by field."
    )
    overall: MetricScore
    dimensions: DimensionScores


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
