"""Key-driver bodies: which dimension moves the overall score, and which to fix first."""

from datetime import datetime

from pydantic import BaseModel, Field

from nps_service.scores.schemas import PARTIAL_HELP, MetricScore, ScoreKey


class DimensionDriver(BaseModel):
    """One dimension as a driver of the overall score."""

    n: int = Field(
        description="Complete cases: answers in the group that rated all four dimensions "
        "(the model's n, the same for every dimension)."
    )
    mean: float | None = Field(description="Mean 0-10 rating over the complete cases.")
    correlation: float | None = Field(
        description="Pearson r with the overall 0-10 score over the complete cases (weighted "
        "with `weighted=true`); null when either does not vary."
    )
    correlation_ci_low: float | None = Field(
        description="Fisher-z interval of the correlation at `confidence` (n − 3 degrees, "
        "Kish's effective n when weighted); null with n ≤ 3."
    )
    correlation_ci_high: float | None
    standardized_beta: float | None = Field(
        description="Coefficient of the standardised regression of the overall score on the "
        "four ratings; unstable when dimensions are strongly correlated (use the weights)."
    )
    relative_weight: float | None = Field(
        description="Johnson's relative weight: the part of r_squared due to this dimension "
        "(the four add up to r_squared; 0 for a rating that does not vary). Null when the "
        "model is not fitted."
    )
    relative_weight_share: float | None = Field(
        description="relative_weight / r_squared: the dimension's importance, 0..1 (the four "
        "add up to 1)."
    )
    nps: float | None = Field(
        description="The dimension's NPS over every answer in the group that rated it "
        "(`score.nps`, as in /v1/scores)."
    )
    score: MetricScore = Field(description="The dimension's score, as in /v1/scores.")
    priority_score: float | None = Field(
        description="relative_weight_share × (100 − nps) / 200, 0..1: important and weak "
        "dimensions score high. Null without a share or an NPS."
    )
    priority: int | None = Field(description="1 = improve first (highest priority_score).")


class DimensionDrivers(BaseModel):
    logistics: DimensionDriver
    product: DimensionDriver
    service: DimensionDriver
    app: DimensionDriver


class DriverGroup(BaseModel):
    """One model: the whole scope (empty key), or one bucket and/or segment."""

    key: ScoreKey = Field(
        description="`bucket` and `bucket_start` with `interval`, plus each group_by field."
    )
    n: int = Field(description="Complete cases in the model.")
    effective_n: float = Field(description="n, or Kish's (Σw)²/Σw² when weighted.")
    suppressed: bool = Field(
        description="True when 0 < n < min_n: no model and no correlations are reported."
    )
    fitted: bool = Field(description="Whether r_squared and the relative weights exist.")
    reason: str | None = Field(description="Why the model was not fitted, in words.")
    r_squared: float | None = Field(
        description="R² of the least-squares model of the overall score on the four ratings."
    )
    overall_mean: float | None = Field(
        description="Mean overall 0-10 score over the complete cases."
    )
    overall: MetricScore = Field(
        description="The overall score over every answer in the group, as in /v1/scores."
    )
    dimensions: DimensionDrivers
    priority: list[str] = Field(
        description="Dimensions with a priority, the one to improve first first."
    )
    partial: bool | None = Field(description=PARTIAL_HELP)


class DriversQuery(BaseModel):
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
    limit: int | None


class DriversOut(BaseModel):
    """Key drivers of the overall score: one model per group (one group without grouping)."""

    query: DriversQuery
    groups: list[DriverGroup]
