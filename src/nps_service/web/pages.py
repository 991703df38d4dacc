"""Opaque cursors for keyset pagination on (time, id) of any list."""

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query

from nps_service.errors import FieldError, InvalidInput

# The two parameters of every cursor-paginated list (API.md conventions).
PageLimit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
PageCursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


def encode_position(when: datetime, key: str) -> str:
    """A token for the position after the row (when, key)."""
    raw = json.dumps([when.isoformat(), key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(token: str) -> tuple[datetime, str]:
    """The position of a token from `encode_position`; 422 when it was not made by us."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        when, key = json.loads(raw)
        if not isinstance(key, str):
            raise TypeError("key")
        return datetime.fromisoformat(when).astimezone(UTC), key
    except (ValueError, TypeError, OverflowError, RecursionError, AttributeError) as exc:
        raise InvalidInput(
            "cursor: not a cursor returned by this API",
            errors=[FieldError(parameter="cursor", detail="malformed cursor")],
        ) from exc


def decode_uuid_position(token: str) -> tuple[datetime, uuid.UUID]:
    """`decode_position` for lists keyed by UUIDs."""
    when, key = decode_position(token)
    try:
        return when, uuid.UUID(key)
    except ValueError as exc:
        raise InvalidInput(
            "cursor: not a cursor returned by this API",
            errors=[FieldError(parameter="cursor", detail="malformed cursor")],
        ) from exc
