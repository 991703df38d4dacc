"""An answer's row: from a POST body to the stored columns, and back to the API's shape."""

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from nps_service.responses.models import ANSWER_COLUMNS, Response
from nps_service.responses.schemas import ContextOut, DimensionsOut, ResponseIn, ResponseOut
from nps_service.survey import CONTEXT_FIELDS, DIMENSIONS


def content_hash(payload: ResponseIn) -> str:
    """A digest of what the client sent, so a retry can be told from a different answer.

    Server-filled defaults are normalised (absent weight is 1, absent tags are null) and
    `submitted_at` is left out: a retry that omits it is still the same answer.
    """
    dims, ctx = payload.dimensions, payload.context
    canonical = [
        payload.respondent_id,
        payload.score,
        [dims.logistics, dims.product, dims.service, dims.app] if dims else None,
        payload.comment,
        [getattr(ctx, name) for name in CONTEXT_FIELDS] if ctx else None,
        float(payload.weight) if payload.weight is not None else 1.0,
        # Tag each value with its JSON type so "1", 1 and true stay different; 1 and 1.0 agree.
        sorted(
            (key, value) if isinstance(value, bool | str) else (key, "n", float(value))
            for key, value in (payload.properties or {}).items()
        ),
    ]
    # An empty Dimensions/Context object is the same as none at all.
    if canonical[2] == [None] * 4:
        canonical[2] = None
    if canonical[4] == [None] * len(CONTEXT_FIELDS):
        canonical[4] = None
    if payload.display_id is not None:  # (appended only when set: older hashes stay valid)
        canonical.append(str(payload.display_id))
    encoded = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def row_values(
    payload: ResponseIn, response_id: uuid.UUID, digest: str, now: datetime
) -> dict[str, Any]:
    dimensions = payload.dimensions.model_dump() if payload.dimensions else {}
    context = payload.context.model_dump() if payload.context else {}
    return {
        "id": response_id,
        "respondent_id": payload.respondent_id,
        "score": payload.score,
        **{name: dimensions.get(name) for name in DIMENSIONS},
        "comment": payload.comment,
        **{name: context.get(name) for name in CONTEXT_FIELDS},
        "weight": float(payload.weight) if payload.weight is not None else 1.0,
        "properties": payload.properties,
        "submitted_at": payload.submitted_at or now,
        "display_id": payload.display_id,
        "submitted_at_given": payload.submitted_at is not None,
        "received_at": now,
        "content_hash": digest,
    }


def same_answer(stored: Response | dict[str, Any], row: dict[str, Any]) -> bool:
    """Whether `row` repeats `stored`: same content, and same time if both clients sent one."""
    if isinstance(stored, Response):
        stored = {
            name: getattr(stored, name)
            for name in ("content_hash", "submitted_at_given", "submitted_at")
        }
    if stored["content_hash"] != row["content_hash"]:
        return False
    if stored["submitted_at_given"] and row["submitted_at_given"]:
        return bool(stored["submitted_at"] == row["submitted_at"])
    return True


def to_out(row: Response) -> ResponseOut:
    """The API shape of a stored row."""
    return to_out_from_row({column: getattr(row, column) for column in OUT_COLUMNS})


# A stored answer as the API shows it (and exports stream it).
OUT_COLUMNS = (*ANSWER_COLUMNS, "received_at", "display_id")


def to_out_from_row(row: dict[str, Any]) -> ResponseOut:
    """The API shape of a row's values."""
    return ResponseOut(
        id=row["id"],
        respondent_id=row["respondent_id"],
        score=row["score"],
        dimensions=DimensionsOut(**{name: row[name] for name in DIMENSIONS}),
        comment=row["comment"],
        context=ContextOut(**{name: row[name] for name in CONTEXT_FIELDS}),
        weight=row["weight"],
        properties=row["properties"] or {},
        submitted_at=row["submitted_at"],
        received_at=row["received_at"],
        display_id=row.get("display_id"),
    )
