"""nosniff and no-referrer on every response, no-store on the API, a CSP on HTML pages."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.main import create_app
from nps_service.web.security_headers import (
    DEFAULT_CSP,
    SecurityHeadersMiddleware,
    install_security_headers,
)


def with_headers(app: FastAPI) -> FastAPI:
    """The headers middleware is installed here until main.py does."""
    if not any(m.cls is SecurityHeadersMiddleware for m in app.user_middleware):
        install_security_headers(app)
    return app


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.get("/v1/test-cached", include_in_schema=False, tags=["test"])
    def cached() -> JSONResponse:
        return JSONResponse({}, headers={"Cache-Control": "max-age=60"})

    @app.get("/test-page", include_in_schema=False, tags=["test"])
    def page() -> HTMLResponse:
        return HTMLResponse("<p>hello</p>")

    @app.get("/test-own-csp", include_in_schema=False, tags=["test"])
    def own_csp() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>", headers={"Content-Security-Policy": "default-src 'self'"})

    return with_headers(app)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_api_responses(client: TestClient, read_headers: dict[str, str]) -> None:
    answers = [
        client.get("/v1/scores", headers=read_headers),
        client.get("/v1/scores"),  # 401
        client.get("/v1/nothing-here", headers=read_headers),  # 404
        client.post("/v1/responses", content=b"{", headers=read_headers),  # 4xx
    ]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        assert "content-security-policy" not in response.headers  # JSON, not a page


def test_single_answer_fast_path(client: TestClient, ingest_headers: dict[str, str]) -> None:
    for score in (9, 10):  # the second one takes the fast path (the key is known)
        response = client.post(
            "/v1/responses", json={"respondent_id": "r", "score": score}, headers=ingest_headers
        )
        assert response.status_code == 201
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_own_cache_control_is_kept(client: TestClient) -> None:
    response = client.get("/v1/test-cached")
    assert response.headers["cache-control"] == "max-age=60"
    widget = client.get("/widget/nps-survey.js")
    assert widget.status_code == 200
    assert widget.headers["x-content-type-options"] == "nosniff"
    assert widget.headers.get("cache-control") != "no-store"


def test_operations_routes(client: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers.get("cache-control") != "no-store", path


def test_html_gets_a_csp_unless_it_has_one(client: TestClient) -> None:
    page = client.get("/test-page")
    assert page.headers["content-security-policy"] == DEFAULT_CSP
    assert "frame-ancestors 'none'" in DEFAULT_CSP
    assert "object-src 'none'" in DEFAULT_CSP
    assert client.get("/test-own-csp").headers["content-security-policy"] == "default-src 'self'"
