"""GET /v1/merchants: merchant rankings within a category, for merchant governance."""

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response as HttpResponse
from pydantic_core import to_json
from sqlalchemy.orm import Session

from nps_service.db import get_session
from nps_service.errors import FieldError
from nps_service.filters import check_parameters, defer_parameter_errors
from nps_service.keys.dependencies import ReadKey
from nps_service.openapi_docs import problems
from nps_service.scores.merchants import METRIC_NAMES, SORT_FIELDS, Window, rank_merchants
from nps_service.scores.schemas import MerchantList
from nps_service.scores.service import ScoreOptions
from nps_service.timezones import parse_time_zone

router = APIRouter(prefix="/v1/merchants", tags=["merchants"])
UTC_ZONE = parse_time_zone("UTC")


@router.get(
    "",
    name="list",
    response_model=MerchantList,
    summary="A category's merchants ranked over a trailing window",
    responses=problems(401, 403, 422),
)
def list_merchants(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    _key: ReadKey,
    category: Annotated[str, Query(min_length=1, max_length=64, description="The category.")],
    window_days: Annotated[
        int, Query(ge=1, le=366, description="Whole local days in the window.")
    ] = 90,
    end: Annotated[
        date | None,
        Query(description="First day after the window (local date); default: tomorrow in tz."),
    ] = None,
    tz: Annotated[str, Query(description="IANA time zone of the days.")] = "UTC",
    sort: Annotated[
        str,
        Query(
            description="`composite`, `nps`, `ci_low`, `ci_high` or `n` of the overall score, "
            "or `<dimension>.<field>` (e.g. `logistics.ci_low`); `-` for descending. "
            "`-ci_low` keeps tiny samples from the top."
        ),
    ] = "-nps",
    min_n: Annotated[
        int | None,
        Query(ge=1, description="Only merchants with this many answers; default NPS_MIN_N."),
    ] = None,
    weighted: Annotated[bool, Query(description="Use survey weights.")] = False,
    confidence: Annotated[float, Query(ge=0.5, le=0.999, description="Interval level.")] = 0.95,
    limit: Annotated[int | None, Query(ge=1, description="Keep the first N.")] = None,
) -> MerchantList | HttpResponse:
    """Merchants with at least `min_n` answers in the window, with overall and dimension
    scores and the composite experience score (weights in `NPS_COMPOSITE_WEIGHTS`, echoed),
    ranked by `sort`."""
    errors: list[FieldError] = []
    zone = UTC_ZONE
    try:
        zone = parse_time_zone(tz)
    except ValueError as exc:
        errors.append(FieldError(parameter="tz", detail=str(exc)))
    field = sort.lstrip("-")
    metric, _, name = field.rpartition(".")
    if sort.count("-") > 1 or not (
        field == "composite" or (metric in ("", *METRIC_NAMES) and name in SORT_FIELDS)
    ):
        errors.append(
            FieldError(
                parameter="sort",
                detail="composite, nps, ci_low, ci_high, n, or <dimension>.<field>; "
                "optionally prefixed by -",
            )
        )
    defer_parameter_errors(request, errors)
    check_parameters(request)
    settings = request.app.state.settings
    last_day = end or (datetime.now(zone).date() + timedelta(days=1))
    window = Window(window_days, last_day, zone)
    options = ScoreOptions(
        interval=None,
        group_by=["merchant_id"],
        weighted=weighted,
        confidence=confidence,
        min_n=min_n if min_n is not None else settings.min_n,
        sort="key",
        limit=None,
    )
    weights = settings.composite_weights
    ranked = rank_merchants(session, category, window, options, weights, sort)
    body = {
        "query": {
            "category": category,
            "from": window.start_utc.isoformat().replace("+00:00", "Z"),
            "to": window.end_utc.isoformat().replace("+00:00", "Z"),
            "window_days": window_days,
            "tz": zone.key,
            "sort": sort,
            "min_n": options.min_n,
            "weighted": weighted,
            "confidence": confidence,
            "limit": limit,
            "composite_weights": weights,
            "merchants_ranked": len(ranked),
        },
        "merchants": ranked[:limit] if limit else ranked,
    }
    return HttpResponse(to_json(body), media_type="application/json")
