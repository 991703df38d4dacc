"""GET /v1/scores, /v1/scores/trend, /v1/scores/compare: the global NPS and its breakdowns."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response as HttpResponse
from pydantic_core import to_json

from nps_service.keys.dependencies import ReadKey
from nps_service.scores.compare import compute_comparison
from nps_service.scores.csv_export import scores_csv
from nps_service.scores.dependencies import TotalsDep
from nps_service.scores.params import CompareParams, ScoreParams, TrendParams
from nps_service.scores.schemas import CompareOut, ScoresOut, TrendOut
from nps_service.scores.service import compute_scores
from nps_service.scores.trend import compute_trend
from nps_service.survey import Interval
from nps_service.web.media import CSV_MEDIA_TYPE, wants_csv
from nps_service.web.openapi import problems
from nps_service.web.session import SettingsDep

router = APIRouter(prefix="/v1/scores", tags=["scores"])


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
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[ScoreParams, Query()],
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="Overrides the Accept header.")
    ] = None,
) -> ScoresOut | HttpResponse:
    """With no `interval` and no `group_by`: one group with an empty key, the global NPS."""
    options = params.options(settings.min_n)
    result = compute_scores(totals, params.scope, options)
    if wants_csv(request, format):
        key_columns = (["bucket"] if options.interval else []) + options.group_by
        return HttpResponse(
            scores_csv(result.scored.rows(result.order), key_columns),
            media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="scores.csv"'},
        )
    # Written straight from the columns, not re-validated against the response model
    # (tests check the body against the OpenAPI schema).
    return HttpResponse(result.json(), media_type="application/json")


@router.get(
    "/trend",
    name="trend",
    response_model=TrendOut,
    summary="Is the NPS rising or falling? Weighted least-squares slope per group and metric",
    responses=problems(401, 403, 422),
)
def get_trend(
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[TrendParams, Query()],
) -> TrendOut | HttpResponse:
    """The buckets of `/v1/scores` (`interval` required) for each `group_by` group; each
    metric's NPS per bucket is fitted against time with weights 1/SE² (adjusted Wald), so
    a small bucket moves the line less. `slope` is in NPS points per bucket."""
    options = params.options(settings.min_n)
    result = compute_trend(totals, params.scope, options, Interval(params.interval))
    return HttpResponse(to_json(result), media_type="application/json")


@router.get(
    "/compare",
    name="compare",
    response_model=CompareOut,
    summary="The current period against a baseline: change, interval and significance",
    responses=problems(401, 403, 422),
)
def get_comparison(
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[CompareParams, Query()],
) -> CompareOut | HttpResponse:
    """Groups as in `/v1/scores` (filters, `group_by`), each metric with `current`,
    `baseline`, `delta`, its interval, `z`, `p_value` and the Holm-adjusted p-value."""
    options = params.options(settings.min_n)
    result = compute_comparison(totals, params.scope, params.baseline, options)
    return HttpResponse(to_json(result), media_type="application/json")
