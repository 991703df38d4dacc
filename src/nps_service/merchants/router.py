"""GET /v1/merchants (and /v1/merchants.csv) and /v1/merchants/{id}/scorecard."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response as HttpResponse
from pydantic import AfterValidator
from pydantic_core import to_json

from nps_service.errors import Forbidden, NotFound
from nps_service.filters import MERCHANT_LIMIT
from nps_service.keys.dependencies import ReadKey
from nps_service.merchants.csv_export import merchants_csv
from nps_service.merchants.params import MerchantListParams, ScorecardParams, no_nul
from nps_service.merchants.schemas import MerchantList, Scorecard
from nps_service.merchants.service import merchant_category, rank_merchants, scorecard
from nps_service.scores.dependencies import TotalsDep
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
from nps_service.web.session import SessionDep, SettingsDep

router = APIRouter(prefix="/v1/merchants", tags=["merchants"])

COLUMNS = (
    "Columns: `rank, merchant_id, composite`, then for `overall` and each dimension `n, nps, "
    "ci_low, ci_high, promoters, passives, detractors, promoter_share, passive_share, "
    "detractor_share, effective_n, suppressed`, prefixed `overall_`, `logistics_`, ... (as in "
    "`/v1/scores.csv`). One row per merchant, best first. Empty cells for null."
)


def _ranking(
    totals: TotalsDep, settings: SettingsDep, params: MerchantListParams
) -> dict[str, Any]:
    window, options = params.window(), params.options(settings.min_n)
    weights = settings.composite_weights
    ranked = rank_merchants(totals, params.category, window, options, weights, params.sort)
    return {
        "query": {
            "category": params.category,
            "from": window.start_utc,
            "to": window.end_utc,
            "window_days": window.days,
            "tz": window.tz.key,
            "sort": params.sort,
            "min_n": options.min_n,
            "weighted": options.weighted,
            "confidence": options.confidence,
            "limit": params.limit,
            "composite_weights": weights,
            "merchants_ranked": len(ranked),
        },
        "merchants": ranked.entries(params.limit),
    }


def _csv(body: dict[str, Any], bom: bool) -> CsvResponse:
    return csv_response(merchants_csv(body["merchants"]), "merchants.csv", bom=bom)


@router.get(
    "",
    name="list",
    response_model=MerchantList,
    summary="A category's merchants ranked over a trailing window",
    responses={**problems(401, 403, 422), **not_acceptable()},
)
@answers_also(CSV_MEDIA_TYPE)
def list_merchants(
    request: Request,
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[MerchantListParams, Query()],
    format: HiddenFormat = None,
    bom: HiddenBom = False,
) -> MerchantList | HttpResponse:
    """Merchants with at least `min_n` answers in the window, with overall and dimension
    scores and the composite experience score (weights in `NPS_COMPOSITE_WEIGHTS`, echoed),
    ranked by `sort`. As CSV: `GET /v1/merchants.csv`."""
    as_csv = wants_csv(request, format)
    reject_bom(bom and not as_csv)
    body = _ranking(totals, settings, params)
    if as_csv:
        return _csv(body, bom)
    return HttpResponse(to_json(body), media_type="application/json")


@router.get(
    ".csv",
    name="list_csv",
    response_class=CsvResponse,
    summary="A category's merchants ranked over a trailing window, as CSV",
    description=csv_description(COLUMNS, "/v1/merchants"),
    responses={
        **csv_ok("The merchants of `GET /v1/merchants`, one row each"),
        **csv_problems(401, 403, 422),
    },
)
def list_merchants_csv(
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[MerchantListParams, Query()],
    bom: Bom = False,
) -> CsvResponse:
    """`GET /v1/merchants` as CSV."""
    return _csv(_ranking(totals, settings, params), bom)


@router.get(
    "/{merchant_id}/scorecard",
    name="scorecard",
    response_model=Scorecard,
    summary="One merchant over a trailing window: scores, composite, rank, change",
    responses={**problems(401, 403, 404, 422), **not_acceptable()},
)
def get_scorecard(
    key: ReadKey,
    session: SessionDep,
    totals: TotalsDep,
    settings: SettingsDep,
    merchant_id: Annotated[str, Path(min_length=1, max_length=64), AfterValidator(no_nul)],
    params: Annotated[ScorecardParams, Query()],
) -> Scorecard | HttpResponse:
    """The merchant's overall and dimension NPS with intervals, its rank and percentile
    among the category's merchants meeting `min_n`, the composite experience score, and the
    change against the window before with its significance."""
    if key.merchants is not None:
        if merchant_id not in key.merchants:
            raise Forbidden(f"this key may not read merchant {merchant_id}")
        # Ranking it needs every merchant of the category; what the card shows of them is
        # their count and this merchant's position, never who they are.
        session.info.pop(MERCHANT_LIMIT, None)
    window, options = params.window(), params.options(settings.min_n)
    chosen = params.category or merchant_category(totals, merchant_id, window)
    if chosen is None:
        raise NotFound(f"merchant {merchant_id!r} has no answers in the window; widen window_days")
    weights = settings.composite_weights
    card = scorecard(totals, merchant_id, chosen, window, options, weights, params.rank_by)
    return HttpResponse(to_json(card), media_type="application/json")
