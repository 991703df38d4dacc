"""Start the real server process the way a user does and talk to it over HTTP."""

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.servers import cli_admin_key, served

# Real server processes.
pytestmark = pytest.mark.slow


@pytest.fixture
def server(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    with served(database_url, tmp_path, workers=getattr(request, "param", 1)) as running:
        yield running.base, running.env


def test_serve_ingest_and_score_over_http(server: tuple[str, dict[str, str]]) -> None:
    base, env = server
    key = cli_admin_key(env)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
        answers = [10, 10, 9, 8, 7, 6, 0]
        for score in answers:
            assert (
                http.post("/v1/responses", json={"respondent_id": "r", "score": score}).status_code
                == 201
            )
        overall = http.get("/v1/scores").json()["groups"][0]["overall"]
        # 3 promoters, 2 passives, 2 detractors out of 7.
        assert (overall["n"], overall["promoters"], overall["detractors"]) == (7, 3, 2)
        assert overall["nps"] == pytest.approx(100 * (3 - 2) / 7, rel=1e-12)
        assert http.get("/v1/scores").status_code == 200
        metrics = http.get("/metrics", headers={})
        assert metrics.status_code == 200
        assert "nps_http_requests_total" in metrics.text
        assert httpx.get(f"{base}/v1/scores", timeout=5).status_code == 401


@pytest.mark.parametrize("server", [2], indirect=True)
def test_two_workers_with_concurrent_clients_count_exactly(
    server: tuple[str, dict[str, str]],
) -> None:
    """Several client threads, retries included, against two server processes that also
    fold rollups in the background: every answer is counted once."""
    base, env = server
    headers = {"Authorization": f"Bearer {cli_admin_key(env)}"}
    answers = [
        {
            "id": str(uuid.uuid4()),
            "respondent_id": f"r{i}",
            "score": i % 11,
            "context": {"category": "c" + str(i % 3)},
        }
        for i in range(240)
    ]
    # Every answer is posted twice (a client retry), from different threads.
    work = answers + answers[::-1]

    def post(chunk: list[dict[str, object]]) -> list[int]:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            return [http.post("/v1/responses", json=a).status_code for a in chunk]

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = [s for chunk in pool.map(post, [work[i::6] for i in range(6)]) for s in chunk]
    assert statuses.count(201) == len(answers)
    assert statuses.count(200) == len(answers)
    promoters = sum(1 for a in answers if int(a["score"]) >= 9)  # type: ignore[call-overload]
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        for _ in range(2):  # before and after the background folder has run
            body = http.get("/v1/scores", params={"group_by": "category"}).json()
            assert sum(g["overall"]["n"] for g in body["groups"]) == len(answers)
            assert sum(g["overall"]["promoters"] for g in body["groups"]) == promoters
            time.sleep(2.5)


def test_oversized_headers_are_refused_while_they_arrive(
    server: tuple[str, dict[str, str]],
) -> None:
    base, _env = server
    host, port = base.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000)
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 431"), reply[:200]
    assert b"problem+json" in reply
    assert time.monotonic() - started < 5
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200  # still serving


def _store_many(base: str, headers: dict[str, str], count: int) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for start in range(0, count, 1000):
            batch = [
                {"id": str(uuid.uuid4()), "respondent_id": "u" * 100, "score": i % 11}
                for i in range(start, start + 1000)
            ]
            assert http.post("/v1/responses/batch", json={"responses": batch}).status_code == 201


@pytest.fixture
def shutdown_bound(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("NPS_SHUTDOWN_TIMEOUT_SECONDS", "2")
    return 2


def test_sigterm_ends_a_server_held_by_a_slow_reader(
    shutdown_bound: int, database_url: str, tmp_path: Path
) -> None:
    """A client reading an export slowly cannot keep the server from stopping."""
    with served(database_url, tmp_path) as running:
        base, env, port, process = running.base, running.env, running.port, running.process
        key = cli_admin_key(env)
        _store_many(base, {"Authorization": f"Bearer {key}"}, 20_000)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(
                f"GET /v1/responses/export HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {key}\r\n\r\n".encode()
            )
            assert sock.recv(1024).startswith(b"HTTP/1.1 200")
            time.sleep(1)  # the export now waits on a client that does not read
            started = time.monotonic()
            process.terminate()
            process.wait(timeout=shutdown_bound + 15)
            assert time.monotonic() - started < shutdown_bound + 10


@pytest.mark.parametrize("server", [2], indirect=True)
def test_a_worker_killed_mid_ingest_loses_no_acknowledged_answer(
    server: tuple[str, dict[str, str]],
) -> None:
    """SIGKILL one of two workers while clients post; clients retry what got no answer,
    with the same ids. Every acknowledged answer is stored, each counted once."""
    base, env = server
    headers = {"Authorization": f"Bearer {cli_admin_key(env)}"}
    server_pid = int(
        subprocess.run(
            ["pgrep", "-f", f"nps_service.server --host 127.0.0.1 --port {base.rsplit(':', 1)[1]}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[0]
    )
    answers = [
        {"id": str(uuid.uuid4()), "respondent_id": f"r{i}", "score": i % 11} for i in range(600)
    ]

    def post_with_retries(chunk: list[dict[str, object]]) -> int:
        acknowledged = 0
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            for body in chunk:
                for _attempt in range(20):
                    try:
                        reply = http.post("/v1/responses", json=body)
                    except httpx.TransportError:
                        time.sleep(0.2)
                        continue
                    if reply.status_code in (200, 201):
                        acknowledged += 1
                        break
                    time.sleep(0.2)
        return acknowledged

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(post_with_retries, [answers[i::4] for i in range(4)])
        time.sleep(1.0)
        children = subprocess.run(
            ["pgrep", "-P", str(server_pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        workers = [pid for pid in children if _is_python(pid)]
        assert workers, "no worker found"
        os.kill(int(workers[0]), 9)
        acknowledged = sum(results)
    assert acknowledged == len(answers)
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        (group,) = http.get("/v1/scores").json()["groups"]
    assert group["overall"]["n"] == len(answers)


def _is_python(pid: str) -> bool:
    try:
        return "python" in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False
