"""Bodies of `/v1/alerts` (API.md, "Webhooks and alerts"): unknown fields refused, tags in
the answers' alphabet, zones by IANA name."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StrictBool, StrictInt

from nps_service.filters import zone_name
from nps_service.responses.schemas import ContextValue, StrictModel, Text
from nps_service.survey import METRICS, SEGMENT_FIELDS

# Statistics on fewer answers than this are noise: an alert on them would cry wolf.
DEFAULT_MIN_N = 30
MAX_FILTER_VALUES = 100


def _number(value: Any) -> Any:
    # JSON numbers only: no "1", no true (which Python would treat as 1).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return value


def _metric(value: str) -> str:
    if value not in METRICS:
        raise ValueError(f"must be one of {', '.join(METRICS)}")
    return value


def _fields(names: list[str]) -> list[str]:
    unknown = [name for name in names if name not in SEGMENT_FIELDS]
    if unknown:
        raise ValueError(f"unknown tag {unknown[0]!r}; use {', '.join(SEGMENT_FIELDS)}")
    return list(dict.fromkeys(names))


def _filters(value: dict[str, list[str]]) -> dict[str, list[str]]:
    _fields(list(value))
    return {name: list(dict.fromkeys(values)) for name, values in value.items()}


class SignificantDrop(StrictModel):
    """A group whose metric fell with a Holm-adjusted p-value below 1 − confidence."""

    type: Literal["significant_drop"]
    confidence: Annotated[
        float, Field(gt=0, lt=1, allow_inf_nan=False), BeforeValidator(_number)
    ] = 0.95


class Below(StrictModel):
    """A group whose metric's NPS in the interval is below `value` (points)."""

    type: Literal["below"]
    value: Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False), BeforeValidator(_number)]


Condition = Annotated[SignificantDrop | Below, Field(discriminator="type")]
Name = Annotated[Text, Field(min_length=1, max_length=200)]
Metric = Annotated[
    str,
    AfterValidator(_metric),
    Field(description="`overall` or a dimension", json_schema_extra={"enum": list(METRICS)}),
]
Filters = Annotated[
    dict[str, Annotated[list[ContextValue], Field(min_length=1, max_length=MAX_FILTER_VALUES)]],
    AfterValidator(_filters),
    Field(description=f"Tag -> values kept; tags among {', '.join(SEGMENT_FIELDS)}."),
]
GroupBy = Annotated[
    list[str],
    AfterValidator(_fields),
    Field(description=f"Any of {', '.join(SEGMENT_FIELDS)}: each group is judged on its own."),
]
IntervalName = Annotated[
    Literal["day", "week"],
    Field(description="`day` (local midnights) or `week` (ISO, Monday 00:00 local)."),
]
Zone = Annotated[str, AfterValidator(zone_name), Field(description="IANA time zone.")]
MinN = Annotated[
    StrictInt,
    Field(
        ge=1,
        le=1_000_000_000,
        description="Groups with fewer answers in the interval or its baseline are not judged.",
    ),
]


class AlertIn(StrictModel):
    """A new alert."""

    name: Name
    metric: Metric
    filters: Filters = Field(default_factory=dict)
    group_by: GroupBy = Field(default_factory=list)
    interval: IntervalName
    tz: Zone = "UTC"
    condition: Condition
    min_n: MinN = DEFAULT_MIN_N
    enabled: StrictBool = True


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null")
    return value


NotNull = BeforeValidator(_not_null)


class AlertPatch(StrictModel):
    """A change: the fields given replace the stored ones (`filters`/`group_by`: null
    clears them)."""

    name: Annotated[Name | None, NotNull] = None
    metric: Annotated[Metric | None, NotNull] = None
    filters: Filters | None = None
    group_by: GroupBy | None = None
    interval: Annotated[IntervalName | None, NotNull] = None
    tz: Annotated[Zone | None, NotNull] = None
    condition: Annotated[Condition | None, NotNull] = None
    min_n: Annotated[MinN | None, NotNull] = None
    enabled: Annotated[StrictBool | None, NotNull] = None


class AlertOut(BaseModel):
    """A stored alert."""

    id: uuid.UUID
    name: str
    metric: str
    filters: dict[str, list[str]]
    group_by: list[str]
    interval: str
    tz: str
    condition: Condition
    min_n: int
    enabled: bool
    created_at: datetime
    updated_at: datetime
    last_evaluated_start: datetime | None = Field(
        description="Start of the newest interval evaluated, if any."
    )


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None


class Bounds(BaseModel):
    start: datetime
    end: datetime


class EvaluationOut(BaseModel):
    """One evaluation of an interval against the one before it."""

    id: uuid.UUID
    alert_id: uuid.UUID
    interval: Bounds
    baseline_interval: Bounds
    evaluated_at: datetime
    groups_evaluated: int = Field(description="Groups with answers in either interval.")
    triggered: list[dict[str, Any]] = Field(
        description="The `data` of each `alert.triggered` event emitted, one per group."
    )


class EvaluationPage(BaseModel):
    items: list[EvaluationOut]
    next_cursor: str | None
