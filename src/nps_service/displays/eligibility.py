"""Whether to ask a person now: the quiet periods after their latest answer, decline and
unanswered display, then deterministic sampling.

It sits in front of every prompt, so it is two indexed reads of one person's rows: their
answers' latest `submitted_at` (the `respondent_id, submitted_at` index, newest first)
and their displays' latest decline and latest open display (`respondent_id, shown_at`).
Read from the tables themselves, not from rollups: an answer stored a moment ago, or
imported with a past time, counts at once.
"""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nps_service.displays.models import Display
from nps_service.displays.rules import load_rules, periods_at
from nps_service.displays.schemas import EligibilityOut, Reason
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
    rules = load_rules(session)
    periods = periods_at(rules, touchpoint)
    answered, declined, shown = _latest_events(
        session, respondent_id, None if rules.across_touchpoints else (touchpoint,)
    )
    ends: dict[Reason, datetime] = {}
    events: tuple[tuple[Reason, datetime | None, timedelta], ...] = (
        ("answered_recently", answered, periods.after_response),
        ("declined_recently", declined, periods.after_decline),
        ("shown_recently", shown, periods.after_display),
    )
    for reason, at, period in events:
        if at is not None and period > timedelta(0) and now < at + period:
            ends[reason] = at + period
    session.rollback()
    if ends:
        last = max(ends.values())
        reason = next(r for r in _PRECEDENCE if ends.get(r) == last)
        return EligibilityOut(eligible=False, reason=reason, next_eligible_at=last)
    if not sampled(respondent_id, touchpoint, periods.sample_rate):
        return EligibilityOut(eligible=False, reason="not_sampled", next_eligible_at=None)
    return EligibilityOut(eligible=True, reason=None, next_eligible_at=None)


def _latest_events(
    session: Session, respondent_id: str, touchpoints: tuple[str | None] | None
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """The person's latest answer, decline and open display (at `touchpoints` only, when
    given; a None touchpoint matches events recorded without one)."""
    answers = select(func.max(Response.submitted_at)).where(Response.respondent_id == respondent_id)
    displays = select(
        func.max(Display.declined_at),
        func.max(Display.shown_at).filter(
            Display.response_id.is_(None), Display.declined_at.is_(None)
        ),
    ).where(Display.respondent_id == respondent_id)
    if touchpoints is not None:
        (place,) = touchpoints
        if place is None:
            answers = answers.where(Response.touchpoint.is_(None))
            displays = displays.where(Display.touchpoint.is_(None))
        else:
            answers = answers.where(Response.touchpoint == place)
            displays = displays.where(Display.touchpoint == place)
    answered = session.execute(answers).scalar()
    declined, shown = session.execute(displays).one()
    return _instant(answered), _instant(declined), _instant(shown)


def _instant(value: Any) -> datetime | None:
    """max() over SQLite text comes back as naive UTC text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
