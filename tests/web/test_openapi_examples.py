"""Examples in the OpenAPI document (issue 15): every operation has them, each is valid
against its schema as a JSON Schema 2020-12 validator reads it (ECMA-262 patterns, formats
checked, like the linters), and the request examples are accepted by the app.

A failure here after an API change usually means the examples are stale; record them again:
    .venv/bin/python -m scripts.openapi_examples
"""

import copy
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from nps_service.web.openapi_examples import add_examples, recorded
from nps_service.web.problems import PROBLEM_MEDIA_TYPE

Json = dict[str, Any]
AGAIN = "stale examples? record them again: .venv/bin/python -m scripts.openapi_examples"
DOCUMENT_URI = "urn:nps-service:openapi"
PUBLIC_ADDRESS = "93.184.215.14"  # what the webhook example's host "resolves" to here


def with_examples(client: TestClient) -> Json:
    """The served document, with the examples added (again: adding is idempotent)."""
    document: Json = copy.deepcopy(client.get("/openapi.json").json())
    add_examples(document)
    return document


def operations(document: Json) -> Iterator[tuple[str, str, Json]]:
    """(path, method, operation) in document order."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def pointer(*parts: str) -> str:
    """A URI fragment for the JSON pointer to `parts` (escaped, then percent-encoded)."""
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
    return "#" + quote("/" + "/".join(escaped), safe="/~")


def examples(document: Json) -> Iterator[tuple[str, str, Any]]:
    """(where, pointer to its schema, example) of every example in the document."""
    for path, method, operation in operations(document):
        at = ("paths", path, method)
        label = operation["operationId"]
        for index, parameter in enumerate(operation.get("parameters", [])):
            if "example" in parameter:
                where = f"{label} parameter {parameter['name']}"
                yield where, pointer(*at, "parameters", str(index), "schema"), parameter["example"]
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            if "example" in media:
                where = f"{label} request {media_type}"
                schema = pointer(*at, "requestBody", "content", media_type, "schema")
                yield where, schema, media["example"]
        for status, response in operation["responses"].items():
            for media_type, media in response.get("content", {}).items():
                if "example" in media:
                    where = f"{label} {status} {media_type}"
                    schema = pointer(*at, "responses", status, "content", media_type, "schema")
                    yield where, schema, media["example"]


def test_every_operation_has_examples(client: TestClient) -> None:
    missing = []
    for _, _, operation in operations(with_examples(client)):
        label = operation["operationId"]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None and "example" not in body:
            missing.append(f"{label}: request body")
        successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        if not successes:
            missing.append(f"{label}: no success response")
        for status, response in successes.items():
            missing += [
                f"{label}: {status} {media_type}"
                for media_type, media in response.get("content", {}).items()
                if "example" not in media
            ]
        for status in ("401", "422"):
            problem = operation["responses"].get(status, {}).get("content", {})
            if PROBLEM_MEDIA_TYPE in problem and "example" not in problem[PROBLEM_MEDIA_TYPE]:
                missing.append(f"{label}: {status} {PROBLEM_MEDIA_TYPE}")
    assert not missing, f"{AGAIN}\n" + "\n".join(missing)


def test_recorded_operations_exist(client: TestClient) -> None:
    served = {op["operationId"] for _, _, op in operations(client.get("/openapi.json").json())}
    assert set(recorded()["operations"]) <= served, AGAIN


def test_examples_match_their_schemas(client: TestClient) -> None:
    document = with_examples(client)
    registry = jsonschema_rs.Registry(
        [(DOCUMENT_URI, client.get("/openapi.json").json())], draft=jsonschema_rs.Draft202012
    )
    failures = []
    checked = 0
    for where, schema, example in examples(document):
        validator = jsonschema_rs.validator_for(
            {"$ref": DOCUMENT_URI + schema}, registry=registry, validate_formats=True
        )
        for error in validator.iter_errors(example):
            failures.append(f"{where}: {error.message} at {error.instance_path}")
        checked += 1
    assert checked > 100
    assert not failures, f"{AGAIN}\n" + "\n".join(failures)


def test_the_webhook_example_is_a_public_https_url() -> None:
    for operation in ("webhooks_create", "webhooks_update"):
        body = recorded()["operations"][operation].get("request", {})
        if "url" not in body:
            continue
        parts = urlsplit(body["url"])
        assert parts.scheme == "https", body["url"]
        assert parts.hostname
        assert parts.hostname != "localhost"
        with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
            ipaddress.ip_address(parts.hostname)  # a name, resolved by its owner's DNS


def test_request_examples_are_accepted(
    client: TestClient, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each request example, in document order, on an empty database: the display that
    `displays_decline` declines is the one `displays_create` made; webhooks and alerts get
    their ids from the server, so their updates use the ids just created."""

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_ADDRESS, port))]

    # No DNS in tests: the URL's host resolves to a public address, so the full check runs.
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    created: dict[str, str] = {}
    sent = []
    for path, method, operation in operations(with_examples(client)):
        media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "example" not in media:
            continue
        values = {p["name"]: p["example"] for p in operation.get("parameters", [])}
        values |= created
        kinds = {p["name"]: p["in"] for p in operation.get("parameters", [])}
        query = {name: value for name, value in values.items() if kinds.get(name) == "query"}
        url = path.format(**{name: v for name, v in values.items() if kinds.get(name) == "path"})
        reply = client.request(
            method, url, params=query, json=media["example"], headers=admin_headers
        )
        label = operation["operationId"]
        assert reply.status_code in {int(s) for s in operation["responses"] if s[0] == "2"}, (
            f"{label}: {reply.status_code} {reply.text}"
        )
        if method == "post" and path.count("/") == 2 and "id" in reply.json():
            created[f"{path.rsplit('/', 1)[1].removesuffix('s')}_id"] = reply.json()["id"]
        sent.append(label)
    expected = {
        "responses_create",
        "responses_create_batch",
        "displays_create",
        "displays_decline",
        "contact_rules_put",
        "webhooks_create",
        "webhooks_update",
        "alerts_create",
        "alerts_update",
    }
    assert expected <= set(sent), sent
