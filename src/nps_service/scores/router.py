"""GET /v1/scores, /v1/scores/trend, /v1/scores/compare: the global NPS and its breakdowns,
as JSON, and as CSV at `/v1/scores.csv`, `/v1/scores/trend.csv`, `/v1/scores/compare.csv`.

Each JSON operation declares JSON only (generated clients get one type per operation) yet
still answers its CSV for `format=csv` or `Accept: text/csv`, as API.md promises for
/v1/scores; those two parameters (and `bom`) are left out of its document.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response as HttpResponse
from pydantic_core import to_json

from nps_service.keys.dependencies import ReadKey
from nps_service.scores.compare import compute_comparison
from nps_service.scores.csv_export import compare_csv, scores_csv, trend_csv
from nps_service.scores.dependencies import TotalsDep
from nps_service.scores.params import CompareParams, ScoreParams, TrendParams
from nps_service.scores.schemas import CompareOut, ScoresOut, TrendOut
from nps_service.scores.service import ScoresResult, compute_scores
from nps_service.scores.trend import compute_trend
from nps_service.survey import Interval
from nps_service.web.media import (
    CSV_MEDIA_TYPE,
    Bom,
    CsvResponse,
    HiddenBom,
    HiddenFormat,
    csv_description,
    csv_ok,
    csv_problems,
    csv_response,
    reject_bom,
    wants_csv,
)
from nps_service.web.negotiation import answers_also, not_acceptable
from nps_service.web.openapi import problems
from nps_service.web.session import SettingsDep

router = APIRouter(prefix="/v1/scores", tags=["scores"])
JSON_ERRORS = {**problems(401, 403, 422), **not_acceptable()}
CSV_ERRORS = csv_problems(401, 403, 422)


def _json(body: bytes) -> HttpResponse:
    return HttpResponse(body, media_type="application/json")


SCORES_COLUMNS = (
    "Columns: with `interval` `bucket`, `bucket_start`, `partial`; each `group_by` field; "
    "then for `overall` and each dimension `n, nps, ci_low, ci_high, promoters, passives, "
    "detractors, promoter_share, passive_share, detractor_share, effective_n, suppressed`, "
    "prefixed `overall_`, `logistics_`, ...; then `displays_shown, displays_answered, "
    "displays_declined, displays_response_rate`. Empty cells for null."
)
TREND_COLUMNS = (
    "Columns: each `group_by` field; `first_bucket, first_bucket_start, first_bucket_partial, "
    "last_bucket, last_bucket_start, last_bucket_partial`; then for `overall` and each "
    "dimension `buckets, slope, slope_se, slope_ci_low, slope_ci_high, z, p_value, "
    "significant`, prefixed `overall_`, `logistics_`, ... Empty cells for null."
)
COMPARE_COLUMNS = (
    "Columns: each `group_by` field; then for `overall` and each dimension the current "
    "period's score (`overall_current_n`, `overall_current_nps`, ..., the twelve fields of a "
    "`/v1/scores` metric), the baseline's (`overall_baseline_n`, ...), and `delta, "
    "delta_ci_low, delta_ci_high, z, p_value, p_value_adjusted` (`overall_delta`, ...). "
    "Empty cells for null."
)


def _scores(totals: TotalsDep, settings: SettingsDep, params: ScoreParams) -> ScoresResult:
    return compute_scores(totals, params.scope, params.options(settings.min_n))


def _scores_csv(result: ScoresResult, params: ScoreParams, bom: bool) -> CsvResponse:
    groups = result.scored.rows(result.order)
    text = scores_csv(groups, list(params.group_by or []), buckets=bool(params.interval))
    return csv_response(text, "scores.csv", bom=bom)


@router.get(
    "",
    name="get",
    response_model=ScoresOut,
    summary="Global NPS and its breakdowns",
    responses=JSON_ERRORS,
)
@answers_also(CSV_MEDIA_TYPE)
def get_scores(
    request: Request,
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[ScoreParams, Query()],
    format: HiddenFormat = None,
    bom: HiddenBom = False,
) -> ScoresOut | HttpResponse:
    """With no `interval` and no `group_by`: one group with an empty key, the global NPS.
    With `interval`, each key has `bucket` and `bucket_start`, and each group `partial`.
    The same groups as CSV: `GET /v1/scores.csv`."""
    as_csv = wants_csv(request, format)
    reject_bom(bom and not as_csv)
    result = _scores(totals, settings, params)
    if as_csv:
        return _scores_csv(result, params, bom)
    # Written straight from the columns, not re-validated against the response model
    # (tests check the body against the OpenAPI schema).
    return _json(result.json())


@router.get(
    ".csv",
    name="get_csv",
    response_class=CsvResponse,
    summary="Global NPS and its breakdowns as CSV, one row per group",
    description=csv_description(SCORES_COLUMNS, "/v1/scores"),
    responses={**csv_ok("The groups of `GET /v1/scores`, one row each"), **CSV_ERRORS},
)
def get_scores_csv(
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[ScoreParams, Query()],
    bom: Bom = False,
) -> CsvResponse:
    """`GET /v1/scores` as CSV."""
    return _scores_csv(_scores(totals, settings, params), params, bom)


def _trend(totals: TotalsDep, settings: SettingsDep, params: TrendParams) -> dict[str, Any]:
    options = params.options(settings.min_n)
    return compute_trend(totals, params.scope, options, Interval(params.interval))


def _trend_csv(result: dict[str, Any], params: TrendParams, bom: bool) -> CsvResponse:
    text = trend_csv(result["groups"], list(params.group_by or []))
    return csv_response(text, "trend.csv", bom=bom)


@router.get(
    "/trend",
    name="trend",
    response_model=TrendOut,
    summary="Is the NPS rising or falling? Weighted least-squares slope per group and metric",
    responses=JSON_ERRORS,
)
@answers_also(CSV_MEDIA_TYPE)
def get_trend(
    request: Request,
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[TrendParams, Query()],
    format: HiddenFormat = None,
    bom: HiddenBom = False,
) -> TrendOut | HttpResponse:
    """The buckets of `/v1/scores` (`interval` required) for each `group_by` group; each
    metric's NPS per bucket is fitted against time with weights 1/SE² (adjusted Wald), so
    a small bucket moves the line less. `slope` is in NPS points per bucket. As CSV:
    `GET /v1/scores/trend.csv`."""
    as_csv = wants_csv(request, format)
    reject_bom(bom and not as_csv)
    result = _trend(totals, settings, params)
    return _trend_csv(result, params, bom) if as_csv else _json(to_json(result))


@router.get(
    "/trend.csv",
    name="trend_csv",
    response_class=CsvResponse,
    summary="The trend per group and metric as CSV, one row per group",
    description=csv_description(TREND_COLUMNS, "/v1/scores/trend"),
    responses={**csv_ok("The groups of `GET /v1/scores/trend`, one row each"), **CSV_ERRORS},
)
def get_trend_csv(
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[TrendParams, Query()],
    bom: Bom = False,
) -> CsvResponse:
    """`GET /v1/scores/trend` as CSV."""
    return _trend_csv(_trend(totals, settings, params), params, bom)


def _compare(totals: TotalsDep, settings: SettingsDep, params: CompareParams) -> dict[str, Any]:
    options = params.options(settings.min_n)
    return compute_comparison(totals, params.scope, params.baseline, options)


def _compare_csv(result: dict[str, Any], params: CompareParams, bom: bool) -> CsvResponse:
    text = compare_csv(result["groups"], list(params.group_by or []))
    return csv_response(text, "compare.csv", bom=bom)


@router.get(
    "/compare",
    name="compare",
    response_model=CompareOut,
    summary="The current period against a baseline: change, interval and significance",
    responses=JSON_ERRORS,
)
@answers_also(CSV_MEDIA_TYPE)
def get_comparison(
    request: Request,
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[CompareParams, Query()],
    format: HiddenFormat = None,
    bom: HiddenBom = False,
) -> CompareOut | HttpResponse:
    """Groups as in `/v1/scores` (filters, `group_by`), each metric with `current`,
    `baseline`, `delta`, its interval, `z`, `p_value` and the Holm-adjusted p-value. As CSV:
    `GET /v1/scores/compare.csv`."""
    as_csv = wants_csv(request, format)
    reject_bom(bom and not as_csv)
    result = _compare(totals, settings, params)
    return _compare_csv(result, params, bom) if as_csv else _json(to_json(result))


@router.get(
    "/compare.csv",
    name="compare_csv",
    response_class=CsvResponse,
    summary="The comparison per group and metric as CSV, one row per group",
    description=csv_description(COMPARE_COLUMNS, "/v1/scores/compare"),
    responses={**csv_ok("The groups of `GET /v1/scores/compare`, one row each"), **CSV_ERRORS},
)
def get_comparison_csv(
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[CompareParams, Query()],
    bom: Bom = False,
) -> CsvResponse:
    """`GET /v1/scores/compare` as CSV."""
    return _compare_csv(_compare(totals, settings, params), params, bom)
