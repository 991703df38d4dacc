"""The real server for tests: `nps-service serve` in a subprocess on a free port.

    with served(database_url, tmp_path, workers=2, extra_env={"NPS_RATE_LIMITS": ""}) as server:
        httpx.get(f"{server.base}/v1/scores", ...)

The server runs as a user starts it (`python -m nps_service serve`), in `folder`, with its
output in `folder/server.log`. Any fixture scope can use it: the caller picks the folder.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, extra_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the database and any extra settings."""
    return {**os.environ, "NPS_DATABASE_URL": database_url, **(extra_env or {})}


@dataclass
class Served:
    """A running server: its URL, the environment it was started with, the process."""

    base: str  # e.g. http://127.0.0.1:8123
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]  # the supervisor; its children are the workers
    log_path: Path

    def log(self) -> str:
        """Everything the server has printed so far."""
        return self.log_path.read_text(errors="replace")


@contextmanager
def served(
    database_url: str,
    folder: Path,
    *,
    workers: int = 1,
    extra_env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    ready_path: str = "/readyz",
    timeout: float = 30,
) -> Iterator[Served]:
    """Start the server, wait until `ready_path` answers 200 and stop it afterwards.

    The test fails, with the server's log, if it exits or is not ready within `timeout`
    seconds. On the way out it is terminated, and killed if it has not stopped 30 seconds
    later; a test may stop it earlier itself (through `process`)."""
    port = free_port()
    env = server_env(database_url, extra_env)
    log_path = folder / "server.log"
    command = [sys.executable, "-m", "nps_service", "serve", "--port", str(port)]
    # A file, not a pipe: nobody reads a pipe while the test runs, and a full pipe would
    # block the server's logging.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--workers", str(workers), *args],
            env=env,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Served(f"http://{HOST}:{port}", port, env, process, log_path)
    try:
        _wait_ready(server, ready_path, timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def _wait_ready(server: Served, ready_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{server.base}{ready_path}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        code = server.process.poll()
        if code is not None:
            pytest.fail(f"server did not become ready (it exited, code {code}):\n{server.log()}")
        if time.monotonic() > deadline:
            pytest.fail(f"server did not become ready within {timeout}s:\n{server.log()}")
        time.sleep(0.2)


def cli_admin_key(env: Mapping[str, str]) -> str:
    """An admin key made the way an operator makes one: `nps-service keys create`."""
    return subprocess.run(
        [sys.executable, "-m", "nps_service", "keys", "create", "--name", "w", "--scope", "admin"],
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
