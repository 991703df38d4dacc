"""Bodies of displays, declines, eligibility and contact rules (API.md, "Surveying in the
browser"), validated like answers: unknown fields refused, tags in the answers' alphabet."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from nps_service.responses.schemas import (
    Context,
    ContextOut,
    ContextValue,
    StrictModel,
    Text,
    plausible_time,
    require_string,
)

RespondentId = Annotated[Text, Field(min_length=1, max_length=128)]
# Ten years: a quiet period longer than that is a typo, not a rule.
MAX_DAYS = 3650
Days = Annotated[float, Field(ge=0, le=MAX_DAYS, allow_inf_nan=False)]
SampleRate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
MAX_TOUCHPOINT_RULES = 200


class DisplayIn(StrictModel):
    """The prompt was shown to someone."""

    id: Annotated[uuid.UUID | None, BeforeValidator(require_string)] = Field(
        None, description="Client-generated idempotency key; the server assigns one if absent."
    )
    respondent_id: RespondentId
    touchpoint: ContextValue | None = Field(
        None, description="Where it was shown; `context.touchpoint` is the same field."
    )
    context: Context | None = None
    shown_at: Annotated[datetime | None, BeforeValidator(require_string)] = Field(
        None, description="RFC 3339 with offset; defaults to the time of receipt."
    )

    _plausible = field_validator("shown_at")(plausible_time)

    @model_validator(mode="after")
    def _one_touchpoint(self) -> "DisplayIn":
        inner = self.context.touchpoint if self.context else None
        if self.touchpoint is not None and inner is not None and inner != self.touchpoint:
            raise ValueError("touchpoint and context.touchpoint differ; send one of them")
        return self

    @property
    def where(self) -> str | None:
        """The touchpoint, from either field."""
        return self.touchpoint or (self.context.touchpoint if self.context else None)


class DeclineIn(StrictModel):
    """Optional body of a decline: `{}`, or when it happened (imports of past declines)."""

    declined_at: Annotated[datetime | None, BeforeValidator(require_string)] = Field(
        None, description="RFC 3339 with offset; defaults to the time of receipt."
    )

    _plausible = field_validator("declined_at")(plausible_time)


class DisplayOut(BaseModel):
    """A stored display: declined (`declined_at`), answered (`response_id`) or neither."""

    id: uuid.UUID
    respondent_id: str | None = Field(description="Null once retention removed it.")
    touchpoint: str | None
    context: ContextOut
    shown_at: datetime
    declined_at: datetime | None
    response_id: uuid.UUID | None
    received_at: datetime


Reason = Literal["answered_recently", "declined_recently", "shown_recently", "not_sampled"]


class EligibilityOut(BaseModel):
    """Whether to show the prompt to this person at this touchpoint now."""

    eligible: bool
    reason: Reason | None = Field(
        description="A quiet period that is running (the one that ends last), or "
        "`not_sampled`; null when eligible."
    )
    next_eligible_at: datetime | None = Field(
        description="When the last running quiet period ends; null when eligible or when "
        "not sampled (sampling does not change with time)."
    )


class TouchpointRules(StrictModel):
    """Overrides for one touchpoint: any of the quiet periods and the sample rate."""

    after_response_days: Days | None = None
    after_decline_days: Days | None = None
    after_display_days: Days | None = None
    sample_rate: SampleRate | None = None


class ContactRulesIn(StrictModel):
    """The whole rule set (PUT replaces it; an omitted field takes its default)."""

    after_response_days: Days = Field(90, description="Quiet days after an answer.")
    after_decline_days: Days = Field(30, description="Quiet days after a decline.")
    after_display_days: Days = Field(
        7, description="Quiet days after a display neither answered nor declined."
    )
    sample_rate: SampleRate = Field(
        1.0, description="Share of eligible people asked (deterministic per person and place)."
    )
    across_touchpoints: bool = Field(
        True, description="Whether events at every touchpoint count, or only at the asked one."
    )
    touchpoints: dict[ContextValue, TouchpointRules] = Field(
        default_factory=dict, description="Overrides per touchpoint."
    )

    @field_validator("touchpoints")
    @classmethod
    def _few_touchpoints(cls, value: dict[str, TouchpointRules]) -> dict[str, TouchpointRules]:
        if len(value) > MAX_TOUCHPOINT_RULES:
            raise ValueError(f"at most {MAX_TOUCHPOINT_RULES} touchpoints")
        return value


class ContactRulesOut(ContactRulesIn):
    """The rules in force."""

    model_config = ConfigDict(extra="ignore")
