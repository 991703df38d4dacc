"""Alerts evaluated on planted data against an independent computation.

The expected triggers come from tests/reference.py (adjusted-Wald centres and standard
errors from STATISTICS.md, a normal p-value) and a Holm adjustment written here, over the
planted counts, never from the service's code; the figures are also checked against
`GET /v1/scores/compare` for the same windows.
"""

import pytest
from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.rollups import fold_all
from tests.alerts.planted import (
    AT,
    CURRENT,
    DROP_ALERT,
    PLANTED,
    counted,
    create,
    outbox_alerts,
    plant,
    ratings,
)
from tests.helpers import post_all
from tests.reference import compare as reference


def holm(p_values: dict[str, float]) -> dict[str, float]:
    ordered = sorted(p_values, key=p_values.__getitem__)
    adjusted, running = {}, 0.0
    for rank, key in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - rank) * p_values[key]))
        adjusted[key] = running
    return adjusted


def expected_drops(min_n: int, confidence: float) -> dict[str, dict[str, float]]:
    judged = {
        region: reference(now, then)
        for region, (then, now) in PLANTED.items()
        if min(sum(then), sum(now)) >= min_n
    }
    adjusted = holm({region: figures["p_value"] for region, figures in judged.items()})
    return {
        region: {**figures, "p_value_adjusted": adjusted[region]}
        for region, figures in judged.items()
        if figures["delta"] < 0 and adjusted[region] < 1 - confidence
    }


def test_significant_drops_match_an_independent_computation(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    plant(client, admin_headers)
    alert = create(client, admin_headers, **DROP_ALERT)
    reply = client.post(
        f"/v1/alerts/{alert['id']}/evaluate", headers=admin_headers, params={"at": AT}
    )
    assert reply.status_code == 201, reply.text
    evaluation = reply.json()
    assert evaluation["interval"] == {"start": "2026-11-10T00:00:00Z", "end": AT}
    assert evaluation["baseline_interval"] == {
        "start": "2026-11-09T00:00:00Z",
        "end": "2026-11-10T00:00:00Z",
    }
    assert evaluation["groups_evaluated"] == len(PLANTED)
    expected = expected_drops(min_n=30, confidence=0.95)
    assert set(expected) == {"north"}  # the data are planted so that only north drops
    triggered = {event["group"]["region"]: event for event in evaluation["triggered"]}
    assert set(triggered) == set(expected)
    for region, figures in expected.items():
        event = triggered[region]
        for name, value in figures.items():
            assert event[name] == pytest.approx(value, rel=1e-9), name
        then, now = PLANTED[region]
        assert event["current"]["n"] == sum(now)
        assert event["baseline"]["n"] == sum(then)
        assert event["current"]["nps"] == pytest.approx(100 * (now[0] - now[2]) / sum(now))
        assert event["alert_id"] == alert["id"]
        assert event["alert_name"] == "drop"
        assert event["metric"] == "overall"
        assert event["condition"] == {"type": "significant_drop", "confidence": 0.95}
        assert event["evaluation_id"] == evaluation["id"]
        assert event["interval"] == evaluation["interval"]
        assert event["baseline_interval"] == evaluation["baseline_interval"]
    # One event per triggering group, in the outbox with the same data.
    assert outbox_alerts(settings) == len(expected)
    # The same figures as /v1/scores/compare over the same windows.
    params = {
        "from": "2026-11-10",
        "to": "2026-11-11",
        "baseline_from": "2026-11-09",
        "baseline_to": "2026-11-10",
        "channel": "app",
        "group_by": "region",
        "min_n": 30,
    }
    compared = client.get("/v1/scores/compare", headers=admin_headers, params=params).json()
    by_region = {group["key"]["region"]: group["overall"] for group in compared["groups"]}
    for region, event in triggered.items():
        figures = by_region[region]
        assert event["p_value_adjusted"] == figures["p_value_adjusted"]
        assert event["delta"] == figures["delta"]
        assert event["current"] == {k: figures["current"][k] for k in event["current"]}


def test_without_holm_pressure_a_weaker_drop_triggers(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    """West alone (one group, so Holm changes nothing) is significant at 0.95, not 0.99."""
    plant(client, admin_headers)
    for confidence, triggers in ((0.95, True), (0.99, False)):
        alert = create(
            client,
            admin_headers,
            filters={"region": ["west"]},
            condition={"type": "significant_drop", "confidence": confidence},
        )
        reply = client.post(
            f"/v1/alerts/{alert['id']}/evaluate", headers=admin_headers, params={"at": AT}
        )
        assert reply.status_code == 201
        (then, now) = PLANTED["west"]
        p_value = reference(now, then)["p_value"]
        assert (p_value < 1 - confidence) is triggers
        assert len(reply.json()["triggered"]) == int(triggers)


def test_min_n_floor_and_folded_rollups(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    """With min_n 10, east (20 answers) is judged too; folded rollups give the same."""
    plant(client, admin_headers)
    engine = create_db_engine(settings)
    fold_all(engine)
    engine.dispose()
    alert = create(client, admin_headers, **DROP_ALERT, min_n=10)
    reply = client.post(
        f"/v1/alerts/{alert['id']}/evaluate", headers=admin_headers, params={"at": AT}
    )
    expected = expected_drops(min_n=10, confidence=0.95)
    assert set(expected) == {"north", "east"}
    triggered = {event["group"]["region"]: event for event in reply.json()["triggered"]}
    assert set(triggered) == set(expected)
    for region, figures in expected.items():
        assert triggered[region]["p_value_adjusted"] == pytest.approx(
            figures["p_value_adjusted"], rel=1e-9
        )


def test_below_threshold_on_a_dimension(client: TestClient, admin_headers: dict[str, str]) -> None:
    answers = ratings((10, 10, 20), CURRENT, metric="logistics", region="a")  # NPS -25
    answers += ratings((30, 10, 0), CURRENT, metric="logistics", region="b")  # NPS 75
    answers += ratings((0, 0, 5), CURRENT, metric="logistics", region="c")  # n 5 < min_n
    post_all(client, admin_headers, answers)
    alert = create(
        client,
        admin_headers,
        metric="logistics",
        group_by=["region"],
        condition={"type": "below", "value": 0},
        min_n=10,
    )
    reply = client.post(
        f"/v1/alerts/{alert['id']}/evaluate", headers=admin_headers, params={"at": AT}
    )
    (event,) = reply.json()["triggered"]
    assert event["group"] == {"region": "a"}
    assert event["metric"] == "logistics"
    assert event["current"]["n"] == 40
    assert event["current"]["nps"] == pytest.approx(-25.0)
    # No baseline answers: nothing to compare, so no change is claimed.
    assert event["baseline"]["n"] == 0
    assert event["delta"] is None
    assert event["p_value"] is None


def test_evaluate_is_idempotent(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    plant(client, admin_headers)
    alert = create(client, admin_headers, **DROP_ALERT)
    url = f"/v1/alerts/{alert['id']}/evaluate"
    first = client.post(url, headers=admin_headers, params={"at": AT})
    assert first.status_code == 201
    assert outbox_alerts(settings) == 1
    # Any instant in the next day names the same interval: nothing new.
    again = client.post(url, headers=admin_headers, params={"at": "2026-11-11T23:59:59Z"})
    assert again.status_code == 200
    assert again.json() == first.json()
    assert outbox_alerts(settings) == 1
    events = client.get(f"/v1/alerts/{alert['id']}/events", headers=admin_headers).json()
    assert events["items"] == [first.json()]
    assert (
        client.get(f"/v1/alerts/{alert['id']}", headers=admin_headers).json()[
            "last_evaluated_start"
        ]
        == "2026-11-10T00:00:00Z"
    )
    # Deleting the alert deletes its log.
    assert client.delete(f"/v1/alerts/{alert['id']}", headers=admin_headers).status_code == 204
    assert counted(settings, "SELECT count(*) FROM alert_evaluations") == 0


def test_dst_day_is_25_hours(client: TestClient, admin_headers: dict[str, str]) -> None:
    """Europe/Berlin, 2026-10-25: clocks go back, the local day lasts 25 hours."""
    answers = ratings((0, 0, 3), "2026-10-25T22:30:00Z")  # 23:30 local on the 25th
    answers += ratings((0, 0, 4), "2026-10-24T21:30:00Z")  # 23:30 local on the 24th
    answers += ratings((0, 0, 5), "2026-10-25T23:30:00Z")  # 00:30 on the 26th: outside
    post_all(client, admin_headers, answers)
    alert = create(
        client,
        admin_headers,
        tz="Europe/Berlin",
        condition={"type": "below", "value": 0},
        min_n=1,
    )
    reply = client.post(
        f"/v1/alerts/{alert['id']}/evaluate",
        headers=admin_headers,
        params={"at": "2026-10-26T00:30:00+01:00"},
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["interval"] == {"start": "2026-10-24T22:00:00Z", "end": "2026-10-25T23:00:00Z"}
    assert body["baseline_interval"] == {
        "start": "2026-10-23T22:00:00Z",
        "end": "2026-10-24T22:00:00Z",
    }
    (event,) = body["triggered"]
    assert event["current"]["n"] == 3
    assert event["baseline"]["n"] == 4
