"""GET /v1/drivers (and /v1/drivers.csv): which dimension moves the overall score, and which
to improve first."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response as HttpResponse
from pydantic import Field
from pydantic_core import to_json

from nps_service.drivers.csv_export import drivers_csv
from nps_service.drivers.schemas import DriversOut
from nps_service.drivers.service import compute_drivers
from nps_service.keys.dependencies import ReadKey
from nps_service.scores.dependencies import TotalsDep
from nps_service.scores.params import KEY_SORT_ENUM, ScoreParams, key_order_only
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

router = APIRouter(prefix="/v1/drivers", tags=["drivers"])
JSON_ERRORS = {**problems(401, 403, 422), **not_acceptable()}
CSV_ERRORS = csv_problems(401, 403, 422)

COLUMNS = (
    "Columns: with `interval` `bucket`, `bucket_start`, `partial`; each `group_by` field; the "
    "model's `n, effective_n, suppressed, fitted, reason, r_squared, overall_mean`, "
    "`priority` (the dimensions in priority order, comma-separated); the overall score "
    "(`overall_n, overall_nps, ...`, as in `/v1/scores.csv`); then per dimension `n, mean, "
    "correlation, correlation_ci_low, correlation_ci_high, standardized_beta, "
    "relative_weight, relative_weight_share, nps, priority_score, priority` "
    "(`logistics_relative_weight`, ...) and its score (`logistics_score_n`, "
    "`logistics_score_nps`, ...). Empty cells for null."
)


class DriversParams(ScoreParams):
    """The scores' parameters; one model per group, groups in key order."""

    sort: Annotated[
        str,
        key_order_only("drivers"),
        Field(description="`key` only.", json_schema_extra=KEY_SORT_ENUM),
    ] = "key"


def _drivers(totals: TotalsDep, settings: SettingsDep, params: DriversParams) -> dict[str, Any]:
    return compute_drivers(totals, params.scope, params.options(settings.min_n))


def _csv(result: dict[str, Any], params: DriversParams, bom: bool) -> CsvResponse:
    group_by = list(params.group_by or [])
    text = drivers_csv(result["groups"], group_by, buckets=bool(params.interval))
    return csv_response(text, "drivers.csv", bom=bom)


@router.get(
    "",
    name="get",
    response_model=DriversOut,
    summary="Key drivers: each dimension's relative weight in the overall score, and priorities",
    responses=JSON_ERRORS,
)
@answers_also(CSV_MEDIA_TYPE)
def get_drivers(
    request: Request,
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[DriversParams, Query()],
    format: HiddenFormat = None,
    bom: HiddenBom = False,
) -> DriversOut | HttpResponse:
    """The overall 0-10 score regressed on the four dimension ratings over the answers
    that rated all four (complete cases), per group as in `/v1/scores` (one group with an
    empty key without `interval` and `group_by`): correlations, Johnson's relative weights
    and their shares of R², each dimension's NPS, and a priority order (important and weak
    first). As CSV: `GET /v1/drivers.csv`."""
    as_csv = wants_csv(request, format)
    reject_bom(bom and not as_csv)
    result = _drivers(totals, settings, params)
    if as_csv:
        return _csv(result, params, bom)
    return HttpResponse(to_json(result), media_type="application/json")


@router.get(
    ".csv",
    name="get_csv",
    response_class=CsvResponse,
    summary="Key drivers as CSV, one row per group",
    description=csv_description(COLUMNS, "/v1/drivers"),
    responses={**csv_ok("The groups of `GET /v1/drivers`, one row each"), **CSV_ERRORS},
)
def get_drivers_csv(
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[DriversParams, Query()],
    bom: Bom = False,
) -> CsvResponse:
    """`GET /v1/drivers` as CSV."""
    return _csv(_drivers(totals, settings, params), params, bom)
