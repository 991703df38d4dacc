"""Simultaneous writers: idempotency by id holds under real database concurrency.

Sync endpoints run in the thread pool, so concurrent ASGI requests are concurrent
transactions on the database.
"""

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from nps_service.config import Settings
from nps_service.main import create_app
from tests.helpers import answer

WRITERS = 32
T = TypeVar("T")


def run_against(settings: Settings, scenario: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """Run `scenario` with an async client on a fresh app for these settings."""
    app: FastAPI = create_app(settings)

    async def main() -> T:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await scenario(client)

    try:
        return asyncio.run(main())
    finally:
        app.state.engine.dispose()


def outcome(replies: list[httpx.Response]) -> str:
    """Status counts and the first unexpected body, for assertion messages."""
    counts = Counter(reply.status_code for reply in replies)
    odd = next((r.text for r in replies if r.status_code not in (200, 201, 409)), "")
    return f"statuses {dict(sorted(counts.items()))}; first other reply: {odd[:300]}"


async def stored_n(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    reply = await client.get("/v1/scores", headers=headers)
    assert reply.status_code == 200, reply.text
    (group,) = reply.json()["groups"]
    n: int = group["overall"]["n"]
    return n


def test_same_id_posted_simultaneously_is_stored_once(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    body = answer(
        9,
        comment="sent 32 times",
        properties={"attempt": True},
        submitted_at="2025-11-20T10:00:00+08:00",
    )

    async def scenario(client: httpx.AsyncClient) -> tuple[list[httpx.Response], Any, int]:
        replies = await asyncio.gather(
            *(
                client.post("/v1/responses", json=body, headers=admin_headers)
                for _ in range(WRITERS)
            )
        )
        fetched = await client.get(f"/v1/responses/{body['id']}", headers=admin_headers)
        return list(replies), fetched, await stored_n(client, admin_headers)

    replies, fetched, n = run_against(settings, scenario)
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [200] * (WRITERS - 1) + [201], outcome(replies)
    # Every writer sees the same stored answer, including its received_at.
    assert all(reply.json() == fetched.json() for reply in replies)
    assert n == 1


def test_different_content_raced_on_one_id_stores_exactly_one(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    response_id = str(uuid.uuid4())
    bodies = [answer(score, id=response_id) for score in range(11)] * 3

    async def scenario(client: httpx.AsyncClient) -> tuple[list[httpx.Response], Any, int]:
        replies = await asyncio.gather(
            *(client.post("/v1/responses", json=b, headers=admin_headers) for b in bodies)
        )
        fetched = await client.get(f"/v1/responses/{response_id}", headers=admin_headers)
        return list(replies), fetched, await stored_n(client, admin_headers)

    replies, fetched, n = run_against(settings, scenario)
    winner = fetched.json()["score"]
    assert n == 1
    for sent, reply in zip(bodies, replies, strict=True):
        expected = (200, 201) if sent["score"] == winner else (409,)
        assert reply.status_code in expected, outcome(replies)
    # Exactly one request created the row; the other two copies of its content were retries.
    assert sorted(r.status_code for r in replies if r.status_code != 409) == [200, 200, 201]


@pytest.mark.parametrize("order", ["pool-order", "shuffled"])
def test_overlapping_batches_posted_simultaneously(
    settings: Settings, admin_headers: dict[str, str], order: str
) -> None:
    pool = [answer(i % 11, respondent_id=f"u_{i}") for i in range(200)]
    rng = random.Random(20261111)
    # Each batch takes 40 answers from the pool, overlapping the others: either in pool
    # order (every writer meets shared ids in the same order) or in its own random order
    # (as independent clients retrying partly overlapping batches would send them).
    picks = [sorted(rng.sample(range(len(pool)), 40)) for _ in range(WRITERS)]
    if order == "shuffled":
        for pick in picks:
            rng.shuffle(pick)
    batches = [[pool[i] for i in pick] for pick in picks]
    distinct = {item["id"] for batch in batches for item in batch}
    total_items = WRITERS * 40

    async def scenario(client: httpx.AsyncClient) -> tuple[list[httpx.Response], int]:
        replies = await asyncio.gather(
            *(
                client.post("/v1/responses/batch", json={"responses": batch}, headers=admin_headers)
                for batch in batches
            )
        )
        return list(replies), await stored_n(client, admin_headers)

    replies, n = run_against(settings, scenario)
    assert all(reply.status_code in (200, 201) for reply in replies), outcome(replies)
    bodies = [reply.json() for reply in replies]
    for batch, body in zip(batches, bodies, strict=True):
        assert body["ids"] == [item["id"] for item in batch]
        assert body["created"] + body["duplicates"] == len(batch)
    assert sum(body["created"] for body in bodies) == len(distinct)
    assert sum(body["duplicates"] for body in bodies) == total_items - len(distinct)
    assert n == len(distinct)


def test_disjoint_batches_and_singles_posted_simultaneously(
    settings: Settings, admin_headers: dict[str, str]
) -> None:
    batches = [[answer(9) for _ in range(25)] for _ in range(WRITERS // 2)]
    singles = [answer(3) for _ in range(WRITERS // 2)]

    async def scenario(client: httpx.AsyncClient) -> tuple[list[httpx.Response], int]:
        requests = [
            client.post("/v1/responses/batch", json={"responses": b}, headers=admin_headers)
            for b in batches
        ]
        requests += [client.post("/v1/responses", json=s, headers=admin_headers) for s in singles]
        replies = await asyncio.gather(*requests)
        return list(replies), await stored_n(client, admin_headers)

    replies, n = run_against(settings, scenario)
    assert all(reply.status_code == 201 for reply in replies), outcome(replies)
    assert n == (WRITERS // 2) * 25 + WRITERS // 2
