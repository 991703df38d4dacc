"""Webhooks from a real `serve --workers 2`: the dispatcher threads deliver, and a SIGKILL
of the workers mid-delivery loses no event (it is sent again with the same webhook-id)."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.webhooks.receiver import receiver

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text()
        time.sleep(0.2)
    pytest.fail(f"server did not become ready:\n{log.read_text()}")


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], int]]:
    env = {
        **os.environ,
        "NPS_DATABASE_URL": database_url,
        "NPS_WEBHOOK_ALLOW_PRIVATE": "true",
        "NPS_WEBHOOK_INTERVAL_SECONDS": "0.2",
        "NPS_WEBHOOK_TIMEOUT_SECONDS": "2",
        "NPS_WEBHOOK_RETRY_SECONDS": "1,1,1,1,1,1",
    }
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "nps_service", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _ready(base, process, log)
        yield base, env, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _admin_key(env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-m", "nps_service", "keys", "create", "--name", "w", "--scope", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()


def _workers(supervisor: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(supervisor)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [int(pid) for pid in found]


def test_killed_workers_lose_no_event(served: tuple[str, dict[str, str], int]) -> None:
    base, env, pid = served
    headers = {"Authorization": f"Bearer {_admin_key(env)}"}
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
