"""GET /v1/drivers: which dimension moves the overall score, and which to improve first."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response as HttpResponse
from pydantic import Field
from pydantic_core import to_json

from nps_service.drivers.schemas import DriversOut
from nps_service.drivers.service import compute_drivers
from nps_service.keys.dependencies import ReadKey
from nps_service.scores.dependencies import TotalsDep
from nps_service.scores.params import ScoreParams, key_order_only
from nps_service.web.openapi import problems
from nps_service.web.session import SettingsDep

router = APIRouter(prefix="/v1/drivers", tags=["drivers"])


class DriversParams(ScoreParams):
    """The scores' parameters; one model per group, groups in key order."""

    sort: Annotated[str, key_order_only("drivers"), Field(description="`key` only.")] = "key"


@router.get(
    "",
    name="get",
    response_model=DriversOut,
    summary="Key drivers: each dimension's relative weight in the overall score, and priorities",
    responses=problems(401, 403, 422),
)
def get_drivers(
    _key: ReadKey,
    totals: TotalsDep,
    settings: SettingsDep,
    params: Annotated[DriversParams, Query()],
) -> DriversOut | HttpResponse:
    """The overall 0-10 score regressed on the four dimension ratings over the answers
    that rated all four (complete cases), per group as in `/v1/scores` (one group with an
    empty key without `interval` and `group_by`): correlations, Johnson's relative weights
    and their shares of R², each dimension's NPS, and a priority order (important and weak
    first)."""
    result = compute_drivers(totals, params.scope, params.options(settings.min_n))
    return HttpResponse(to_json(result), media_type="application/json")
