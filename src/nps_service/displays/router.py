"""HTTP routes: displays and declines, eligibility, contact rules."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi import Response as HttpResponse
from starlette.concurrency import run_in_threadpool

from nps_service.displays.eligibility import eligibility
from nps_service.displays.rules import load_rules, save_rules
from nps_service.displays.schemas import (
    ContactRulesIn,
    ContactRulesOut,
    DeclineIn,
    DisplayIn,
    DisplayOut,
    EligibilityOut,
)
from nps_service.displays.store import create_display, decline_display, get_display
from nps_service.keys.dependencies import AdminKey, IngestKey, IngestKeyCheckedOnWrite, ReadKey
from nps_service.survey import CONTEXT_VALUE_PATTERN, CONTEXT_VALUE_SCHEMA
from nps_service.web.body_limit import require_json
from nps_service.web.openapi import problems
from nps_service.web.session import SessionDep

displays = APIRouter(prefix="/v1/displays", tags=["displays"])
asking = APIRouter(prefix="/v1/eligibility", tags=["eligibility"])
rules = APIRouter(prefix="/v1/contact-rules", tags=["contact-rules"])


@displays.post(
    "",
    name="create",
    status_code=201,
    dependencies=[Depends(require_json)],
    summary="Record that the prompt was shown to someone (idempotent by id)",
    responses={
        200: {"description": "A retry of a display already stored", "model": DisplayOut},
        **problems(400, 401, 403, 409, 413, 415, 422),
    },
)
def create(
    payload: DisplayIn, session: SessionDep, _key: IngestKey, http: HttpResponse
) -> DisplayOut:
    """201 with the stored display; 200 when the same id and content were stored before;
    409 when the id was used for another display."""
    stored, created = create_display(session, payload, datetime.now(UTC))
    if not created:
        http.status_code = 200
    return stored


@displays.post(
    "/{display_id}/decline",
    name="decline",
    summary="The person closed the prompt without answering",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
def decline(
    display_id: uuid.UUID,
    session: SessionDep,
    _key: IngestKey,
    payload: Annotated[DeclineIn | None, Body()] = None,
) -> DisplayOut:
    """No body (or `{}`); `declined_at` may be given for past declines. Repeating it
    changes nothing (200); a display already answered is 409."""
    return decline_display(session, display_id, payload, datetime.now(UTC))


@displays.get(
    "/{display_id}",
    name="get",
    summary="One display: shown, declined or answered",
    responses=problems(401, 403, 404, 422),
)
def read(display_id: uuid.UUID, session: SessionDep, _key: ReadKey) -> DisplayOut:
    """The display with this id: when it was shown, whether it was declined and which answer, if
    any, it led to."""
    return get_display(session, display_id)


@asking.get(
    "",
    name="get",
    summary="May this person be asked now, at this touchpoint?",
    responses=problems(401, 403, 422),
)
async def ask(
    request: Request,
    _key: IngestKeyCheckedOnWrite,
    respondent_id: Annotated[str, Query(min_length=1, max_length=128, pattern=r"^[^\x00]+$")],
    touchpoint: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=CONTEXT_VALUE_PATTERN,
            description="Where the prompt would show; the rules of this touchpoint apply.",
            json_schema_extra=CONTEXT_VALUE_SCHEMA,
        ),
    ] = None,
) -> EligibilityOut:
    """Not eligible while a quiet period runs (`reason` names the one ending last,
    `next_eligible_at` is when it ends); otherwise sampled deterministically per person and
    touchpoint (`not_sampled`)."""
    # A key found valid by this process in the last minute is not looked up again (the
    # lookup was most of this hot route's time): a revoked key still gets answers here
    # for up to a minute, which reveal only whether to show a prompt.
    # One statement in autocommit (no BEGIN and ROLLBACK round trips: 1 ms of 3 here).
    return await run_in_threadpool(_ask, request, respondent_id, touchpoint)


def _ask(request: Request, respondent_id: str, touchpoint: str | None) -> EligibilityOut:
    with request.app.state.autocommit_sessions() as session:
        return eligibility(session, respondent_id, touchpoint)


# Overrides a touchpoint does not set are left out, not shown as null.
@rules.get(
    "",
    name="get",
    summary="The contact rules in force",
    response_model_exclude_none=True,
    responses=problems(401, 403),
)
def read_rules(session: SessionDep, _key: AdminKey) -> ContactRulesOut:
    """How often one respondent may be asked, per touchpoint and across touchpoints, and the
    sampling rate; `GET /v1/eligibility` applies them."""
    found = load_rules(session)
    session.rollback()
    return found


@rules.put(
    "",
    name="put",
    dependencies=[Depends(require_json)],
    summary="Replace the contact rules",
    response_model_exclude_none=True,
    responses=problems(400, 401, 403, 413, 415, 422),
)
def put_rules(payload: ContactRulesIn, session: SessionDep, _key: AdminKey) -> ContactRulesOut:
    """The whole rule set; an omitted field takes its default."""
    return save_rules(session, payload)
