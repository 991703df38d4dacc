"""Reading the audit log, newest first."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from nps_service.privacy.models import AuditEntry
from nps_service.web.pages import decode_uuid_position, encode_position


class AuditOut(BaseModel):
    id: uuid.UUID
    at: datetime
    action: str
    key_id: int | None
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None


def list_audit(session: Session, limit: int, cursor: str | None) -> AuditPage:
    statement = select(AuditEntry)
    if cursor:
        before, after_id = decode_uuid_position(cursor)
        statement = statement.where(
            or_(AuditEntry.at < before, and_(AuditEntry.at == before, AuditEntry.id < after_id))
        )
    rows = list(
        session.scalars(
            statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1)
        )
    )
    page = rows[:limit]
    more = len(rows) > limit
    return AuditPage(
        items=[AuditOut.model_validate(row, from_attributes=True) for row in page],
        next_cursor=encode_position(page[-1].at, str(page[-1].id)) if more else None,
    )
