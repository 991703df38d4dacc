"""Webhooks from a real `serve --workers 2`: the dispatcher threads deliver, and a SIGKILL
of the workers mid-delivery loses no event (it is sent again with the same webhook-id)."""

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests import servers
from tests.webhooks.receiver import receiver

pytestmark = pytest.mark.slow


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], int]]:
    settings = {
        "NPS_WEBHOOK_ALLOW_PRIVATE": "true",
        "NPS_WEBHOOK_INTERVAL_SECONDS": "0.2",
        "NPS_WEBHOOK_TIMEOUT_SECONDS": "2",
        "NPS_WEBHOOK_RETRY_SECONDS": "1,1,1,1,1,1",
    }
    with servers.served(database_url, tmp_path, workers=2, extra_env=settings) as server:
        yield server.base, server.env, server.process.pid


def _workers(supervisor: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(supervisor)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [int(pid) for pid in found]


def test_killed_workers_lose_no_event(served: tuple[str, dict[str, str], int]) -> None:
    base, env, pid = served
    headers = {"Authorization": f"Bearer {servers.cli_admin_key(env)}"}
    with receiver() as sink, httpx.Client(base_url=base, headers=headers, timeout=10) as http:
        sink.delays = [1.5]  # the first delivery is held while the workers die
        hook = http.post(
            "/v1/webhooks",
            json={"url": sink.url, "events": ["response.created", "response.detractor"]},
        )
        assert hook.status_code == 201, hook.text
        secret, hook_id = hook.json()["secret"], hook.json()["id"]
        answers = [
            {"id": str(uuid.uuid4()), "respondent_id": f"r{i}", "score": i % 11} for i in range(30)
        ]
        for body in answers:
            assert http.post("/v1/responses", json=body).status_code == 201
        assert sink.holding.wait(15), "no delivery started"
        workers = _workers(pid)
        assert workers, "no worker processes found"
        for worker in workers:
            os.kill(worker, signal.SIGKILL)
        expected = {(a["id"], "response.created") for a in answers} | {
            (a["id"], "response.detractor") for a in answers if a["score"] <= 6
        }
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                log = http.get(f"/v1/webhooks/{hook_id}/deliveries", params={"limit": 1000})
            except httpx.TransportError:
                log = None  # the workers are being replaced
            if log is not None and log.status_code == 200:
                items = log.json()["items"]
                if len(items) == len(expected) and all(i["status"] == "succeeded" for i in items):
                    break
            time.sleep(0.5)
        else:
            pytest.fail("deliveries did not all succeed after the workers were killed")
        checker = Webhook(secret)
        seen: dict[tuple[str, str], set[str]] = {}
        for request in sink.requests:
            body = checker.verify(request.body, request.headers)
            seen.setdefault((body["data"]["id"], body["type"]), set()).add(
                request.headers["webhook-id"]
            )
        assert set(seen) == expected  # every event delivered at least once
        assert all(len(ids) == 1 for ids in seen.values())  # repeats keep their webhook-id
        # The held delivery reached the receiver, but its worker died before recording it:
        # it was sent again.
        assert len(sink.requests) > len(expected)
