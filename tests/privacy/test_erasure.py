"""DELETE /v1/respondents/{id}: every score afterwards equals a recomputation without the
person, whether their answers were folded or pending, and while others keep arriving."""

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.filters import UTC_ZONE, ResponseFilter
from nps_service.rollups.engine import SqlTotals
from nps_service.rollups.fold import fold_all
from nps_service.rollups.totals import TotalsQuery
from nps_service.survey import Interval
from tests.helpers import answer, assert_problem, post_all

START = datetime(2026, 10, 1, tzinfo=UTC)
METRICS = ("overall", "logistics", "product", "service", "app")


def people_answers(rng: random.Random, people: int, per: int) -> list[dict[str, Any]]:
    out = []
    for p in range(people):
        for _ in range(per):
            dims = {d: rng.randint(0, 10) for d in METRICS[1:] if rng.random() < 0.8}
            out.append(
                answer(
                    rng.randint(0, 10),
                    respondent_id=f"person_{p}",
                    dimensions=dims,
                    weight=rng.choice([1, 2]),
                    context={
                        "category": rng.choice(["beauty", "food"]),
                        "merchant_id": f"m{rng.randint(1, 4)}",
                    },
                    submitted_at=(START + timedelta(minutes=rng.randint(0, 20 * 1440))).isoformat(),
                )
            )
    return out


def classes(values: list[int]) -> tuple[int, int, int]:
    return (
        sum(v >= 9 for v in values),
        sum(7 <= v <= 8 for v in values),
        sum(v <= 6 for v in values),
    )


def expected(answers: list[dict[str, Any]], key: Any) -> dict[Any, dict[str, tuple[int, int, int]]]:
    """Per group, per metric: (promoters, passives, detractors), from the answers alone."""
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for item in answers:
        grouped.setdefault(key(item), []).append(item)
    out = {}
    for group, items in grouped.items():
        out[group] = {"overall": classes([i["score"] for i in items])}
        for d in METRICS[1:]:
            out[group][d] = classes([i["dimensions"][d] for i in items if d in i["dimensions"]])
    return out


def observed(
    client: TestClient, headers: dict[str, str], params: dict[str, str], names: list[str]
) -> dict[Any, dict[str, tuple[int, int, int]]]:
    reply = client.get("/v1/scores", headers=headers, params=params)
    assert reply.status_code == 200, reply.text
    out = {}
    for group in reply.json()["groups"]:
        metrics = {"overall": group["overall"], **group["dimensions"]}
        out[tuple(group["key"][n] for n in names)] = {
            m: (v["promoters"], v["passives"], v["detractors"]) for m, v in metrics.items()
        }
    return out


def check_scores(client: TestClient, headers: dict[str, str], kept: list[dict[str, Any]]) -> None:
    day = lambda a: (datetime.fromisoformat(a["submitted_at"]).astimezone(UTC).date().isoformat(),)  # noqa: E731
    for params, names, key in (
        ({}, [], lambda a: ()),
        ({"group_by": "category"}, ["category"], lambda a: (a["context"]["category"],)),
        (
            {"group_by": "merchant_id,category"},
            ["merchant_id", "category"],
            lambda a: (a["context"]["merchant_id"], a["context"]["category"]),
        ),
        ({"interval": "day", "tz": "UTC"}, ["bucket"], day),
    ):
        assert observed(client, headers, params, names) == expected(kept, key), params


def test_erasure_matches_a_recomputation(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    rng = random.Random(3)
    answers = people_answers(rng, people=12, per=15)
    post_all(client, admin_headers, answers)
    engine = create_db_engine(settings)
    fold_all(engine)  # these are folded
    later = people_answers(random.Random(4), people=12, per=3)
    post_all(client, admin_headers, later)  # these are pending
    shown = client.post(
        "/v1/displays",
        headers=admin_headers,
        json={"respondent_id": "person_2", "context": {"category": "beauty"}},
    )
    assert shown.status_code == 201
    gone = {"person_2", "person_5", "person_11"}
    for person in sorted(gone):
        reply = client.delete(f"/v1/respondents/{person}", headers=admin_headers)
        assert reply.status_code == 200, reply.text
        assert reply.json() == {
            "respondent_id": person,
            "responses_erased": 18,
            "displays_erased": 1 if person == "person_2" else 0,
        }
    again = client.delete("/v1/respondents/person_2", headers=admin_headers).json()
    assert (again["responses_erased"], again["displays_erased"]) == (0, 0)
    kept = [a for a in answers + later if a["respondent_id"] not in gone]
    check_scores(client, admin_headers, kept)
    fold_all(engine)
    check_scores(client, admin_headers, kept)
    # Key drivers' moment sums too: the rollups agree with a scan of what is stored.
    with make_session_factory(engine)() as session:
        query = TotalsQuery(
            ResponseFilter(None, None, UTC_ZONE), Interval.WEEK, ["category"], True, True
        )
        from_rollups = SqlTotals(session).group_totals(query)
        session.rollback()
        scanned = SqlTotals(session, use_rollups=False).group_totals(query)
    rolled = {_key(k): m for k, m in zip(from_rollups.keys, from_rollups.moments, strict=True)}
    raw = {_key(k): m for k, m in zip(scanned.keys, scanned.moments, strict=True)}
    assert rolled.keys() == raw.keys()
    for group, moments in rolled.items():
        assert moments.keys() == raw[group].keys()
        for name in moments:
            assert moments[name] == pytest.approx(raw[group][name], rel=1e-9, abs=1e-9), name
    for person in gone:
        listed = client.get("/v1/responses", headers=admin_headers, params={"limit": 1000}).json()[
            "items"
        ]
        assert all(item["respondent_id"] != person for item in listed)
    scores = client.get("/v1/scores", headers=admin_headers).json()["groups"][0]["displays"]
    assert scores["shown"] == 0
    log = client.get("/v1/audit", headers=admin_headers).json()["items"]
    assert [entry["action"] for entry in log] == ["respondent.erased"] * 4
    assert all("person" not in str(entry) for entry in log)
    engine.dispose()


def test_erasure_needs_admin(
    client: TestClient, read_headers: dict[str, str], ingest_headers: dict[str, str]
) -> None:
    for headers in (read_headers, ingest_headers):
        assert_problem(client.delete("/v1/respondents/u_1", headers=headers), 403)
        assert_problem(client.get("/v1/audit", headers=headers), 403)
    assert_problem(client.delete("/v1/respondents/u_1"), 401)


def _key(key: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted(key.items(), key=str))


def by_key(totals: Any) -> dict[tuple[Any, ...], list[list[int]]]:
    """Each group's class counts of every metric, by key (sources come in any order)."""
    return {
        _key(key): [totals.metrics[m].counts[i].tolist() for m in METRICS]
        for i, key in enumerate(totals.keys)
    }


@pytest.mark.slow
def test_erasures_during_ingest_and_folding_stay_exact(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    engine = create_db_engine(settings)
    rng = random.Random(9)
    post_all(client, admin_headers, people_answers(rng, people=40, per=5))
    stop = threading.Event()
    errors: list[BaseException] = []

    def folding() -> None:
        while not stop.is_set():
            try:
                fold_all(engine, batch_size=50)
            except BaseException as exc:
                errors.append(exc)

    def posting() -> None:
        local = random.Random(10)
        while not stop.is_set():
            reply = client.post(
                "/v1/responses/batch",
                headers=admin_headers,
                json={"responses": people_answers(local, 40, 1)},
            )
            if reply.status_code not in (200, 201):
                errors.append(AssertionError(reply.text))

    threads = [threading.Thread(target=folding), threading.Thread(target=posting)]
    for thread in threads:
        thread.start()
    try:
        for person in range(0, 40, 3):
            reply = client.delete(f"/v1/respondents/person_{person}", headers=admin_headers)
            assert reply.status_code == 200, reply.text
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors[:3]
    # Erase those people once more now that nothing else runs: what arrived meanwhile goes.
    for person in range(0, 40, 3):
        client.delete(f"/v1/respondents/person_{person}", headers=admin_headers)
    for _ in range(2):
        with make_session_factory(engine)() as session:
            for query in (
                TotalsQuery(ResponseFilter(None, None, UTC_ZONE), None, ["category"], True, True),
                TotalsQuery(
                    ResponseFilter(None, None, UTC_ZONE),
                    Interval.DAY,
                    ["merchant_id"],
                    False,
                    False,
                ),
            ):
                from_rollups = SqlTotals(session).group_totals(query)
                session.rollback()
                scanned = SqlTotals(session, use_rollups=False).group_totals(query)
                session.rollback()
                assert by_key(from_rollups) == by_key(scanned)
        fold_all(engine)
    with engine.connect() as connection:
        left = connection.execute(
            text("SELECT count(*) FROM responses WHERE respondent_id IN ('person_0', 'person_3')")
        ).scalar()
    assert left == 0
    engine.dispose()
