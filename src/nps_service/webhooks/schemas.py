"""Bodies of webhook endpoints and deliveries (API.md, "Webhooks and alerts")."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator

from nps_service.responses.schemas import ContextValue, StrictModel, Text
from nps_service.survey import CONTEXT_FIELDS

EventType = Literal["response.created", "response.detractor", "alert.triggered"]
Tag = Literal["merchant_id", "category", "channel", "region", "platform", "touchpoint", "order_id"]
assert set(Tag.__args__) == set(CONTEXT_FIELDS)  # type: ignore[attr-defined]
MAX_FILTER_VALUES = 100


def _web_url(value: str) -> str:
    lowered = value.lower()
    if not (lowered.startswith("https://") or lowered.startswith("http://")):
        raise ValueError("must be an http:// or https:// URL")
    if any(c.isspace() for c in value):
        raise ValueError("must not contain spaces")
    return value


Url = Annotated[Text, Field(min_length=10, max_length=2048), AfterValidator(_web_url)]
Events = Annotated[list[EventType], Field(min_length=1, max_length=3)]
Filters = dict[
    Tag, Annotated[list[ContextValue], Field(min_length=1, max_length=MAX_FILTER_VALUES)]
]


def _distinct(value: list[str] | None) -> list[str] | None:
    return None if value is None else list(dict.fromkeys(value))


class WebhookIn(StrictModel):
    """A new endpoint."""

    url: Url = Field(description="Where events are POSTed (http or https).")
    events: Events = Field(description="The event types to send.")
    filters: Filters = Field(
        default_factory=dict,
        description="Answers' events only for answers with these tag values (every tag "
        "listed must match one of its values); alert events are not filtered.",
    )
    description: Annotated[Text, Field(max_length=1000)] | None = None

    _unique = field_validator("events")(_distinct)


class WebhookPatch(StrictModel):
    """Fields to change; `enabled: true` re-enables an endpoint the service disabled."""

    url: Url | None = None
    events: Events | None = None
    filters: Filters | None = None
    description: Annotated[Text, Field(max_length=1000)] | None = None
    enabled: bool | None = None

    _unique = field_validator("events")(_distinct)


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    filters: dict[str, list[str]]
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why the service disabled it (the receiver answered 410 Gone)."
    )
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="`whsec_...`: the signing secret, shown only here.")


class WebhookPage(BaseModel):
    items: list[WebhookOut]
    next_cursor: str | None


class DeliveryOut(BaseModel):
    """One event for one endpoint, and how its attempts went."""

    id: str = Field(description="The `webhook-id` header of every attempt.")
    event: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
