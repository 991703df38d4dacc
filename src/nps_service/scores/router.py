"""GET /v1/scores: the global NPS and its breakdowns, as JSON or CSV."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response as HttpResponse
from pydantic_core import to_json

from nps_service.db import SessionDep
from nps_service.errors import FieldError
from nps_service.filters import (
    ResponseFilter,
    check_parameters,
    defer_parameter_errors,
    response_filter,
    split_values,
)
from nps_service.keys.dependencies import ReadKey
from nps_service.openapi_docs import problems
from nps_service.responses.models import SEGMENT_FIELDS
from nps_service.scores.buckets import Interval
from nps_service.scores.compare import compute_comparison
from nps_service.scores.csv_export import scores_csv
from nps_service.scores.schemas import CompareOut, ScoresOut, TrendOut
from nps_service.scores.service import ScoreOptions, compute_scores
from nps_service.scores.trend import compute_trend
from nps_service.timezones import parse_time_bound

router = APIRouter(prefix="/v1/scores", tags=["scores"])
SORT_KEYS = ("key", "nps", "n", "ci_low", "ci_high")
CSV_MEDIA_TYPE = "text/csv"


def score_options(
    request: Request,
    interval: Annotated[
        str | None, Query(description="`day`, `week` (ISO, Monday start) or `month`.")
    ] = None,
    group_by: Annotated[
        list[str] | None,
        Query(description=f"Any of {', '.join(SEGMENT_FIELDS)}; repeated or comma-separated."),
    ] = None,
    weighted: Annotated[bool, Query(description="Use survey weights.")] = False,
    confidence: Annotated[float, Query(description="Interval level, 0.5-0.999.")] = 0.95,
    min_n: Annotated[
        int | None,
        Query(description="Suppress groups with fewer responses; default from NPS_MIN_N."),
    ] = None,
    sort: Annotated[
        str,
        Query(description="`key`, `nps`, `n`, `ci_low` or `ci_high`; prefix `-` for descending."),
    ] = "key",
    limit: Annotated[
        int | None, Query(ge=1, description="Keep at most this many groups (after sorting).")
    ] = None,
) -> ScoreOptions:
    """Validate the score-specific parameters; 422 names every bad one."""
    errors: list[FieldError] = []
    parsed_interval = None
    if interval:
        try:
            parsed_interval = Interval(interval)
        except ValueError:
            errors.append(FieldError(parameter="interval", detail="must be day, week or month"))
    fields = list(dict.fromkeys(split_values(group_by)))
    for name in fields:
        if name not in SEGMENT_FIELDS:
            errors.append(
                FieldError(
                    parameter="group_by",
                    detail=f"unknown field {name!r}; use {', '.join(SEGMENT_FIELDS)}",
                )
            )
    if not 0.5 <= confidence <= 0.999:
        errors.append(FieldError(parameter="confidence", detail="must be between 0.5 and 0.999"))
    if sort.lstrip("-") not in SORT_KEYS or sort.count("-") > 1:
        errors.append(
            FieldError(
                parameter="sort",
                detail=f"must be one of {', '.join(SORT_KEYS)}, optionally prefixed by -",
            )
        )
    if min_n is not None and min_n < 0:
        errors.append(FieldError(parameter="min_n", detail="must be 0 or more"))
    defer_parameter_errors(request, errors)
    return ScoreOptions(
        interval=parsed_interval,
        group_by=fields,
        weighted=weighted,
        confidence=confidence,
        min_n=min_n if min_n is not None else request.app.state.settings.min_n,
        sort=sort,
        limit=limit,
    )


def _wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return CSV_MEDIA_TYPE in accept and "application/json" not in accept


@router.get(
    "",
    name="get",
    response_model=ScoresOut,
    summary="Global NPS and its breakdowns",
    responses={
        200: {
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
            "description": "JSON, or CSV with `Accept: text/csv` or `format=csv`",
        },
        **problems(401, 403, 422),
    },
)
def get_scores(
    request: Request,
    session: SessionDep,
    _key: ReadKey,
    scope: Annotated[ResponseFilter, Depends(response_filter)],
    options: Annotated[ScoreOptions, Depends(score_options)],
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="Overrides the Accept header.")
    ] = None,
) -> ScoresOut | HttpResponse:
    """With no `interval` and no `group_by`: one group with an empty key, the global NPS."""
    check_parameters(request)
    result = compute_scores(session, scope, options)
    if _wants_csv(request, format):
        key_columns = (["bucket"] if options.interval else []) + options.group_by
        return HttpResponse(
            scores_csv(result["groups"], key_columns),
            media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="scores.csv"'},
        )
    # Serialised once by pydantic-core, not re-validated against the response model
    # (tests check the body against the OpenAPI schema).
    return HttpResponse(to_json(result), media_type="application/json")


@router.get(
    "/trend",
    name="trend",
    response_model=TrendOut,
    summary="Is the NPS rising or falling? Weighted least-squares slope per group and metric",
    responses=problems(401, 403, 422),
)
def get_trend(
    request: Request,
    session: SessionDep,
    _key: ReadKey,
    scope: Annotated[ResponseFilter, Depends(response_filter)],
    options: Annotated[ScoreOptions, Depends(score_options)],
) -> TrendOut | HttpResponse:
    """The buckets of `/v1/scores` (`interval` required) for each `group_by` group; each
    metric's NPS per bucket is fitted against time with weights 1/SE² (adjusted Wald), so
    a small bucket moves the line less. `slope` is in NPS points per bucket."""
    errors = []
    if options.interval is None:
        errors.append(FieldError(parameter="interval", detail="required: day, week or month"))
    if options.sort != "key":
        errors.append(FieldError(parameter="sort", detail="trend sorts groups by key only"))
    defer_parameter_errors(request, errors)
    check_parameters(request)
    assert options.interval is not None  # check_parameters raised otherwise
    result = compute_trend(session, scope, options, options.interval)
    return HttpResponse(to_json(result), media_type="application/json")


@router.get(
    "/compare",
    name="compare",
    response_model=CompareOut,
    summary="The current period against a baseline: change, interval and significance",
    responses=problems(401, 403, 422),
)
def get_comparison(
    request: Request,
    session: SessionDep,
    _key: ReadKey,
    scope: Annotated[ResponseFilter, Depends(response_filter)],
    options: Annotated[ScoreOptions, Depends(score_options)],
    baseline_from: Annotated[
        str | None,
        Query(
            description="Baseline start (inclusive), like `from`. With `baseline_to` absent "
            "too, the baseline is the period of the same length just before `from`."
        ),
    ] = None,
    baseline_to: Annotated[str | None, Query(description="Baseline end (exclusive).")] = None,
) -> CompareOut | HttpResponse:
    """Groups as in `/v1/scores` (filters, `group_by`), each metric with `current`,
    `baseline`, `delta`, its interval, `z`, `p_value` and the Holm-adjusted p-value."""
    baseline = _baseline_range(request, scope, options, baseline_from, baseline_to)
    check_parameters(request)
    assert baseline is not None  # check_parameters raised otherwise
    result = compute_comparison(session, scope, baseline, options)
    return HttpResponse(to_json(result), media_type="application/json")


def _baseline_range(
    request: Request,
    scope: ResponseFilter,
    options: ScoreOptions,
    raw_from: str | None,
    raw_to: str | None,
) -> tuple[datetime, datetime] | None:
    """The baseline's UTC range, or None after deferring errors that say why."""
    errors: list[FieldError] = []
    if options.interval is not None:
        errors.append(
            FieldError(
                parameter="interval",
                detail="compare takes no interval: it compares two ranges; use group_by",
            )
        )
    if options.sort != "key":
        errors.append(FieldError(parameter="sort", detail="compare sorts groups by key only"))
    bounds: dict[str, datetime | None] = {"baseline_from": None, "baseline_to": None}
    for name, raw in (("baseline_from", raw_from), ("baseline_to", raw_to)):
        if raw:
            try:
                bounds[name] = parse_time_bound(raw, scope.tz)
            except (ValueError, OverflowError) as exc:
                errors.append(FieldError(parameter=name, detail=str(exc)))
    start, end = bounds["baseline_from"], bounds["baseline_to"]
    if not raw_from and not raw_to:
        if scope.start is None or scope.end is None:
            errors.append(
                FieldError(
                    parameter="baseline_from",
                    detail="give baseline_from and baseline_to, or both from and to (the "
                    "baseline is then the period of the same length just before)",
                )
            )
        else:
            start, end = scope.start - (scope.end - scope.start), scope.start
    elif not raw_from or not raw_to:
        missing = "baseline_from" if not raw_from else "baseline_to"
        errors.append(FieldError(parameter=missing, detail="give both baseline bounds"))
    if start is not None and end is not None and start >= end:
        errors.append(FieldError(parameter="baseline_to", detail="must be after 'baseline_from'"))
    defer_parameter_errors(request, errors)
    return (start, end) if start is not None and end is not None and not errors else None
