"""GET /v1/eligibility against an independent model of the contact rules, over answers,
displays and declines posted in a random order with past and present times."""

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, assert_problem

TOUCHPOINTS = ("post_delivery", "app_home", None)


@dataclass
class Person:
    """What happened to one person: (time, touchpoint) of each kind of event."""

    answers: list[tuple[datetime, str | None]] = field(default_factory=list)
    declines: list[tuple[datetime, str | None]] = field(default_factory=list)
    open_displays: list[tuple[datetime, str | None]] = field(default_factory=list)


def model(
    person: Person, rules: dict[str, Any], touchpoint: str | None, now: datetime, who: str
) -> dict[str, Any]:
    """API.md's rules, written from the text, not from the service's code."""
    own = rules["touchpoints"].get(touchpoint, {}) if touchpoint else {}

    def rule(name: str) -> float:
        return float(own.get(name, rules[name]))

    def latest(events: list[tuple[datetime, str | None]]) -> datetime | None:
        counted = [t for t, where in events if rules["across_touchpoints"] or where == touchpoint]
        return max(counted, default=None)

    running = []
    for reason, events, days in (
        ("answered_recently", person.answers, rule("after_response_days")),
        ("declined_recently", person.declines, rule("after_decline_days")),
        ("shown_recently", person.open_displays, rule("after_display_days")),
    ):
        at = latest(events)
        if at is not None and now < at + timedelta(days=days):
            running.append((at + timedelta(days=days), reason))
    if running:
        end = max(t for t, _ in running)
        reason = next(r for t, r in running if t == end)
        return {"eligible": False, "reason": reason, "next_eligible_at": end}
    digest = hashlib.sha256(f"{who}\x1f{touchpoint or ''}".encode()).digest()
    if int.from_bytes(digest[:8], "big") / 2**64 >= rule("sample_rate"):
        return {"eligible": False, "reason": "not_sampled", "next_eligible_at": None}
    return {"eligible": True, "reason": None, "next_eligible_at": None}


def _post(client: TestClient, headers: dict[str, str], path: str, body: Any) -> dict[str, Any]:
    reply = client.post(path, headers=headers, json=body)
    assert reply.status_code in (200, 201), reply.text
    result: dict[str, Any] = reply.json()
    return result


def _when(rng: random.Random, now: datetime) -> datetime:
    """Between 200 days ago and now, at a whole second."""
    return (now - timedelta(seconds=rng.randint(60, 200 * 86400))).replace(microsecond=0)


def _context(touchpoint: str | None) -> dict[str, str]:
    return {"touchpoint": touchpoint} if touchpoint else {}


@pytest.mark.parametrize("seed", [1, 2])
def test_eligibility_matches_the_rules(
    client: TestClient, admin_headers: dict[str, str], seed: int
) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    people = {f"p{seed}_{i}": Person() for i in range(12)}
    actions = []
    for who, person in people.items():
        for _ in range(rng.randint(0, 4)):
            kind, at, where = (
                rng.choice(["answer", "decline", "display", "answered_display"]),
                _when(rng, now),
                rng.choice(TOUCHPOINTS),
            )
            actions.append((who, person, kind, at, where))
    rng.shuffle(actions)  # stored in any order, whatever their times
    for who, person, kind, at, where in actions:
        if kind == "answer":
            _post(
                client,
                admin_headers,
                "/v1/responses",
                answer(8, respondent_id=who, submitted_at=at.isoformat(), context=_context(where)),
            )
            person.answers.append((at, where))
            continue
        shown = _post(
            client,
            admin_headers,
            "/v1/displays",
            {"respondent_id": who, "touchpoint": where, "shown_at": at.isoformat()},
        )
        if kind == "decline":
            declined_at = at + timedelta(seconds=rng.randint(1, 3600))
            declined_at = min(declined_at, now)
            _post(
                client,
                admin_headers,
                f"/v1/displays/{shown['id']}/decline",
                {"declined_at": declined_at.isoformat()},
            )
            person.declines.append((declined_at, where))
        elif kind == "answered_display":
            answered_at = min(at + timedelta(seconds=rng.randint(1, 600)), now)
            body = answer(
                9,
                respondent_id=who,
                submitted_at=answered_at.isoformat(),
                context=_context(where),
                display_id=shown["id"],
            )
            _post(client, admin_headers, "/v1/responses", body)
            person.answers.append((answered_at, where))
        else:
            person.open_displays.append((at, where))
    # The last display of one person is declined now, without a body.
    rule_sets = [
        {
            "after_response_days": 90,
            "after_decline_days": 30,
            "after_display_days": 7,
            "sample_rate": 1.0,
            "across_touchpoints": True,
            "touchpoints": {},
        },
        {
            "after_response_days": 120,
            "after_decline_days": 60,
            "after_display_days": 45,
            "sample_rate": 0.5,
            "across_touchpoints": False,
            "touchpoints": {
                "app_home": {"after_response_days": 10, "sample_rate": 1.0},
                "post_delivery": {"after_display_days": 150},
            },
        },
        {
            "after_response_days": 0,
            "after_decline_days": 0,
            "after_display_days": 0,
            "sample_rate": 0.3,
            "across_touchpoints": True,
            "touchpoints": {},
        },
    ]
    checked = 0
    for rules in rule_sets:
        assert client.put("/v1/contact-rules", headers=admin_headers, json=rules).status_code == 200
        for who, person in people.items():
            for where in TOUCHPOINTS:
                params = {"respondent_id": who, **({"touchpoint": where} if where else {})}
                reply = client.get("/v1/eligibility", headers=admin_headers, params=params)
                assert reply.status_code == 200, reply.text
                got = reply.json()
                expected = model(person, rules, where, datetime.now(UTC), who)
                if got["next_eligible_at"] is not None:
                    got["next_eligible_at"] = datetime.fromisoformat(got["next_eligible_at"])
                assert got == expected, (who, where, rules, person)
                checked += 1
    assert checked == 3 * 12 * 3


def test_an_answer_stored_a_moment_ago_counts_at_once(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    params = {"respondent_id": "fresh", "touchpoint": "post_delivery"}
    assert client.get("/v1/eligibility", headers=ingest_headers, params=params).json() == {
        "eligible": True,
        "reason": None,
        "next_eligible_at": None,
    }
    stored = _post(client, ingest_headers, "/v1/responses", answer(9, respondent_id="fresh"))
    got = client.get("/v1/eligibility", headers=ingest_headers, params=params).json()
    submitted = datetime.fromisoformat(stored["submitted_at"])
    assert got["eligible"] is False
    assert got["reason"] == "answered_recently"
    assert datetime.fromisoformat(got["next_eligible_at"]) == submitted + timedelta(days=90)


def test_shown_then_declined_then_answered_elsewhere(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    who = f"u_{uuid.uuid4().hex[:8]}"
    params = {"respondent_id": who}
    shown = _post(client, ingest_headers, "/v1/displays", {"respondent_id": who})
    got = client.get("/v1/eligibility", headers=ingest_headers, params=params).json()
    assert got["reason"] == "shown_recently"
    assert datetime.fromisoformat(got["next_eligible_at"]) == datetime.fromisoformat(
        shown["shown_at"]
    ) + timedelta(days=7)
    declined = _post(client, ingest_headers, f"/v1/displays/{shown['id']}/decline", None)
    got = client.get("/v1/eligibility", headers=ingest_headers, params=params).json()
    assert got["reason"] == "declined_recently"
    assert datetime.fromisoformat(got["next_eligible_at"]) == datetime.fromisoformat(
        declined["declined_at"]
    ) + timedelta(days=30)


def test_bad_parameters_are_422(client: TestClient, ingest_headers: dict[str, str]) -> None:
    for params in (
        {},
        {"respondent_id": ""},
        {"respondent_id": "u", "touchpoint": "a b"},
        {"respondent_id": "x" * 129},
    ):
        assert_problem(client.get("/v1/eligibility", headers=ingest_headers, params=params), 422)
