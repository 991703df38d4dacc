"""Authentication and scopes on every /v1 route (API.md, Conventions: Auth)."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response as HttpxResponse
from sqlalchemy import text
from sqlalchemy.orm import Session

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.keys.service import Scope, create_key, revoke_key
from tests.helpers import answer, assert_problem

Headers = dict[str, str]
KeyFactory = Callable[..., Headers]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    scope: Scope
    success: int

    def call(
        self, client: TestClient, headers: Headers | None, response_id: str | None = None
    ) -> HttpxResponse:
        path = self.path.replace("{id}", response_id or str(uuid.uuid4()))
        if self.path == "/v1/responses":
            body: Any = answer(8) if self.method == "POST" else None
        elif self.path == "/v1/responses/batch":
            body = {"responses": [answer(9), answer(3)]}
        else:
            body = None
        return client.request(self.method, path, headers=headers or {}, json=body)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    Route("POST", "/v1/responses", Scope.INGEST, 201),
    Route("POST", "/v1/responses/batch", Scope.INGEST, 201),
    Route("GET", "/v1/responses", Scope.READ, 200),
    Route("GET", "/v1/responses/{id}", Scope.READ, 200),
    Route("GET", "/v1/scores", Scope.READ, 200),
]
INGEST_ROUTES = [r for r in ROUTES if r.scope is Scope.INGEST]
READ_ROUTES = [r for r in ROUTES if r.scope is Scope.READ]


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    engine = create_db_engine(settings)
    with make_session_factory(engine)() as db_session:
        yield db_session
    engine.dispose()


def stored_id(client: TestClient, headers: Headers) -> str:
    """Store one answer and return its id, for GET /v1/responses/{id}."""
    body = answer(10)
    reply = client.post("/v1/responses", headers=headers, json=body)
    assert reply.status_code == 201, reply.text
    return str(body["id"])


def assert_unauthorized(reply: HttpxResponse) -> None:
    assert_problem(reply, 401)
    assert reply.headers.get("www-authenticate", "").lower().startswith("bearer")


def count_responses(settings: Settings) -> int:
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT COUNT(*) FROM responses")).scalar_one()
    engine.dispose()
    return int(count)


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_missing_key_is_401(client: TestClient, settings: Settings, route: Route) -> None:
    assert_unauthorized(route.call(client, None))
    assert count_responses(settings) == 0


@pytest.mark.parametrize("route", ROUTES, ids=str)
@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong",
        "Bearer nps_" + "A" * 43,
        "Bearer ",
        "Bearer",
        "Basic xyz",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "wrong",
        "",
    ],
)
def test_bad_credentials_are_401(
    client: TestClient, settings: Settings, route: Route, authorization: str
) -> None:
    assert_unauthorized(route.call(client, {"Authorization": authorization}))
    assert count_responses(settings) == 0


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_basic_scheme_with_a_valid_key_is_401(
    client: TestClient, key_factory: KeyFactory, route: Route
) -> None:
    # A real key sent under another scheme is not a bearer token.
    plaintext = key_factory(Scope.ADMIN)["Authorization"].removeprefix("Bearer ")
    assert_unauthorized(route.call(client, {"Authorization": f"Basic {plaintext}"}))


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_scheme_is_case_insensitive(
    client: TestClient, key_factory: KeyFactory, route: Route
) -> None:
    # RFC 9110 §11.1: the authentication scheme is case-insensitive.
    admin = key_factory(Scope.ADMIN)
    response_id = stored_id(client, admin)
    plaintext = admin["Authorization"].removeprefix("Bearer ")
    reply = route.call(client, {"Authorization": f"bearer {plaintext}"}, response_id)
    assert reply.status_code == route.success, reply.text


@pytest.mark.parametrize("route", INGEST_ROUTES, ids=str)
def test_missing_key_with_invalid_body_is_401_not_422(client: TestClient, route: Route) -> None:
    # Authentication comes first: an anonymous caller learns nothing about validation.
    reply = client.request(route.method, route.path, json={"score": "not a score"})
    assert_unauthorized(reply)


def test_missing_key_with_non_uuid_id_is_401(client: TestClient) -> None:
    assert_unauthorized(client.get("/v1/responses/not-a-uuid"))


def test_revoked_key_is_401_everywhere(client: TestClient, session: Session) -> None:
    key, plaintext = create_key(session, "soon revoked", [Scope.ADMIN])
    other, other_plaintext = create_key(session, "kept", [Scope.ADMIN])
    session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    kept = {"Authorization": f"Bearer {other_plaintext}"}
    response_id = stored_id(client, headers)
    for route in ROUTES:  # works before revocation
        reply = route.call(client, headers, response_id)
        assert reply.status_code == route.success, (str(route), reply.text)

    assert revoke_key(session, key.id) is not None
    session.commit()

    for route in ROUTES:
        assert_unauthorized(route.call(client, headers, response_id))
        # Revoking one key leaves the others alone.
        reply = route.call(client, kept, response_id)
        assert reply.status_code == route.success, (str(route), reply.text)
    assert other.id != key.id


@pytest.mark.parametrize("route", READ_ROUTES, ids=str)
def test_ingest_key_on_read_route_is_403(
    client: TestClient, key_factory: KeyFactory, route: Route
) -> None:
    ingest = key_factory(Scope.INGEST)
    response_id = stored_id(client, ingest)  # the same key can ingest...
    reply = route.call(client, ingest, response_id)  # ...but not read
    body = assert_problem(reply, 403)
    assert "read" in body["detail"]


@pytest.mark.parametrize("route", INGEST_ROUTES, ids=str)
def test_read_key_on_ingest_route_is_403(
    client: TestClient, settings: Settings, key_factory: KeyFactory, route: Route
) -> None:
    read = key_factory(Scope.READ)
    assert client.get("/v1/responses", headers=read).status_code == 200  # the key is valid
    reply = route.call(client, read)
    body = assert_problem(reply, 403)
    assert "ingest" in body["detail"]
    assert count_responses(settings) == 0


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_admin_key_works_everywhere(
    client: TestClient, key_factory: KeyFactory, route: Route
) -> None:
    admin = key_factory(Scope.ADMIN)
    response_id = stored_id(client, admin)
    reply = route.call(client, admin, response_id)
    assert reply.status_code == route.success, reply.text


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_each_scope_works_on_its_routes(
    client: TestClient, key_factory: KeyFactory, route: Route
) -> None:
    response_id = stored_id(client, key_factory(Scope.INGEST))
    own = key_factory(route.scope)
    both = key_factory(Scope.READ, Scope.INGEST)
    for headers in (own, both):
        reply = route.call(client, headers, response_id)
        assert reply.status_code == route.success, reply.text


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_operations_need_no_key(client: TestClient, path: str) -> None:
    reply = client.get(path)
    assert reply.status_code == 200, reply.text
    # A wrong key does not break them either.
    assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 200


def test_keys_are_stored_hashed(
    client: TestClient, settings: Settings, key_factory: KeyFactory
) -> None:
    plaintexts = [
        key_factory(scope)["Authorization"].removeprefix("Bearer ")
        for scope in (Scope.ADMIN, Scope.READ, Scope.INGEST)
    ]
    engine = create_db_engine(settings)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_keys")).all()
    engine.dispose()
    assert len(rows) == 3
    stored = [str(value) for row in rows for value in row if value is not None]
    for plaintext in plaintexts:
        # The secret part (everything past any display prefix) appears nowhere.
        secret_tail = plaintext[-20:]
        assert len(plaintext) >= 32
        assert not any(secret_tail in value for value in stored)
        assert not any(plaintext in value for value in stored)
    # The stored hash itself is not a key: a leaked table does not grant access.
    hashes = [value for value in stored if len(value) >= 32]
    assert hashes
    for value in hashes:
        assert_unauthorized(
            client.get("/v1/responses", headers={"Authorization": f"Bearer {value}"})
        )
    # While the plaintexts do work.
    for plaintext in plaintexts[:2]:
        reply = client.get("/v1/responses", headers={"Authorization": f"Bearer {plaintext}"})
        assert reply.status_code == 200, reply.text


def test_keys_are_distinct(key_factory: KeyFactory) -> None:
    keys = {key_factory(Scope.READ)["Authorization"] for _ in range(5)}
    assert len(keys) == 5


def test_unknown_key_error_does_not_echo_the_key(client: TestClient) -> None:
    secret = "nps_" + "s3cr3t" * 7
    reply = client.get("/v1/scores", headers={"Authorization": f"Bearer {secret}"})
    assert_unauthorized(reply)
    assert secret not in reply.text
