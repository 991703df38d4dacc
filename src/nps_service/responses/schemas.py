"""Request and response bodies for survey answers, with every validation rule of API.md."""

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    field_validator,
)

from nps_service.survey import CONTEXT_VALUE_PATTERN, CONTEXT_VALUE_SCHEMA

# Clients may be up to five minutes ahead of the server clock (API.md).
FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST_SUBMITTED_AT = datetime(1970, 1, 1, tzinfo=UTC)
MAX_PROPERTIES = 32
MAX_PROPERTY_TEXT = 256
# Finite is not enough: Σw² over many answers must not overflow a double (1e12² · 1e8 rows).
MAX_WEIGHT = 1e12


def _storable_text(value: str) -> str:
    """Reject strings no database can store: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode (lone surrogate found)") from exc
    return value


def require_string(value: Any) -> Any:
    if not isinstance(value, str | uuid.UUID | datetime):
        raise ValueError("must be a string")
    return value


Text = Annotated[StrictStr, AfterValidator(_storable_text)]
Rating = Annotated[StrictInt, Field(ge=0, le=10)]
ContextValue = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=64,
        pattern=CONTEXT_VALUE_PATTERN,
        description="1-64 letters, digits or _ - . : /",
        json_schema_extra=CONTEXT_VALUE_SCHEMA,
    ),
]


def _property_value(value: Any) -> str | bool | int | float:
    # One validator instead of a union, so errors point at /properties/<key> and say why.
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers must be finite")
        return value
    if isinstance(value, str):
        if len(value) > MAX_PROPERTY_TEXT:
            raise ValueError(f"strings are at most {MAX_PROPERTY_TEXT} characters")
        return _storable_text(value)
    raise ValueError("must be a string, a number or a boolean")


def _number(value: Any) -> Any:
    # JSON numbers only: no "1", no true (which Python would treat as 1).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return value


PropertyValue = Annotated[
    Any,
    BeforeValidator(_property_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": MAX_PROPERTY_TEXT},
                {"type": "number"},
                {"type": "boolean"},
            ],
            "description": "a string (at most 256 characters), a number or a boolean",
        }
    ),
]
Weight = Annotated[
    float,
    # Bounds before the validator: after it, pydantic writes them as `gt`/`le` keys
    # that are not JSON Schema, and every generator dropped them.
    Field(gt=0, le=MAX_WEIGHT, allow_inf_nan=False),
    BeforeValidator(_number),
]


def plausible_time(value: datetime | None) -> datetime | None:
    """A client-given time: with an offset, not before 1970, not ahead of our clock by
    more than FUTURE_TOLERANCE; as UTC."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a UTC offset, e.g. 2026-11-20T10:00:00+08:00")
    if value < EARLIEST_SUBMITTED_AT:
        raise ValueError("must not be before 1970-01-01")
    if value > datetime.now(UTC) + FUTURE_TOLERANCE:
        raise ValueError("must not be more than 5 minutes in the future")
    return value.astimezone(UTC)


class StrictModel(BaseModel):
    """Unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Dimensions(StrictModel):
    """Optional 0-10 ratings of the four experience dimensions; absent is not 0."""

    logistics: Rating | None = None
    product: Rating | None = None
    service: Rating | None = None
    app: Rating | None = None


class Context(StrictModel):
    """Tags that scores filter and group by."""

    merchant_id: ContextValue | None = None
    category: ContextValue | None = None
    channel: ContextValue | None = None
    region: ContextValue | None = None
    platform: ContextValue | None = None
    touchpoint: ContextValue | None = None
    order_id: ContextValue | None = None


class ResponseIn(StrictModel):
    """One survey answer as a client posts it."""

    id: Annotated[uuid.UUID | None, BeforeValidator(require_string)] = Field(
        None, description="Client-generated idempotency key; the server assigns one if absent."
    )
    respondent_id: Annotated[Text, Field(min_length=1, max_length=128)]
    score: Rating = Field(description="The overall 0-10 likelihood to recommend.")
    dimensions: Dimensions | None = None
    comment: Annotated[Text, Field(max_length=2000)] | None = None
    context: Context | None = None
    weight: Weight | None = Field(
        None, description="Survey weight, > 0 and at most 1e12; 1 when absent."
    )
    properties: dict[Annotated[Text, Field(min_length=1, max_length=64)], PropertyValue] | None = (
        Field(None, description="At most 32 free-form key/value pairs.")
    )
    submitted_at: Annotated[datetime | None, BeforeValidator(require_string)] = Field(
        None, description="RFC 3339 with offset; defaults to the time of receipt."
    )
    display_id: Annotated[uuid.UUID | None, BeforeValidator(require_string)] = Field(
        None, description="The display (`POST /v1/displays`) this answers, if any."
    )

    @field_validator("properties")
    @classmethod
    def _few_properties(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(value) > MAX_PROPERTIES:
            raise ValueError(f"at most {MAX_PROPERTIES} properties, got {len(value)}")
        return value

    _plausible = field_validator("submitted_at")(plausible_time)


class BatchIn(StrictModel):
    """Up to 1000 answers stored atomically."""

    responses: list[ResponseIn] = Field(min_length=1, max_length=1000)


class BatchOut(BaseModel):
    """What a batch stored: new rows, recognised retries, and every id in request order."""

    created: int
    duplicates: int
    ids: list[uuid.UUID]


class DimensionsOut(BaseModel):
    logistics: int | None
    product: int | None
    service: int | None
    app: int | None


class ContextOut(BaseModel):
    merchant_id: str | None
    category: str | None
    channel: str | None
    region: str | None
    platform: str | None
    touchpoint: str | None
    order_id: str | None


class ResponseOut(BaseModel):
    """A stored answer; absent dimensions and context fields are null."""

    id: uuid.UUID
    respondent_id: str | None = Field(description="Null once retention removed it.")
    score: int
    dimensions: DimensionsOut
    comment: str | None
    context: ContextOut
    weight: float
    properties: dict[str, Any]
    submitted_at: datetime
    received_at: datetime
    display_id: uuid.UUID | None = None


class ResponsePage(BaseModel):
    """One page of a newest-first listing."""

    items: list[ResponseOut]
    next_cursor: str | None
