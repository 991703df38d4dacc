"""Which answers a request covers: the time range, zone, tag and property filters.

`FilterParams` is the query-parameter model that listings, exports and every analytic
endpoint share; it validates all of its parameters in one pass (so one 422 names every
bad one) and yields a `ResponseFilter`, plain data that the storage layer turns into SQL
(`responses.filtering`). Endpoint families extend the model with their own parameters and
cross-checks (`_check`), so each family has one composed parameter dependency.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from nps_service.errors import Forbidden
from nps_service.property_filters import (
    NUL_DETAIL,
    PROPERTY_FILTER_PATTERN,
    PROPERTY_PREFIX,
    property_filters,
)
from nps_service.survey import SEGMENT_FIELDS
from nps_service.timezones import parse_time_bound, parse_time_zone

UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class ResponseFilter:
    """A validated time range (UTC, half-open), display zone and tag filters."""

    start: datetime | None
    end: datetime | None
    tz: ZoneInfo
    segments: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # `property.<key>=<value>`: answers whose property `key` is one of these strings.
    properties: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def echo(self) -> dict[str, object]:
        """The filter as the `query` echo of a scores body shows it."""
        return {
            "from": self.start,
            "to": self.end,
            "tz": self.tz.key,
            "filters": {
                **{name: list(values) for name, values in self.segments.items()},
                **{PROPERTY_PREFIX + key: list(values) for key, values in self.properties.items()},
            },
        }


def invalid(detail: str) -> PydanticCustomError:
    """A parameter error whose message is exactly `detail`."""
    return PydanticCustomError("invalid_parameter", detail)


def split_values(raw: list[str] | None) -> list[str]:
    """Repeated and comma-separated values, flattened, empty items dropped."""
    return [part.strip() for item in raw or [] for part in item.split(",") if part.strip()]


def _segment_values(raw: list[str] | None) -> list[str] | None:
    values = list(dict.fromkeys(split_values(raw)))
    if any(len(value) > 64 for value in values):
        raise invalid("values are at most 64 characters")
    if any("\x00" in value for value in values):
        raise invalid(NUL_DETAIL)
    return values or None


def zone_name(name: str) -> str:
    """A `tz` parameter: an IANA zone name (the name is kept; `parse_time_zone` reads it)."""
    try:
        parse_time_zone(name)
    except ValueError as exc:
        raise invalid(str(exc)) from exc
    return name


def _time_bound(raw: str | None) -> str | None:
    """Syntax only (as UTC); the bound is read in the request's zone once that is known."""
    if raw:
        _parse_bound(raw, UTC_ZONE)
    return raw or None


def _parse_bound(raw: str, zone: ZoneInfo) -> datetime:
    try:
        return parse_time_bound(raw, zone)
    except (ValueError, OverflowError) as exc:
        raise invalid(str(exc)) from exc


SegmentValues = Annotated[
    list[str] | None,
    AfterValidator(_segment_values),
    Field(description="Keep only these values; repeat the parameter or separate with commas."),
]
TimeBound = Annotated[str | None, AfterValidator(_time_bound)]


class ParameterErrors(Exception):
    """Errors a parameter model found across fields, each tied to one parameter."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{name}: {detail}" for name, detail in errors))
        self.errors = errors


def _line(name: str, detail: str, value: object = None) -> InitErrorDetails:
    return InitErrorDetails(type=invalid(detail), loc=(name,), input=value)


class FilterParams(BaseModel):
    """`from`, `to`, `tz`, the tag filters and `property.<key>` filters."""

    # Other parameters are allowed through: `property.<key>` filters have open names.
    model_config = ConfigDict(extra="allow")

    from_: Annotated[
        TimeBound,
        Field(
            alias="from",
            description="Start (inclusive): RFC 3339 datetime, or a date meaning midnight in `tz`.",
        ),
    ] = None
    to: Annotated[
        TimeBound,
        Field(
            description="End (exclusive): RFC 3339 datetime, or a date meaning midnight in `tz`."
        ),
    ] = None
    tz: Annotated[
        str, AfterValidator(zone_name), Field(description="IANA time zone for dates and buckets.")
    ] = "UTC"
    merchant_id: SegmentValues = None
    category: SegmentValues = None
    channel: SegmentValues = None
    region: SegmentValues = None
    platform: SegmentValues = None
    touchpoint: SegmentValues = None
    # `property.<key>=<value>` (API.md) has an open parameter name, which OpenAPI cannot
    # declare; this declared twin carries the same filters for generated clients.
    property_: Annotated[
        list[str] | None,
        Field(
            alias="property",
            description="`<key>=<value>`: keep answers whose property `key` is `value` "
            "(repeat for several; one key's values are alternatives). The same as "
            "`property.<key>=<value>`, which is also accepted.",
            json_schema_extra={"items": {"type": "string", "pattern": PROPERTY_FILTER_PATTERN}},
        ),
    ] = None

    _scope: ResponseFilter = PrivateAttr()

    @property
    def scope(self) -> ResponseFilter:
        """The answers the request covers, as plain data."""
        return self._scope

    @model_validator(mode="wrap")
    @classmethod
    def _validate_together(
        cls, data: Any, handler: ModelWrapValidatorHandler["FilterParams"]
    ) -> "FilterParams":
        """Field errors, property-filter errors and cross-parameter errors, all at once."""
        properties, problems = property_filters(data if isinstance(data, Mapping) else {})
        errors = [_line(name, detail, value) for name, detail, value in problems]
        try:
            params = handler(data)
        except ValidationError as exc:
            # The range can be wrong besides other parameters: say so in the same answer.
            errors += _reversed_range(data if isinstance(data, Mapping) else {})
            raise _merged(cls.__name__, exc, errors) from None
        if not errors:
            try:
                params._check(properties)
            except ParameterErrors as exc:
                errors = [_line(name, detail) for name, detail in exc.errors]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return params

    def _check(self, properties: dict[str, tuple[str, ...]]) -> None:
        """Build the plain data; raise ParameterErrors naming every parameter that fails.

        Subclasses extend this with their own parameters and cross-checks.
        """
        zone = parse_time_zone(self.tz)
        errors: list[tuple[str, str]] = []
        bounds: dict[str, datetime | None] = {}
        for name, raw in (("from", self.from_), ("to", self.to)):
            try:
                bounds[name] = _parse_bound(raw, zone) if raw else None
            except PydanticCustomError as exc:
                errors.append((name, exc.message()))
        start, end = bounds.get("from"), bounds.get("to")
        if start is not None and end is not None and start >= end:
            errors.append(("to", "must be after 'from'"))
        if errors:
            raise ParameterErrors(errors)
        segments = {name: tuple(values) for name, values in self._segments() if values}
        self._scope = ResponseFilter(start, end, zone, segments, properties)

    def _segments(self) -> list[tuple[str, list[str] | None]]:
        return [(name, getattr(self, name)) for name in SEGMENT_FIELDS]


def _reversed_range(data: Mapping[str, Any]) -> list[InitErrorDetails]:
    """An error on `to` when `from` and `to` both parse and are not in order."""
    try:
        zone = parse_time_zone(str(data.get("tz", "UTC")))
    except ValueError:
        zone = UTC_ZONE
    raw_from, raw_to = data.get("from"), data.get("to")
    if not isinstance(raw_from, str) or not isinstance(raw_to, str) or not raw_from or not raw_to:
        return []
    try:
        start, end = parse_time_bound(raw_from, zone), parse_time_bound(raw_to, zone)
    except (ValueError, OverflowError):
        return []  # the field's own error says why
    return [_line("to", "must be after 'from'", raw_to)] if start >= end else []


def _merged(title: str, exc: ValidationError, extra: list[InitErrorDetails]) -> ValidationError:
    """One ValidationError holding a model's field errors and `extra` ones."""
    lines: list[InitErrorDetails] = [
        InitErrorDetails(
            type=PydanticCustomError(error["type"], error["msg"]),
            loc=error["loc"],
            input=error.get("input"),
        )
        for error in exc.errors()
    ]
    return ValidationError.from_exception_data(title, [*lines, *extra])


# Where a request's session carries the merchants its key is limited to (see keys).
MERCHANT_LIMIT = "merchant_limit"


def limited_to_merchants(scope: ResponseFilter, merchants: frozenset[str] | None) -> ResponseFilter:
    """The scope as a merchant-limited key may see it: its merchants only (403 for asking
    for another). Applied where answers are read (the totals engine, listings, exports),
    so every route that reads answers is limited without a check of its own."""
    if merchants is None:
        return scope
    asked = scope.segments.get("merchant_id")
    if asked is not None:
        others = sorted(set(asked) - merchants)
        if others:
            raise Forbidden(f"this key may not read merchant {', '.join(others)}")
        return scope
    return replace(scope, segments={**scope.segments, "merchant_id": tuple(sorted(merchants))})
