"""Single answers in group commits: each answer of a group is judged on its own, and the
fast path answers exactly as the route does."""

import uuid
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.errors import Conflict, Unauthorized
from nps_service.keys.service import Scope, create_key, revoke_key
from nps_service.responses.ingest import Stored
from nps_service.responses.rows import content_hash, row_values
from nps_service.responses.schemas import ResponseIn
from nps_service.responses.writer import store_group
from tests.helpers import answer, assert_problem, stored_n


def _row(body: dict[str, object]) -> dict[str, object]:
    payload = ResponseIn.model_validate(body)
    return row_values(payload, payload.id or uuid.uuid4(), content_hash(payload), datetime.now(UTC))


def test_each_answer_of_a_group_gets_its_own_outcome(settings: Settings) -> None:
    engine = create_db_engine(settings)
    with make_session_factory(engine)() as session:
        kept, _ = create_key(session, "kept", [Scope.INGEST])
        revoked, _ = create_key(session, "revoked", [Scope.INGEST])
        session.commit()
        revoke_key(session, revoked.id)
        session.commit()
    first = answer(9)
    same_again = dict(first)
    other_content = {**first, "score": 3}
    by_revoked_key = answer(5)
    items = [
        (_row(first), kept.id),
        (_row(same_again), kept.id),
        (_row(other_content), kept.id),
        (_row(by_revoked_key), revoked.id),
    ]
    with engine.connect() as connection:
        outcomes = store_group(connection, items)
        retried = store_group(connection, [(_row(first), kept.id)])
    engine.dispose()
    created, repeated, clash, refused = outcomes
    assert isinstance(created, Stored)
    assert created.created
    assert isinstance(repeated, Stored)
    assert not repeated.created
    assert repeated.response == created.response
    assert isinstance(clash, Conflict)
    assert isinstance(refused, Unauthorized)
    (again,) = retried
    assert isinstance(again, Stored)
    assert not again.created
    assert again.response.id == created.response.id


def test_the_fast_path_answers_as_the_route_does(
    client: TestClient, ingest_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    body = answer(9, context={"merchant_id": "m_1"})
    # The first use of a key goes through the route (the key is looked up), later ones
    # through the fast path; the answers must not tell them apart.
    created = client.post("/v1/responses", headers=ingest_headers, json=body)
    assert created.status_code == 201, created.text
    retried = client.post("/v1/responses", headers=ingest_headers, json=body)
    assert retried.status_code == 200, retried.text
    assert retried.json() == created.json()
    fresh = client.post("/v1/responses", headers=ingest_headers, json=answer(10))
    assert fresh.status_code == 201
    assert fresh.headers["content-type"] == "application/json"
    # Anything out of the ordinary is answered by the route, as it always was.
    clash = client.post("/v1/responses", headers=ingest_headers, json={**body, "score": 2})
    assert_problem(clash, 409)
    invalid = client.post("/v1/responses", headers=ingest_headers, json={**answer(9), "score": 11})
    problem = assert_problem(invalid, 422)
    assert problem["errors"][0]["pointer"] == "/score"
    text_body = client.post(
        "/v1/responses",
        headers={**ingest_headers, "Content-Type": "text/plain"},
        content=b'{"respondent_id": "u", "score": 1}',
    )
    assert_problem(text_body, 415)
    assert stored_n(client, admin_headers) == 2


def test_a_key_revoked_after_its_first_use_stores_nothing(
    client: TestClient, settings: Settings
) -> None:
    engine = create_db_engine(settings)
    with make_session_factory(engine)() as session:
        key, plaintext = create_key(session, "soon revoked", [Scope.INGEST])
        session.commit()
        headers = {"Authorization": f"Bearer {plaintext}"}
        assert client.post("/v1/responses", headers=headers, json=answer(9)).status_code == 201
        revoke_key(session, key.id)
        session.commit()
    engine.dispose()
    # The process still knows the key as valid; the writer checks it again as it stores.
    assert_problem(client.post("/v1/responses", headers=headers, json=answer(9)), 401)
