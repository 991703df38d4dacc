"""HTTP routes: erasing a person, the audit log (scope admin)."""

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from nps_service.keys.dependencies import AdminKey
from nps_service.privacy.audit import AuditPage, list_audit
from nps_service.privacy.erasure import ErasureOut, erase_respondent
from nps_service.web.openapi import problems
from nps_service.web.pages import PageCursor, PageLimit
from nps_service.web.session import SessionDep

respondents = APIRouter(prefix="/v1/respondents", tags=["respondents"])
audit = APIRouter(prefix="/v1/audit", tags=["audit"])


@respondents.delete(
    "/{respondent_id}",
    name="erase",
    summary="Erase a person: every answer, display and decline, from every score",
    responses=problems(401, 403, 422),
)
async def erase(
    respondent_id: Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\x00]+$")],
    session: SessionDep,
    key: AdminKey,
) -> ErasureOut:
    """Idempotent: erasing again erases nothing more (0s). Scores afterwards equal a
    recomputation without the person; the audit log records the erasure, not the person."""
    return await run_in_threadpool(erase_respondent, session, respondent_id, key.key_id)


@audit.get(
    "",
    name="list",
    summary="Erasures and retention runs, newest first",
    responses=problems(401, 403, 422),
)
def read_audit(
    session: SessionDep,
    _key: AdminKey,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
) -> AuditPage:
    """What was erased or purged, when and by which key; never the respondent's id."""
    return list_audit(session, limit, cursor)
