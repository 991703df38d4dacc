"""`GET /widget/nps-survey.js`: the module, public, cacheable and revalidated by ETag."""

import hashlib
from importlib.resources import files

import pytest
from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.main import create_app

PATH = "/widget/nps-survey.js"
SOURCE = files("nps_service.widget").joinpath("static/nps-survey.js").read_bytes()


def test_the_module_is_served_without_a_key(client: TestClient) -> None:
    reply = client.get(PATH)
    assert reply.status_code == 200
    assert reply.content == SOURCE
    assert reply.headers["content-type"] == "text/javascript; charset=utf-8"
    assert reply.headers["cache-control"] == "public, max-age=3600"
    assert reply.headers["etag"] == f'"{hashlib.sha256(SOURCE).hexdigest()}"'
    assert reply.headers["x-content-type-options"] == "nosniff"
    # A module script is fetched in CORS mode: any page may load it.
    assert reply.headers["access-control-allow-origin"] == "*"
    assert b'customElements.define("nps-survey"' in reply.content


@pytest.mark.parametrize("form", ["{tag}", "W/{tag}", '"other", {tag}', "*"])
def test_a_current_tag_gets_304_without_a_body(client: TestClient, form: str) -> None:
    tag = client.get(PATH).headers["etag"]
    reply = client.get(PATH, headers={"If-None-Match": form.format(tag=tag)})
    assert reply.status_code == 304
    assert reply.content == b""
    assert reply.headers["etag"] == tag
    assert reply.headers["cache-control"] == "public, max-age=3600"


def test_a_stale_tag_gets_the_module(client: TestClient) -> None:
    reply = client.get(PATH, headers={"If-None-Match": '"0123", W/"4567"'})
    assert reply.status_code == 200
    assert reply.content == SOURCE


def test_an_allowed_origin_is_echoed(settings: Settings) -> None:
    origin = "https://shop.example"
    allowed = settings.model_copy(update={"cors_origins": [origin]})
    with TestClient(create_app(allowed)) as client:
        reply = client.get(PATH, headers={"Origin": origin})
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == origin


def test_the_operation_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][PATH]["get"]
    assert operation["operationId"] == "widget_script"
    assert operation["security"] == []  # public: no key
    assert list(operation["responses"]["200"]["content"]) == ["text/javascript"]
    assert "304" in operation["responses"]
