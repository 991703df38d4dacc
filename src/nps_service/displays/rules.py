"""The contact rules in force: one stored document, defaults until an admin sets them."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nps_service.displays.models import ContactRules
from nps_service.displays.schemas import ContactRulesIn, ContactRulesOut

_ROW_ID = 1


def load_rules(session: Session) -> ContactRulesOut:
    """The stored rules, or the defaults (API.md) when none were set."""
    stored = session.execute(
        select(ContactRules.rules).where(ContactRules.id == _ROW_ID)
    ).scalar_one_or_none()
    return ContactRulesOut.model_validate(stored or {})


def save_rules(session: Session, rules: ContactRulesIn) -> ContactRulesOut:
    """Replace the rules (every omitted field at its default)."""
    document = rules.model_dump(mode="json", exclude_none=False)
    document["touchpoints"] = {
        name: {k: v for k, v in overrides.items() if v is not None}
        for name, overrides in document["touchpoints"].items()
    }
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {"id": _ROW_ID, "rules": document, "updated_at": datetime.now(UTC)}
    statement = module.insert(ContactRules).values(values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={"rules": statement.excluded.rules, "updated_at": statement.excluded.updated_at},
        )
    )
    session.commit()
    return ContactRulesOut.model_validate(document)


@dataclass(frozen=True)
class Periods:
    """The quiet periods and sample rate that apply at one touchpoint."""

    after_response: timedelta
    after_decline: timedelta
    after_display: timedelta
    sample_rate: float


def periods_at(rules: ContactRulesOut, touchpoint: str | None) -> Periods:
    """The rules of `touchpoint`: its overrides where set, the global values elsewhere."""
    overrides = rules.touchpoints.get(touchpoint) if touchpoint is not None else None

    def pick(name: str) -> float:
        own = getattr(overrides, name) if overrides is not None else None
        value: float = getattr(rules, name) if own is None else own
        return value

    return Periods(
        timedelta(days=pick("after_response_days")),
        timedelta(days=pick("after_decline_days")),
        timedelta(days=pick("after_display_days")),
        pick("sample_rate"),
    )
