"""The query parameters of the merchant endpoints, validated together (one 422 names all)."""

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from nps_service.filters import invalid, zone_name
from nps_service.merchants.window import Window
from nps_service.property_filters import NUL_DETAIL
from nps_service.scores.params import ScoreOptions
from nps_service.survey import METRICS
from nps_service.timezones import parse_time_zone

# The fields of a metric a ranking can sort by.
SORT_FIELDS = ("nps", "ci_low", "ci_high", "n")
SORT_HELP = (
    "`composite`, `nps`, `ci_low`, `ci_high` or `n` of the overall score, or "
    "`<dimension>.<field>` (e.g. `logistics.ci_low`); `-` for descending. "
    "`-ci_low` keeps tiny samples from the top."
)


def _ranking(value: str) -> str:
    field = value.lstrip("-")
    metric, _, name = field.rpartition(".")
    valid = field == "composite" or (metric in ("", *METRICS) and name in SORT_FIELDS)
    if value.count("-") > 1 or not valid:
        raise invalid(
            "composite, nps, ci_low, ci_high, n, or <dimension>.<field>; optionally with -"
        )
    return value


def no_nul(value: str | None) -> str | None:
    """Tags and ids can hold no NUL character (PostgreSQL refuses it even in a comparison)."""
    if value is not None and "\x00" in value:
        raise invalid(NUL_DETAIL)
    return value


def _end(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        last = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError as exc:
        raise invalid("must be a date, YYYY-MM-DD") from exc
    if last.year < 1971 or last.year > 9998:
        raise invalid("must be between 1971 and 9998")
    return raw


# Every accepted value, as the enumeration generated clients and BI tools offer.
RANKINGS = [
    f"{sign}{field}"
    for field in (
        "composite",
        *SORT_FIELDS,
        *(f"{metric}.{name}" for metric in METRICS for name in SORT_FIELDS),
    )
    for sign in ("", "-")
]
Ranking = Annotated[
    str,
    AfterValidator(_ranking),
    Field(description=SORT_HELP, json_schema_extra={"enum": RANKINGS}),
]
Tag = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(no_nul)]


class WindowParams(BaseModel):
    """The trailing window and how merchants are scored in it."""

    window_days: Annotated[
        int, Field(ge=1, le=366, description="Whole local days in the window.")
    ] = 90
    end: Annotated[
        str | None,
        AfterValidator(_end),
        Field(description="First day after the window (YYYY-MM-DD, local); default: tomorrow."),
    ] = None
    tz: Annotated[
        str, AfterValidator(zone_name), Field(description="IANA time zone of the days.")
    ] = "UTC"
    min_n: Annotated[
        int | None,
        Field(ge=1, description="Rank only merchants with this many answers; default NPS_MIN_N."),
    ] = None
    weighted: Annotated[bool, Field(description="Use survey weights.")] = False
    confidence: Annotated[float, Field(ge=0.5, le=0.999, description="Interval level.")] = 0.95

    def window(self) -> Window:
        """The last `window_days` whole local days before `end` (default: tomorrow)."""
        zone = parse_time_zone(self.tz)
        if self.end:
            last: date = datetime.strptime(self.end, "%Y-%m-%d").date()
        else:
            last = datetime.now(zone).date() + timedelta(days=1)
        return Window(self.window_days, last, zone)

    def options(self, default_min_n: int) -> ScoreOptions:
        """Merchants are scored as one group each, `min_n` defaulting to the setting."""
        return ScoreOptions(
            interval=None,
            group_by=["merchant_id"],
            weighted=self.weighted,
            confidence=self.confidence,
            min_n=self.min_n if self.min_n is not None else default_min_n,
            sort="key",
            limit=None,
        )


class MerchantListParams(WindowParams):
    """`/v1/merchants`: one category's merchants, ranked."""

    category: Annotated[Tag, Field(description="The category.")]
    sort: Ranking = "-nps"
    limit: Annotated[int | None, Field(ge=1, description="Keep the first N.")] = None


class ScorecardParams(WindowParams):
    """`/v1/merchants/{id}/scorecard`: one merchant, ranked within its category."""

    category: Annotated[
        Tag | None,
        Field(
            description="Rank within this category; default: where most of the merchant's "
            "answers in the window are."
        ),
    ] = None
    rank_by: Ranking = "-nps"
