"""Browsers may call the API from configured origins; metrics count stored answers."""

from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.main import create_app
from tests.helpers import answer


def test_cors_preflight_allows_configured_origin(settings: Settings) -> None:
    settings = settings.model_copy(update={"cors_origins": ["https://shop.example"]})
    with TestClient(create_app(settings)) as client:
        reply = client.options(
            "/v1/responses",
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert reply.status_code == 200
        assert reply.headers["access-control-allow-origin"] == "https://shop.example"
        other = client.options(
            "/v1/responses",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in other.headers


def test_cors_is_off_by_default(client: TestClient) -> None:
    reply = client.get("/healthz", headers={"Origin": "https://shop.example"})
    assert "access-control-allow-origin" not in reply.headers


def test_cors_origins_from_environment(monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("NPS_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]


def test_metrics_count_stored_answers(client: TestClient, ingest_headers: dict[str, str]) -> None:
    first = answer(9)
    client.post("/v1/responses", headers=ingest_headers, json=first)
    client.post("/v1/responses", headers=ingest_headers, json=first)  # a retry: not counted
    client.post(
        "/v1/responses/batch",
        headers=ingest_headers,
        json={"responses": [answer(1), answer(2), first]},
    )
    text = client.get("/metrics").text
    assert "nps_responses_stored_total 3.0" in text
    assert 'nps_http_requests_total{method="POST",route="/v1/responses",status="201"} 1.0' in text
    assert 'nps_http_requests_total{method="POST",route="/v1/responses",status="200"} 1.0' in text
