"""GET /v1/drivers: which dimension moves the overall score, and which to improve first."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response as HttpResponse
from pydantic_core import to_json

from nps_service.db import SessionDep
from nps_service.drivers.schemas import DriversOut
from nps_service.drivers.service import compute_drivers
from nps_service.errors import FieldError
from nps_service.filters import (
    ResponseFilter,
    check_parameters,
    defer_parameter_errors,
    response_filter,
)
from nps_service.keys.dependencies import ReadKey
from nps_service.openapi_docs import problems
from nps_service.scores.router import score_options
from nps_service.scores.service import ScoreOptions

router = APIRouter(prefix="/v1/drivers", tags=["drivers"])


@router.get(
    "",
    name="get",
    response_model=DriversOut,
    summary="Key drivers: each dimension's relative weight in the overall score, and priorities",
    responses=problems(401, 403, 422),
)
def get_drivers(
    request: Request,
    session: SessionDep,
    _key: ReadKey,
    scope: Annotated[ResponseFilter, Depends(response_filter)],
    options: Annotated[ScoreOptions, Depends(score_options)],
) -> DriversOut | HttpResponse:
    """The overall 0-10 score regressed on the four dimension ratings over the answers
    that rated all four (complete cases), per group as in `/v1/scores` (one group with an
    empty key without `interval` and `group_by`): correlations, Johnson's relative weights
    and their shares of R², each dimension's NPS, and a priority order (important and weak
    first)."""
    if options.sort != "key":
        defer_parameter_errors(
            request, [FieldError(parameter="sort", detail="drivers sorts groups by key only")]
        )
    check_parameters(request)
    result = compute_drivers(session, scope, options)
    return HttpResponse(to_json(result), media_type="application/json")
