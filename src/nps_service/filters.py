"""The query parameters shared by response listings and scores: time range, zone, tags."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query, Request
from sqlalchemy import ColumnElement, and_

from nps_service.errors import FieldError, InvalidInput
from nps_service.properties import KEY, PREFIX, property_condition
from nps_service.responses.models import SEGMENT_FIELDS, Response
from nps_service.timezones import parse_time_bound, parse_time_zone

# No stored text can hold NUL (PostgreSQL refuses it even in a comparison).
NUL_DETAIL = "must not contain NUL characters"

SegmentValues = Annotated[
    list[str] | None,
    Query(description="Keep only these values; repeat the parameter or separate with commas."),
]


@dataclass(frozen=True)
class ResponseFilter:
    """A validated time range (UTC, half-open), display zone and tag filters."""

    start: datetime | None
    end: datetime | None
    tz: ZoneInfo
    segments: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # `property.<key>=<value>`: answers whose property `key` is one of these strings.
    properties: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def where(self) -> list[ColumnElement[bool]]:
        """SQL conditions selecting the responses in scope."""
        conditions: list[ColumnElement[bool]] = []
        if self.start is not None:
            conditions.append(Response.submitted_at >= self.start)
        if self.end is not None:
            conditions.append(Response.submitted_at < self.end)
        for name, values in self.segments.items():
            column = getattr(Response, name)
            conditions.append(column == values[0] if len(values) == 1 else column.in_(values))
        conditions += [property_condition(key, values) for key, values in self.properties.items()]
        return conditions

    def clause(self) -> ColumnElement[bool]:
        return and_(True, *self.where())

    def echo(self) -> dict[str, object]:
        """The filter as the `query` echo of a scores body shows it."""
        return {
            "from": self.start,
            "to": self.end,
            "tz": self.tz.key,
            "filters": {
                **{name: list(values) for name, values in self.segments.items()},
                **{PREFIX + key: list(values) for key, values in self.properties.items()},
            },
        }


def defer_parameter_errors(request: Request, errors: list[FieldError]) -> None:
    """Remember bad parameters so that one 422 can name all of them, not just the first."""
    request.state.parameter_errors = [*deferred_parameter_errors(request), *errors]


def deferred_parameter_errors(request: Request) -> list[FieldError]:
    """Errors recorded by `defer_parameter_errors` for this request."""
    return list(getattr(request.state, "parameter_errors", []))


def check_parameters(request: Request) -> None:
    """Called first thing in an endpoint: one 422 naming every deferred error."""
    errors = deferred_parameter_errors(request)
    if errors:
        summary = "; ".join(f"{e.parameter}: {e.detail}" for e in errors)
        raise InvalidInput(summary, errors=errors)


def split_values(raw: list[str] | None) -> list[str]:
    """Repeated and comma-separated values, flattened, empty items dropped."""
    return [part.strip() for item in raw or [] for part in item.split(",") if part.strip()]


def response_filter(
    request: Request,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            description="Start (inclusive): RFC 3339 datetime, or a date meaning midnight in `tz`.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            description="End (exclusive): RFC 3339 datetime, or a date meaning midnight in `tz`."
        ),
    ] = None,
    tz: Annotated[str, Query(description="IANA time zone for dates and buckets.")] = "UTC",
    merchant_id: SegmentValues = None,
    category: SegmentValues = None,
    channel: SegmentValues = None,
    region: SegmentValues = None,
    platform: SegmentValues = None,
    touchpoint: SegmentValues = None,
) -> ResponseFilter:
    """Parse and validate the shared filter parameters (422 names each bad one)."""
    errors: list[FieldError] = []
    zone = ZoneInfo("UTC")
    try:
        zone = parse_time_zone(tz)
    except ValueError as exc:
        errors.append(FieldError(parameter="tz", detail=str(exc)))
    bounds: dict[str, datetime | None] = {"from": None, "to": None}
    for name, raw in (("from", from_), ("to", to)):
        if raw is None or raw == "":
            continue
        try:
            bounds[name] = parse_time_bound(raw, zone)
        except (ValueError, OverflowError) as exc:
            errors.append(FieldError(parameter=name, detail=str(exc)))
    start, end = bounds["from"], bounds["to"]
    if start is not None and end is not None and start >= end:
        errors.append(FieldError(parameter="to", detail="must be after 'from'"))
    raw_segments = dict(
        zip(
            SEGMENT_FIELDS,
            (merchant_id, category, channel, region, platform, touchpoint),
            strict=True,
        )
    )
    segments: dict[str, tuple[str, ...]] = {}
    for name, raw_values in raw_segments.items():
        values = split_values(raw_values)
        for value in values:
            if len(value) > 64:
                errors.append(FieldError(parameter=name, detail="values are at most 64 characters"))
            if "\x00" in value:
                errors.append(FieldError(parameter=name, detail=NUL_DETAIL))
        if values:
            segments[name] = tuple(dict.fromkeys(values))
    properties: dict[str, tuple[str, ...]] = {}
    for name, value in request.query_params.multi_items():
        if not name.startswith(PREFIX):
            continue
        key = name[len(PREFIX) :]
        if not KEY.match(key):
            errors.append(
                FieldError(
                    parameter=name,
                    detail="property keys to filter on are 1-64 letters, digits or _ - . : /",
                )
            )
        elif not 1 <= len(value) <= 1000:
            errors.append(FieldError(parameter=name, detail="give a value of 1-1000 characters"))
        elif "\x00" in value:
            errors.append(FieldError(parameter=name, detail=NUL_DETAIL))
        else:
            properties[key] = (*properties.get(key, ()), value)
    defer_parameter_errors(request, errors)
    return ResponseFilter(start=start, end=end, tz=zone, segments=segments, properties=properties)
