"""NPS_RETENTION_DAYS: old answers and displays lose their personal fields; scores stay."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.privacy.retention import apply_retention
from nps_service.rollups.fold import fold_all
from tests.helpers import answer, post_all


def test_old_personal_fields_go_and_scores_stay(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    now = datetime.now(UTC)
    old, new = now - timedelta(days=40), now - timedelta(days=10)
    personal = {
        "comment": "call me on 138",
        "properties": {"phone": "138"},
        "context": {"category": "beauty", "order_id": "o_1"},
        "dimensions": {"logistics": 3},
    }
    answers = [
        answer(9, respondent_id="old_1", submitted_at=old.isoformat(), **personal),
        answer(2, respondent_id="old_2", submitted_at=old.isoformat(), **personal),
        answer(7, respondent_id="new_1", submitted_at=new.isoformat(), **personal),
    ]
    post_all(client, admin_headers, answers)
    display = {
        "respondent_id": "old_1",
        "shown_at": old.isoformat(),
        "context": {"order_id": "o_1"},
    }
    shown = client.post("/v1/displays", headers=admin_headers, json=display).json()
    engine = create_db_engine(settings)
    fold_all(engine)
    before = client.get("/v1/scores", headers=admin_headers, params={"group_by": "category"}).json()
    counts = apply_retention(engine, days=30)
    assert counts == {"responses": 2, "displays": 1, "deliveries": 0}
    assert apply_retention(engine, days=30) == {"responses": 0, "displays": 0, "deliveries": 0}
    engine.dispose()
    after = client.get("/v1/scores", headers=admin_headers, params={"group_by": "category"}).json()
    assert after["groups"] == before["groups"]
    for item in answers:
        stored = client.get(f"/v1/responses/{item['id']}", headers=admin_headers).json()
        if item["respondent_id"].startswith("old"):
            assert stored["respondent_id"] is None
            assert stored["comment"] is None
            assert stored["properties"] == {}
            assert stored["context"]["order_id"] is None
            assert stored["context"]["category"] == "beauty"  # tags other than order_id stay
            assert stored["dimensions"]["logistics"] == 3
            assert stored["score"] == item["score"]
        else:
            assert stored["respondent_id"] == "new_1"
            assert stored["comment"] == personal["comment"]
    kept = client.get(f"/v1/displays/{shown['id']}", headers=admin_headers).json()
    assert kept["respondent_id"] is None
    assert kept["context"]["order_id"] is None
    log = client.get("/v1/audit", headers=admin_headers).json()["items"]
    assert [entry["action"] for entry in log] == ["retention.applied"]
    assert log[0]["details"]["responses"] == 2
    assert log[0]["key_id"] is None
