"""Merchant governance: rankings within a category and one merchant's scorecard."""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response as HttpResponse
from pydantic_core import to_json

from nps_service.db import SessionDep
from nps_service.errors import FieldError, NotFound
from nps_service.filters import NUL_DETAIL, check_parameters, defer_parameter_errors
from nps_service.keys.dependencies import ReadKey
from nps_service.openapi_docs import problems
from nps_service.scores.merchants import (
    METRIC_NAMES,
    SORT_FIELDS,
    Window,
    merchant_category,
    rank_merchants,
    scorecard,
)
from nps_service.scores.schemas import MerchantList, Scorecard
from nps_service.scores.service import ScoreOptions
from nps_service.timezones import parse_time_zone

router = APIRouter(prefix="/v1/merchants", tags=["merchants"])
UTC_ZONE = parse_time_zone("UTC")
SORT_HELP = (
    "`composite`, `nps`, `ci_low`, `ci_high` or `n` of the overall score, or "
    "`<dimension>.<field>` (e.g. `logistics.ci_low`); `-` for descending. "
    "`-ci_low` keeps tiny samples from the top."
)


def merchant_window(
    request: Request,
    window_days: Annotated[
        int, Query(ge=1, le=366, description="Whole local days in the window.")
    ] = 90,
    end: Annotated[
        str | None,
        Query(description="First day after the window (YYYY-MM-DD, local); default: tomorrow."),
    ] = None,
    tz: Annotated[str, Query(description="IANA time zone of the days.")] = "UTC",
) -> Window:
    """The trailing window: the last `window_days` whole local days before `end`."""
    errors: list[FieldError] = []
    zone = UTC_ZONE
    try:
        zone = parse_time_zone(tz)
    except ValueError as exc:
        errors.append(FieldError(parameter="tz", detail=str(exc)))
    last = datetime.now(zone).date() + timedelta(days=1)
    if end:
        try:
            last = datetime.strptime(end, "%Y-%m-%d").date()
        except ValueError:
            errors.append(FieldError(parameter="end", detail="must be a date, YYYY-MM-DD"))
    if last.year < 1971 or last.year > 9998:
        errors.append(FieldError(parameter="end", detail="must be between 1971 and 9998"))
        last = datetime.now(zone).date()
    defer_parameter_errors(request, errors)
    return Window(window_days, last, zone)


def merchant_options(
    request: Request,
    min_n: Annotated[
        int | None,
        Query(ge=1, description="Rank only merchants with this many answers; default NPS_MIN_N."),
    ] = None,
    weighted: Annotated[bool, Query(description="Use survey weights.")] = False,
    confidence: Annotated[float, Query(ge=0.5, le=0.999, description="Interval level.")] = 0.95,
) -> ScoreOptions:
    return ScoreOptions(
        interval=None,
        group_by=["merchant_id"],
        weighted=weighted,
        confidence=confidence,
        min_n=min_n if min_n is not None else request.app.state.settings.min_n,
        sort="key",
        limit=None,
    )


def _check_ranking(request: Request, parameter: str, value: str) -> None:
    field = value.lstrip("-")
    metric, _, name = field.rpartition(".")
    valid = field == "composite" or (metric in ("", *METRIC_NAMES) and name in SORT_FIELDS)
    if value.count("-") > 1 or not valid:
        detail = "composite, nps, ci_low, ci_high, n, or <dimension>.<field>; optionally with -"
        defer_parameter_errors(request, [FieldError(parameter=parameter, detail=detail)])


def _check_text(request: Request, **values: str | None) -> None:
    errors = [
        FieldError(parameter=name, detail=NUL_DETAIL)
        for name, value in values.items()
        if value is not None and "\x00" in value
    ]
    defer_parameter_errors(request, errors)


WindowDep = Annotated[Window, Depends(merchant_window)]
OptionsDep = Annotated[ScoreOptions, Depends(merchant_options)]


@router.get(
    "",
    name="list",
    response_model=MerchantList,
    summary="A category's merchants ranked over a trailing window",
    responses=problems(401, 403, 422),
)
def list_merchants(
    request: Request,
    session: SessionDep,
    _key: ReadKey,
    window: WindowDep,
    options: OptionsDep,
    category: Annotated[str, Query(min_length=1, max_length=64, description="The category.")],
    sort: Annotated[str, Query(description=SORT_HELP)] = "-nps",
    limit: Annotated[int | None, Query(ge=1, description="Keep the first N.")] = None,
) -> MerchantList | HttpResponse:
    """Merchants with at least `min_n` answers in the window, with overall and dimension
    scores and the composite experience score (weights in `NPS_COMPOSITE_WEIGHTS`, echoed),
    ranked by `sort`."""
    _check_ranking(request, "sort", sort)
    _check_text(request, category=category)
    check_parameters(request)
    weights = request.app.state.settings.composite_weights
    ranked = rank_merchants(session, category, window, options, weights, sort)
    body = {
        "query": {
            "category": category,
            "from": window.start_utc,
            "to": window.end_utc,
            "window_days": window.days,
            "tz": window.tz.key,
            "sort": sort,
            "min_n": options.min_n,
            "weighted": options.weighted,
            "confidence": options.confidence,
            "limit": limit,
            "composite_weights": weights,
            "merchants_ranked": len(ranked),
        },
        "merchants": ranked[:limit] if limit else ranked,
    }
    return HttpResponse(to_json(body), media_type="application/json")


@router.get(
    "/{merchant_id}/scorecard",
    name="scorecard",
    response_model=Scorecard,
    summary="One merchant over a trailing window: scores, composite, rank, change",
    responses=problems(401, 403, 404, 422),
)
def get_scorecard(
    request: Request,
    session: SessionDep,
    _key: ReadKey,
    window: WindowDep,
    options: OptionsDep,
    merchant_id: Annotated[str, Path(min_length=1, max_length=64)],
    category: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="Rank within this category; default: where most of the merchant's "
            "answers in the window are.",
        ),
    ] = None,
    rank_by: Annotated[str, Query(description=SORT_HELP)] = "-nps",
) -> Scorecard | HttpResponse:
    """The merchant's overall and dimension NPS with intervals, its rank and percentile
    among the category's merchants meeting `min_n`, the composite experience score, and the
    change against the window before with its significance."""
    _check_ranking(request, "rank_by", rank_by)
    _check_text(request, merchant_id=merchant_id, category=category)
    check_parameters(request)
    chosen = category or merchant_category(session, merchant_id, window)
    if chosen is None:
        raise NotFound(f"merchant {merchant_id!r} has no answers in the window; widen window_days")
    weights = request.app.state.settings.composite_weights
    card = scorecard(session, merchant_id, chosen, window, options, weights, rank_by)
    return HttpResponse(to_json(card), media_type="application/json")
