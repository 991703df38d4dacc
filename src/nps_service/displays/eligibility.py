"""Whether to ask a person now: the quiet periods after their latest answer, decline and
unanswered display, then deterministic sampling.

It sits in front of every prompt, so it is two indexed reads of one person's rows: their
answers' latest `submitted_at` (the `respondent_id, submitted_at` index, newest first)
and their displays' latest decline and latest open display (`respondent_id, shown_at`).
Read from the tables themselves, not from rollups: an answer stored a moment ago, or
imported with a past time, counts at once.
"""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from nps_service.db import as_utc_instant
from nps_service.displays.models import ContactRules, Display
from nps_service.displays.rules import periods_at
from nps_service.displays.schemas import ContactRulesOut, EligibilityOut, Reason
from nps_service.responses.models import Response

# When two periods end at the same instant, the reason named is the first of these.
_PRECEDENCE: tuple[Reason, ...] = ("answered_recently", "declined_recently", "shown_recently")


def sampled(respondent_id: str, touchpoint: str | None, rate: float) -> bool:
    """Whether the person falls in the sample at this touchpoint: a fixed point in [0, 1)
    from a hash of both, below `rate`. The same every time, on every server."""
    if rate >= 1:
        return True
    digest = hashlib.sha256(f"{respondent_id}\x1f{touchpoint or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def eligibility(
    session: Session, respondent_id: str, touchpoint: str | None, now: datetime | None = None
) -> EligibilityOut:
    now = now or datetime.now(UTC)
    stored_rules, everywhere, here = _read(session, respondent_id, touchpoint)
    session.rollback()
    rules = ContactRulesOut.model_validate(stored_rules or {})
    periods = periods_at(rules, touchpoint)
    answered, declined, shown = everywhere if rules.across_touchpoints else here
    ends: dict[Reason, datetime] = {}
    events: tuple[tuple[Reason, datetime | None, timedelta], ...] = (
        ("answered_recently", answered, periods.after_response),
        ("declined_recently", declined, periods.after_decline),
        ("shown_recently", shown, periods.after_display),
    )
    for reason, at, period in events:
        if at is not None and period > timedelta(0) and now < at + period:
            ends[reason] = at + period
    if ends:
        last = max(ends.values())
        reason = next(r for r in _PRECEDENCE if ends.get(r) == last)
        return EligibilityOut(eligible=False, reason=reason, next_eligible_at=last)
    if not sampled(respondent_id, touchpoint, periods.sample_rate):
        return EligibilityOut(eligible=False, reason="not_sampled", next_eligible_at=None)
    return EligibilityOut(eligible=True, reason=None, next_eligible_at=None)


Latest = tuple[datetime | None, datetime | None, datetime | None]


def _read(
    session: Session, respondent_id: str, touchpoint: str | None
) -> tuple[Any, Latest, Latest]:
    """The stored rules, and the person's latest answer, decline and open display, both
    everywhere and at `touchpoint` alone (a None touchpoint matches events recorded without
    one), in one statement: one round trip in front of every prompt."""
    open_display = and_(Display.response_id.is_(None), Display.declined_at.is_(None))
    answer_here = (
        Response.touchpoint.is_(None) if touchpoint is None else Response.touchpoint == touchpoint
    )
    display_here = (
        Display.touchpoint.is_(None) if touchpoint is None else Display.touchpoint == touchpoint
    )
    mine_r, mine_d = Response.respondent_id == respondent_id, Display.respondent_id == respondent_id
    columns = [
        select(ContactRules.rules).where(ContactRules.id == 1).scalar_subquery(),
        select(func.max(Response.submitted_at)).where(mine_r).scalar_subquery(),
        select(func.max(Display.declined_at)).where(mine_d).scalar_subquery(),
        select(func.max(Display.shown_at)).where(mine_d, open_display).scalar_subquery(),
        select(func.max(Response.submitted_at)).where(mine_r, answer_here).scalar_subquery(),
        select(func.max(Display.declined_at)).where(mine_d, display_here).scalar_subquery(),
        select(func.max(Display.shown_at))
        .where(mine_d, display_here, open_display)
        .scalar_subquery(),
    ]
    row = session.execute(select(*columns)).one()
    stored = row[0]
    if isinstance(stored, str):  # a JSON column read through a bare scalar subquery
        stored = json.loads(stored)
    times = [as_utc_instant(value) for value in row[1:]]
    return stored, (times[0], times[1], times[2]), (times[3], times[4], times[5])
