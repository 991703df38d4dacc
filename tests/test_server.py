"""Start the real server process the way a user does and talk to it over HTTP."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {**os.environ, "NPS_DATABASE_URL": database_url}
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "nps_service", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"server did not become ready:\n{output}")
            time.sleep(0.2)
        yield base, env
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stdout:
            process.stdout.close()


def test_serve_ingest_and_score_over_http(server: tuple[str, dict[str, str]]) -> None:
    base, env = server
    key = subprocess.run(
        [
            sys.executable,
            "-m",
            "nps_service",
            "keys",
            "create",
            "--name",
            "e2e",
            "--scope",
            "admin",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
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
