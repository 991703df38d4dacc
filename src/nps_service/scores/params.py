"""The query parameters of the score endpoints, validated together (one 422 names all).

`ScoreParams` is `/v1/scores`; trend, compare and key drivers take the same parameters
with a few constraints of their own, declared on their subclasses.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, PrivateAttr

from nps_service.filters import (
    FilterParams,
    ParameterErrors,
    TimeBound,
    invalid,
    split_values,
)
from nps_service.survey import SEGMENT_FIELDS, Interval
from nps_service.timezones import parse_time_bound

SORT_KEYS = ("key", "nps", "n", "ci_low", "ci_high")
INTERVALS = frozenset(interval.value for interval in Interval)
# The enumerations the document declares. Validation stays in the functions below, whose
# 422 says what is allowed in words; the schema lets generators offer the values.
INTERVAL_ENUM: dict[str, Any] = {"enum": [interval.value for interval in Interval]}
SORT_ENUM: dict[str, Any] = {"enum": [f"{sign}{key}" for key in SORT_KEYS for sign in ("", "-")]}
KEY_SORT_ENUM: dict[str, Any] = {"enum": ["key"]}


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


def _interval(raw: str | None) -> str | None:
    if raw and raw not in INTERVALS:
        raise invalid("must be day, week or month")
    return raw or None


def _group_by(raw: list[str] | None) -> list[str]:
    fields = list(dict.fromkeys(split_values(raw)))
    unknown = [name for name in fields if name not in SEGMENT_FIELDS]
    if unknown:
        raise invalid(f"unknown field {unknown[0]!r}; use {', '.join(SEGMENT_FIELDS)}")
    return fields


def _confidence(value: float) -> float:
    if not 0.5 <= value <= 0.999:
        raise invalid("must be between 0.5 and 0.999")
    return value


def _sort(value: str) -> str:
    if value.lstrip("-") not in SORT_KEYS or value.count("-") > 1:
        raise invalid(f"must be one of {', '.join(SORT_KEYS)}, optionally prefixed by -")
    return value


def _min_n(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise invalid("must be 0 or more")
    return value


def key_order_only(endpoint: str) -> AfterValidator:
    """For endpoints whose groups come in key order only."""

    def check(value: str) -> str:
        _sort(value)
        if value != "key":
            raise invalid(f"{endpoint} sorts groups by key only")
        return value

    return AfterValidator(check)


GroupBy = Annotated[
    list[str] | None,
    AfterValidator(_group_by),
    Field(
        description=f"Any of {', '.join(SEGMENT_FIELDS)}; repeated or comma-separated.",
        json_schema_extra={"items": {"type": "string", "enum": list(SEGMENT_FIELDS)}},
    ),
]
Weighted = Annotated[bool, Field(description="Use survey weights.")]
Confidence = Annotated[
    float,
    AfterValidator(_confidence),
    Field(
        description="Interval level, 0.5-0.999.",
        json_schema_extra={"minimum": 0.5, "maximum": 0.999},
    ),
]
MinN = Annotated[
    int | None,
    AfterValidator(_min_n),
    Field(
        description="Suppress groups with fewer responses; default from NPS_MIN_N.",
        json_schema_extra={"minimum": 0},
    ),
]
Limit = Annotated[
    int | None, Field(ge=1, description="Keep at most this many groups (after sorting).")
]


class GroupParams(FilterParams):
    """Grouping, weights, interval level, suppression and sorting: every score endpoint's."""

    group_by: GroupBy = None
    weighted: Weighted = False
    confidence: Confidence = 0.95
    min_n: MinN = None
    sort: Annotated[
        str,
        AfterValidator(_sort),
        Field(
            description="`key`, `nps`, `n`, `ci_low` or `ci_high`; prefix `-` for descending.",
            json_schema_extra=SORT_ENUM,
        ),
    ] = "key"
    limit: Limit = None

    def buckets(self) -> Interval | None:
        """The time buckets asked for; none unless the endpoint takes `interval`."""
        return None

    def options(self, default_min_n: int) -> ScoreOptions:
        """The options, `min_n` defaulting to the service's setting."""
        return ScoreOptions(
            interval=self.buckets(),
            group_by=list(self.group_by or []),
            weighted=self.weighted,
            confidence=self.confidence,
            min_n=self.min_n if self.min_n is not None else default_min_n,
            sort=self.sort,
            limit=self.limit,
        )


class ScoreParams(GroupParams):
    """`/v1/scores`: the filters plus buckets, grouping, weights, interval level, sorting."""

    interval: Annotated[
        str | None,
        AfterValidator(_interval),
        Field(
            description="`day`, `week` (ISO, Monday start) or `month`.",
            json_schema_extra=INTERVAL_ENUM,
        ),
    ] = None

    def buckets(self) -> Interval | None:
        return Interval(self.interval) if self.interval else None


def _required_interval(raw: str) -> str:
    if raw not in INTERVALS:
        raise invalid("required: day, week or month")
    return raw


class TrendParams(ScoreParams):
    """`/v1/scores/trend`: `interval` is required, groups come in key order."""

    interval: Annotated[
        str,
        AfterValidator(_required_interval),
        Field(
            description="`day`, `week` (ISO, Monday start) or `month`: the buckets fitted.",
            json_schema_extra=INTERVAL_ENUM,
        ),
    ]
    sort: Annotated[
        str,
        key_order_only("trend"),
        Field(description="`key` only.", json_schema_extra=KEY_SORT_ENUM),
    ] = "key"


class CompareParams(GroupParams):
    """`/v1/scores/compare`: the current range against a baseline range, per group (no
    `interval`: it compares two ranges, so the parameter is unknown here and a 422)."""

    sort: Annotated[
        str,
        key_order_only("compare"),
        Field(description="`key` only.", json_schema_extra=KEY_SORT_ENUM),
    ] = "key"
    baseline_from: Annotated[
        TimeBound,
        Field(
            description="Baseline start (inclusive), like `from`. With `baseline_to` absent "
            "too, the baseline is the period of the same length just before `from`."
        ),
    ] = None
    baseline_to: Annotated[TimeBound, Field(description="Baseline end (exclusive).")] = None

    _baseline: tuple[datetime, datetime] = PrivateAttr()

    @property
    def baseline(self) -> tuple[datetime, datetime]:
        """The baseline's UTC range."""
        return self._baseline

    def _check(self, properties: dict[str, tuple[str, ...]]) -> None:
        super()._check(properties)
        scope = self.scope
        raw_from, raw_to = self.baseline_from, self.baseline_to
        if not raw_from and not raw_to:
            if scope.start is None or scope.end is None:
                detail = (
                    "give baseline_from and baseline_to, or both from and to (the baseline is "
                    "then the period of the same length just before)"
                )
                raise ParameterErrors([("baseline_from", detail)])
            try:
                self._baseline = (scope.start - (scope.end - scope.start), scope.start)
            except OverflowError as exc:
                detail = "the period before 'from' would start before the year 1; give both"
                raise ParameterErrors([("baseline_from", detail)]) from exc
            return
        if not raw_from or not raw_to:
            missing = "baseline_from" if not raw_from else "baseline_to"
            raise ParameterErrors([(missing, "give both baseline bounds")])
        bounds = {}
        for name, raw in (("baseline_from", raw_from), ("baseline_to", raw_to)):
            try:
                bounds[name] = parse_time_bound(raw, scope.tz)
            except (ValueError, OverflowError) as exc:
                raise ParameterErrors([(name, str(exc))]) from exc
        start, end = bounds["baseline_from"], bounds["baseline_to"]
        if start >= end:
            raise ParameterErrors([("baseline_to", "must be after 'baseline_from'")])
        self._baseline = (start, end)
