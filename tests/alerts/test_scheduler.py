"""The scheduler's pass, run directly with a fixed `now`; several at once."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from nps_service.alerts.intervals import latest_closed, rfc3339
from nps_service.alerts.scheduler import AlertScheduler, evaluate_due
from nps_service.config import Settings
from nps_service.db import create_db_engine
from tests.alerts.planted import DROP_ALERT, counted, create, outbox_alerts, plant


def test_scheduler_pass_with_a_fixed_now(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    plant(client, admin_headers)
    alert = create(client, admin_headers, **DROP_ALERT)
    create(client, admin_headers, **DROP_ALERT, enabled=False)
    engine = create_db_engine(settings)
    try:
        # Within the grace period after 2026-11-10 closed: the day before is the latest.
        early = datetime(2026, 11, 11, 0, 4, tzinfo=UTC)
        (first,) = evaluate_due(engine, settings, early)
        assert first.interval.start == datetime(2026, 11, 9, tzinfo=UTC)
        assert first.triggered == []  # nothing before 11-09 to drop from
        later = datetime(2026, 11, 11, 0, 6, tzinfo=UTC)
        (second,) = evaluate_due(engine, settings, later)
        assert second.alert_id.hex == alert["id"].replace("-", "")
        assert second.interval.start == datetime(2026, 11, 10, tzinfo=UTC)
        assert [event["group"] for event in second.triggered] == [{"region": "north"}]
        assert evaluate_due(engine, settings, later) == []  # once per interval
    finally:
        engine.dispose()
    assert outbox_alerts(settings) == 1
    log = client.get(f"/v1/alerts/{alert['id']}/events", headers=admin_headers).json()["items"]
    assert [item["interval"]["start"] for item in log] == [
        "2026-11-10T00:00:00Z",
        "2026-11-09T00:00:00Z",
    ]


def test_workers_evaluating_at_once_record_and_emit_once(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    plant(client, admin_headers)
    create(client, admin_headers, **DROP_ALERT)
    engine = create_db_engine(settings)
    start = threading.Barrier(4)
    now = datetime(2026, 11, 11, 0, 6, tzinfo=UTC)

    def worker() -> int:
        start.wait()
        return len(evaluate_due(engine, settings, now))

    try:
        with ThreadPoolExecutor(4) as pool:
            recorded = list(pool.map(lambda _: worker(), range(4)))
    finally:
        engine.dispose()
    assert sum(recorded) == 1
    assert counted(settings, "SELECT count(*) FROM alert_evaluations") == 1
    assert outbox_alerts(settings) == 1


def test_the_thread_evaluates_and_stops(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    alert = create(client, admin_headers, **DROP_ALERT)
    engine = create_db_engine(settings)
    scheduler = AlertScheduler(engine, settings.model_copy(update={"alert_interval_seconds": 0.05}))
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while not counted(settings, "SELECT count(*) FROM alert_evaluations"):
            assert time.monotonic() < deadline, "the scheduler evaluated nothing"
            time.sleep(0.05)
    finally:
        scheduler.stop()
        engine.dispose()
    (item,) = client.get(f"/v1/alerts/{alert['id']}/events", headers=admin_headers).json()["items"]
    latest = latest_closed("day", ZoneInfo("UTC"), datetime.now(UTC) - timedelta(seconds=300))
    assert item["interval"]["end"] == rfc3339(latest.end)


def test_a_scheduler_set_to_zero_never_starts(settings: Settings) -> None:
    engine = create_db_engine(settings)
    scheduler = AlertScheduler(engine, settings)  # the tests' settings: interval 0
    scheduler.start()
    scheduler.stop()
    engine.dispose()
    assert counted(settings, "SELECT count(*) FROM alert_evaluations") == 0
