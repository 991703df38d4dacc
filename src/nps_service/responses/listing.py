"""Reading answers back: one by id, or newest first with keyset pagination."""

import uuid

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from nps_service.errors import NotFound
from nps_service.filters import MERCHANT_LIMIT, ResponseFilter, limited_to_merchants
from nps_service.responses.filtering import bounded_time, filter_conditions
from nps_service.responses.models import Response
from nps_service.responses.rows import to_out
from nps_service.responses.schemas import ResponseOut
from nps_service.web.pages import decode_uuid_position, encode_position


def get_response(session: Session, response_id: uuid.UUID) -> ResponseOut:
    """One stored answer, or 404."""
    stored = session.get(Response, response_id)
    merchants = session.info.get(MERCHANT_LIMIT)
    if stored is None or (merchants is not None and stored.merchant_id not in merchants):
        raise NotFound(f"no response with id {response_id}")
    return to_out(stored)


def list_responses(
    session: Session, scope: ResponseFilter, limit: int, cursor: str | None
) -> tuple[list[ResponseOut], str | None]:
    """Newest first, keyset-paginated on (submitted_at, id): no duplicates or gaps."""
    scope = limited_to_merchants(scope, session.info.get(MERCHANT_LIMIT))
    statement = select(Response).where(*filter_conditions(scope))
    if cursor:
        after_time, after_id = decode_uuid_position(cursor)
        statement = statement.where(
            or_(
                Response.submitted_at < after_time,
                and_(Response.submitted_at == after_time, Response.id < after_id),
            )
        )
    statement = statement.order_by(Response.submitted_at.desc(), Response.id.desc())
    with bounded_time(session, bool(scope.properties)):
        rows = list(session.scalars(statement.limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_position(page[-1].submitted_at, str(page[-1].id)) if more else None
    return [to_out(row) for row in page], next_cursor
