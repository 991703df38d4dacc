"""Webhook endpoints, the outbox and signed deliveries, against a real HTTP receiver."""

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from standardwebhooks.webhooks import Webhook

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.main import create_app
from nps_service.webhooks.dispatcher import dispatch_once, http_client
from nps_service.webhooks.models import Delivery
from nps_service.webhooks.outbox import emit_event
from nps_service.webhooks.sender import claim
from tests.helpers import answer, assert_problem
from tests.webhooks.receiver import Receiver, receiver

Headers = dict[str, str]


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    # Receivers here listen on 127.0.0.1; retries without waiting.
    return settings.model_copy(
        update={"webhook_allow_private": True, "webhook_retry_seconds": [0.0, 0.0, 0.0]}
    )


@pytest.fixture
def app_client(hook_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(hook_settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def sink() -> Iterator[Receiver]:
    with receiver() as target:
        yield target


def dispatch(settings: Settings) -> tuple[int, int]:
    engine = create_db_engine(settings)
    try:
        with ThreadPoolExecutor(4) as pool, http_client(settings) as client:
            return dispatch_once(engine, settings, pool, client)
    finally:
        engine.dispose()


def create_hook(client: TestClient, headers: Headers, **body: Any) -> dict[str, Any]:
    reply = client.post("/v1/webhooks", headers=headers, json=body)
    assert reply.status_code == 201, reply.text
    created: dict[str, Any] = reply.json()
    return created


def verified(target: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every received body, after checking its signature with the reference library."""
    checker = Webhook(secret)
    return [checker.verify(r.body, r.headers) for r in target.requests]


def test_manage_endpoints(app_client: TestClient, admin_headers: Headers, sink: Receiver) -> None:
    created = create_hook(
        app_client, admin_headers, url=sink.url, events=["response.created"], description="crm"
    )
    assert created["secret"].startswith("whsec_")
    assert created["enabled"] is True
    assert created["filters"] == {}
    fetched = app_client.get(f"/v1/webhooks/{created['id']}", headers=admin_headers).json()
    assert "secret" not in fetched
    assert fetched == {k: v for k, v in created.items() if k != "secret"}
    changed = app_client.patch(
        f"/v1/webhooks/{created['id']}",
        headers=admin_headers,
        json={"enabled": False, "filters": {"category": ["beauty"]}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["enabled"] is False
    assert changed.json()["filters"] == {"category": ["beauty"]}
    second = create_hook(app_client, admin_headers, url=sink.url, events=["alert.triggered"])
    page = app_client.get("/v1/webhooks?limit=1", headers=admin_headers).json()
    assert [item["id"] for item in page["items"]] == [created["id"]]
    rest = app_client.get(
        "/v1/webhooks", headers=admin_headers, params={"cursor": page["next_cursor"]}
    ).json()
    assert [item["id"] for item in rest["items"]] == [second["id"]]
    assert rest["next_cursor"] is None
    gone = app_client.delete(f"/v1/webhooks/{created['id']}", headers=admin_headers)
    assert gone.status_code == 204
    assert_problem(app_client.get(f"/v1/webhooks/{created['id']}", headers=admin_headers), 404)


def test_bad_endpoints_are_422(app_client: TestClient, admin_headers: Headers) -> None:
    for body in (
        {"url": "ftp://example.com/x", "events": ["response.created"]},
        {"url": "https://example.com/x", "events": []},
        {"url": "https://example.com/x", "events": ["response.updated"]},
        {
            "url": "https://example.com/x",
            "events": ["response.created"],
            "filters": {"score": ["1"]},
        },
        {"url": "https://example.com/x", "events": ["response.created"], "secret": "mine"},
    ):
        assert_problem(app_client.post("/v1/webhooks", headers=admin_headers, json=body), 422)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost:9/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
    ],
)
def test_private_targets_are_refused_unless_allowed(
    client: TestClient, admin_headers: Headers, url: str
) -> None:
    problem = assert_problem(
        client.post(
            "/v1/webhooks", headers=admin_headers, json={"url": url, "events": ["response.created"]}
        ),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/url"


def test_no_endpoint_means_no_outbox_rows(
    client: TestClient, admin_headers: Headers, settings: Settings
) -> None:
    client.post("/v1/responses", headers=admin_headers, json=answer(3))
    client.post(
        "/v1/responses/batch", headers=admin_headers, json={"responses": [answer(9), answer(1)]}
    )
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM webhook_outbox")).scalar() == 0
    engine.dispose()


def test_every_answer_and_detractor_is_delivered_signed(
    app_client: TestClient, admin_headers: Headers, sink: Receiver, hook_settings: Settings
) -> None:
    hook = create_hook(
        app_client,
        admin_headers,
        url=sink.url,
        events=["response.created", "response.detractor"],
        filters={"category": ["beauty", "toys"]},
    )
    beauty = [answer(s, context={"category": "beauty"}) for s in (0, 6, 7, 9)]
    other = [answer(2, context={"category": "food"}), answer(2)]
    for body in beauty[:2] + other[:1]:
        assert app_client.post("/v1/responses", headers=admin_headers, json=body).status_code == 201
    batch = {"responses": beauty[2:] + other[1:]}
    assert (
        app_client.post("/v1/responses/batch", headers=admin_headers, json=batch).status_code == 201
    )
    # A retry of a stored answer is no new event.
    app_client.post("/v1/responses", headers=admin_headers, json=beauty[0])
    dispatch(hook_settings)
    bodies = verified(sink, hook["secret"])
    created = {b["data"]["id"]: b for b in bodies if b["type"] == "response.created"}
    detractors = {b["data"]["id"] for b in bodies if b["type"] == "response.detractor"}
    assert set(created) == {b["id"] for b in beauty}
    assert detractors == {b["id"] for b in beauty if b["score"] <= 6}
    assert len(bodies) == 6  # each once
    stored = app_client.get(f"/v1/responses/{beauty[0]['id']}", headers=admin_headers).json()
    assert created[beauty[0]["id"]]["data"] == stored
    assert datetime.fromisoformat(created[beauty[0]["id"]]["timestamp"]).tzinfo is not None
    log = app_client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin_headers).json()
    assert {item["status"] for item in log["items"]} == {"succeeded"}
    assert {item["id"] for item in log["items"]} == {r.headers["webhook-id"] for r in sink.requests}


def test_failures_are_retried_with_the_same_id(
    app_client: TestClient, admin_headers: Headers, sink: Receiver, hook_settings: Settings
) -> None:
    hook = create_hook(app_client, admin_headers, url=sink.url, events=["response.created"])
    sink.script = [500, 503]
    body = answer(8)
    app_client.post("/v1/responses", headers=admin_headers, json=body)
    for _ in range(3):
        dispatch(hook_settings)
    (attempts,) = sink.by_id().values()
    assert len(attempts) == 3
    assert len({a.headers["webhook-signature"] for a in attempts}) >= 1
    for attempt_body in verified(sink, hook["secret"]):
        assert attempt_body["data"]["id"] == body["id"]
    (delivery,) = app_client.get(
        f"/v1/webhooks/{hook['id']}/deliveries", headers=admin_headers
    ).json()["items"]
    assert delivery["status"] == "succeeded"
    assert delivery["attempts"] == 3
    assert delivery["last_status_code"] == 200


def test_an_exhausted_schedule_fails_and_a_manual_retry_sends_again(
    app_client: TestClient, admin_headers: Headers, sink: Receiver, hook_settings: Settings
) -> None:
    hook = create_hook(app_client, admin_headers, url=sink.url, events=["response.created"])
    sink.script = [500] * 4  # one attempt and three retries
    app_client.post("/v1/responses", headers=admin_headers, json=answer(8))
    for _ in range(6):
        dispatch(hook_settings)
    assert len(sink.requests) == 4
    url = f"/v1/webhooks/{hook['id']}/deliveries"
    (delivery,) = app_client.get(url, headers=admin_headers).json()["items"]
    assert delivery["status"] == "failed"
    assert delivery["last_status_code"] == 500
    assert delivery["next_attempt_at"] is None
    retried = app_client.post(f"{url}/{delivery['id']}/retry", headers=admin_headers)
    assert retried.status_code == 200
    assert retried.json()["status"] == "pending"
    dispatch(hook_settings)
    assert len(sink.requests) == 5
    assert sink.requests[-1].headers["webhook-id"] == delivery["id"]
    assert app_client.get(url, headers=admin_headers).json()["items"][0]["status"] == "succeeded"
    assert_problem(app_client.post(f"{url}/msg_nope/retry", headers=admin_headers), 404)


def test_410_disables_the_endpoint(
    app_client: TestClient, admin_headers: Headers, sink: Receiver, hook_settings: Settings
) -> None:
    hook = create_hook(app_client, admin_headers, url=sink.url, events=["response.created"])
    sink.script = [410]
    app_client.post("/v1/responses", headers=admin_headers, json=answer(8))
    dispatch(hook_settings)
    app_client.post("/v1/responses", headers=admin_headers, json=answer(9))
    dispatch(hook_settings)
    assert len(sink.requests) == 1
    stored = app_client.get(f"/v1/webhooks/{hook['id']}", headers=admin_headers).json()
    assert stored["enabled"] is False
    assert "410" in stored["disabled_reason"]
    (delivery,) = app_client.get(
        f"/v1/webhooks/{hook['id']}/deliveries", headers=admin_headers
    ).json()["items"]
    assert delivery["status"] == "failed"
    assert delivery["last_status_code"] == 410


def test_alert_events_reach_their_subscribers(
    app_client: TestClient, admin_headers: Headers, sink: Receiver, hook_settings: Settings
) -> None:
    hook = create_hook(
        app_client,
        admin_headers,
        url=sink.url,
        events=["alert.triggered"],
        filters={"category": ["x"]},
    )
    engine = create_db_engine(hook_settings)
    with make_session_factory(engine)() as session:
        emit_event(session, "alert.triggered", {"alert_id": "a1", "delta": -12.5})
        session.commit()
    engine.dispose()
    app_client.post("/v1/responses", headers=admin_headers, json=answer(1))  # not subscribed
    dispatch(hook_settings)
    (body,) = verified(sink, hook["secret"])
    assert body["type"] == "alert.triggered"
    assert body["data"] == {"alert_id": "a1", "delta": -12.5}


def test_a_sender_that_died_mid_attempt_is_replaced_with_the_same_id(
    app_client: TestClient, admin_headers: Headers, sink: Receiver, hook_settings: Settings
) -> None:
    create_hook(app_client, admin_headers, url=sink.url, events=["response.created"])
    app_client.post("/v1/responses", headers=admin_headers, json=answer(8))
    engine = create_db_engine(hook_settings)
    with make_session_factory(engine)() as session:
        from nps_service.webhooks.fanout import fan_out

        assert fan_out(session) == 1
    # A process leases the delivery and dies before sending or recording anything.
    (taken,) = claim(engine, lease_seconds=60)
    dispatch(hook_settings)
    assert sink.requests == []  # the lease holds: nobody else sends it meanwhile
    with engine.begin() as connection:  # ...until it lapses
        connection.execute(
            update(Delivery).values(leased_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    engine.dispose()
    dispatch(hook_settings)
    (request,) = sink.requests
    assert request.headers["webhook-id"] == taken.delivery_id
    assert json.loads(request.body)["type"] == "response.created"


def test_an_endpoint_for_alerts_only_adds_no_answer_events(
    app_client: TestClient, admin_headers: Headers, sink: Receiver, hook_settings: Settings
) -> None:
    create_hook(app_client, admin_headers, url=sink.url, events=["alert.triggered"])
    app_client.post("/v1/responses", headers=admin_headers, json=answer(3))
    batch = {"responses": [answer(9), answer(1)]}
    app_client.post("/v1/responses/batch", headers=admin_headers, json=batch)
    engine = create_db_engine(hook_settings)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM webhook_outbox")).scalar() == 0
    engine.dispose()
    create_hook(app_client, admin_headers, url=sink.url, events=["response.detractor"])
    app_client.post("/v1/responses", headers=admin_headers, json=answer(3))
    engine = create_db_engine(hook_settings)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM webhook_outbox")).scalar() == 1
    engine.dispose()


def test_changes_wait_for_a_concurrent_writer(
    app_client: TestClient, admin_headers: Headers, sink: Receiver, hook_settings: Settings
) -> None:
    """PATCH, retry and DELETE read and then write: while another connection holds the
    write lock (the dispatcher, on SQLite), they wait their turn instead of a 503."""
    hook = create_hook(app_client, admin_headers, url=sink.url, events=["response.created"])
    assert app_client.post("/v1/responses", headers=admin_headers, json=answer(9)).is_success
    dispatch(hook_settings)
    delivery = app_client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin_headers)
    engine = create_db_engine(hook_settings)
    url = f"/v1/webhooks/{hook['id']}"
    try:
        for method, path, body in [
            ("PATCH", url, {"description": "changed"}),
            ("POST", f"{url}/deliveries/{delivery.json()['items'][0]['id']}/retry", None),
            ("DELETE", url, None),
        ]:
            with engine.connect() as connection, ThreadPoolExecutor(1) as pool:
                holder = connection.execution_options(sqlite_begin="IMMEDIATE")
                # SQLite: the database's write lock; PostgreSQL: the rows the change writes.
                lock = "SELECT 1 FROM webhook_endpoints, webhook_deliveries FOR UPDATE"
                holder.execute(text("SELECT 1" if engine.dialect.name == "sqlite" else lock))
                reply = pool.submit(
                    app_client.request, method, path, headers=admin_headers, json=body
                )
                done, _ = wait([reply], timeout=0.3)
                assert not done, (method, [f.result().text for f in done])
                holder.rollback()
                assert reply.result(timeout=10).status_code in (200, 204), method
    finally:
        engine.dispose()
