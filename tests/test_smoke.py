"""The shortest path a user takes: post an answer, read the global NPS."""

from fastapi.testclient import TestClient

from tests.helpers import answer


def test_post_then_read_global_nps(client: TestClient, admin_headers: dict[str, str]) -> None:
    for score in (10, 9, 7, 3):
        reply = client.post("/v1/responses", headers=admin_headers, json=answer(score))
        assert reply.status_code == 201, reply.text
    body = client.get("/v1/scores", headers=admin_headers).json()
    (group,) = body["groups"]
    assert group["key"] == {}
    assert group["overall"]["n"] == 4
    # 2 promoters, 1 passive, 1 detractor: 100 * (2 - 1) / 4
    assert group["overall"]["nps"] == 25.0
