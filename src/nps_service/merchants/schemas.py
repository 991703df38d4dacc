"""Merchant bodies: rankings within a category and one merchant's scorecard."""

from datetime import datetime

from pydantic import BaseModel, Field

from nps_service.scores.schemas import (
    DimensionComparisons,
    DimensionScores,
    MetricComparison,
    MetricScore,
)


class RankedMerchant(BaseModel):
    merchant_id: str
    rank: int = Field(description="1 = best by `sort` among the merchants listed.")
    overall: MetricScore
    dimensions: DimensionScores
    composite: float | None = Field(
        description="Weighted mean of the dimensions' NPS (weights in the query echo), over "
        "the dimensions rated in the window."
    )


class MerchantListQuery(BaseModel):
    category: str
    from_: datetime = Field(alias="from")
    to: datetime
    window_days: int
    tz: str
    sort: str
    min_n: int
    weighted: bool
    confidence: float
    limit: int | None
    composite_weights: dict[str, float]
    merchants_ranked: int = Field(description="Merchants meeting min_n, before `limit`.")


class MerchantList(BaseModel):
    """A category's merchants over a trailing window of whole local days."""

    query: MerchantListQuery
    merchants: list[RankedMerchant]


class WindowEcho(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime
    days: int
    tz: str


class CompositeScore(BaseModel):
    score: float | None = Field(description="Weighted mean of the dimensions' NPS.")
    baseline_score: float | None = Field(description="The same over the window before.")
    delta: float | None
    weights: dict[str, float] = Field(description="NPS_COMPOSITE_WEIGHTS as used.")


class MerchantRank(BaseModel):
    by: str
    position: int | None = Field(description="1 = best; null when below min_n.")
    of: int = Field(description="Merchants of the category meeting min_n.")
    percentile: float | None = Field(description="100 = best, 0 = worst.")
    min_n: int


class ScorecardChange(BaseModel):
    overall: MetricComparison
    dimensions: DimensionComparisons


class Scorecard(BaseModel):
    """One merchant over a trailing window, against its category and its own past."""

    merchant_id: str
    category: str
    window: WindowEcho
    baseline_window: WindowEcho
    overall: MetricScore
    dimensions: DimensionScores
    composite: CompositeScore
    rank: MerchantRank
    change: ScorecardChange
