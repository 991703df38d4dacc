"""Answers that name the display they answer (`display_id`): checked and locked before the
answers are stored, linked in the same transaction after."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nps_service.displays.models import Display
from nps_service.displays.store import queue_change
from nps_service.errors import Conflict, FieldError, InvalidInput


@dataclass(frozen=True)
class Claim:
    """An answer's claim on a display: where the answer sits in the request, and who."""

    pointer: str  # JSON pointer of the answer's display_id, e.g. /responses/3/display_id
    response_id: uuid.UUID
    respondent_id: str
    display_id: uuid.UUID


def lock_claimed(session: Session, claims: Sequence[Claim]) -> dict[uuid.UUID, Display]:
    """The claimed displays, locked until the transaction ends (in id order: two requests
    claiming the same displays cannot deadlock). 422 for an unknown display or another
    person's; 409 for a display answered by another response, or claimed twice here."""
    ids = sorted({claim.display_id for claim in claims})
    statement = select(Display).where(Display.id.in_(ids)).order_by(Display.id)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    displays = {display.id: display for display in session.scalars(statement)}
    invalid: list[FieldError] = []
    conflicts: list[FieldError] = []
    claimed_by: dict[uuid.UUID, uuid.UUID] = {}
    for claim in claims:
        display = displays.get(claim.display_id)
        if display is None:
            invalid.append(FieldError(pointer=claim.pointer, detail="no display with this id"))
        elif display.respondent_id != claim.respondent_id:
            invalid.append(
                FieldError(pointer=claim.pointer, detail="the display was shown to another person")
            )
        elif display.response_id not in (None, claim.response_id):
            conflicts.append(
                FieldError(
                    pointer=claim.pointer, detail="the display is answered by another response"
                )
            )
        elif claimed_by.setdefault(claim.display_id, claim.response_id) != claim.response_id:
            conflicts.append(
                FieldError(pointer=claim.pointer, detail="another answer here names this display")
            )
    if invalid:
        session.rollback()
        raise InvalidInput(
            "display_id names no display of this person; nothing was stored", invalid
        )
    if conflicts:
        session.rollback()
        raise Conflict("a display can be answered once; nothing was stored", conflicts)
    return displays


def link_answers(
    session: Session,
    claims: Sequence[Claim],
    displays: dict[uuid.UUID, Display],
    inserted: set[uuid.UUID],
) -> None:
    """Mark each display answered by its newly stored answer and count it answered.

    The update re-checks that the display is unanswered: SQLite takes no row lock when
    `lock_claimed` reads, so two answers to one display meet here, and the second is 409.
    """
    for claim in claims:
        if claim.response_id not in inserted:
            continue  # a retry of an answer stored (and linked) before
        display = displays[claim.display_id]
        linked = session.execute(
            update(Display)
            .where(Display.id == claim.display_id, Display.response_id.is_(None))
            .values(response_id=claim.response_id)
            .execution_options(synchronize_session=False)
        )
        if linked.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            raise Conflict(
                "a display can be answered once; nothing was stored",
                [
                    FieldError(
                        pointer=claim.pointer, detail="the display is answered by another response"
                    )
                ],
            )
        queue_change(session, display, answered=1)
