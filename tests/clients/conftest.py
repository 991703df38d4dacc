"""The contract's tools: pinned linters and client generators, and a live server to drive.

`npm ci` in clients/ (pinned by clients/package-lock.json) and a separate venv with the
Python client's generator (pinned by clients/python/requirements.txt; openapi-python-client
pins a typer that conflicts with the service's) are installed once and reused while their
pins are unchanged: clients/node_modules and clients/.cache, both gitignored. Missing node
or npm is a failure under CI (NPS_TEST_DATABASE_URL set), where a skip would prove nothing,
and a skip elsewhere, so the README's test command works where only Python is installed.
"""

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, PG_ENV
from tests.databases import empty_database
from tests.servers import served, server_env

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "clients"
DOCUMENT = ROOT / "openapi.yaml"
CACHE = CLIENTS / ".cache"
NPM_TIMEOUT = 600


@dataclass
class Run:
    """A finished command: its exit code and everything it printed."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return f"$ {' '.join(self.command)}\n(exit {self.returncode})\n{self.stdout}\n{self.stderr}"


def run(command: list[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None) -> Run:
    done = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Run(command, done.returncode, done.stdout, done.stderr)


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for node tools: no update checks, no telemetry."""
    return {
        **os.environ,
        "NO_UPDATE_NOTIFIER": "1",
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
        "REDOCLY_TELEMETRY": "off",
        "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
        **extra,
    }


def _stamp(pins: Path, runtime: str) -> str:
    """What an install was made from: its pin file and runtime (clients/check writes the same)."""
    return f"{hashlib.sha256(pins.read_bytes()).hexdigest()} {runtime}\n"


@contextmanager
def _locked(name: str) -> Iterator[None]:
    """One installer at a time, across concurrent pytest runs in this work tree."""
    CACHE.mkdir(exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def node_tools() -> Path:
    """clients/node_modules from `npm ci`, reinstalled whenever the lock file changes."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        message = (
            "the contract checks need Node.js >= 20.19 and npm on PATH "
            "(apt-get install nodejs npm, or https://nodejs.org): they lint openapi.yaml "
            "and build the TypeScript client with clients/package-lock.json"
        )
        if os.environ.get(PG_ENV):
            pytest.fail(message)
        pytest.skip(message)
    version = run([node, "--version"], cwd=CLIENTS, timeout=30).stdout.strip()
    stamp = CLIENTS / "node_modules" / ".nps-installed"
    digest = _stamp(CLIENTS / "package-lock.json", version)
    with _locked("npm"):
        if not stamp.exists() or stamp.read_text() != digest:
            installed = run([npm, "ci"], cwd=CLIENTS, timeout=NPM_TIMEOUT, env=tool_env())
            if installed.returncode != 0:
                pytest.fail(f"npm ci failed in clients/:\n{installed.output}")
            stamp.write_text(digest)
    return CLIENTS / "node_modules"


@pytest.fixture(scope="session")
def python_tools() -> Path:
    """The bin/ of a venv with openapi-python-client, mypy and the client's runtime."""
    venv = CACHE / "python-venv"
    requirements = CLIENTS / "python" / "requirements.txt"
    stamp = venv / ".nps-installed"
    digest = _stamp(requirements, platform.python_version())
    with _locked("python"):
        if not stamp.exists() or stamp.read_text() != digest:
            steps = [
                [sys.executable, "-m", "venv", "--clear", str(venv)],
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                    str(requirements),
                ],
            ]
            for step in steps:
                done = run(step, cwd=CLIENTS, timeout=NPM_TIMEOUT)
                if done.returncode != 0:
                    pytest.fail(f"installing the Python client tools failed:\n{done.output}")
            stamp.write_text(digest)
    return venv / "bin"


@dataclass
class LiveServer:
    base: str
    admin_key: str
    backend: str
    log: Path


@pytest.fixture(scope="module", params=BACKENDS)
def client_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of each backend (PostgreSQL only with NPS_TEST_DATABASE_URL)."""
    folder = tmp_path_factory.mktemp("clients-db")
    with empty_database(request.param, folder, "nps_clients") as url:
        yield url


@pytest.fixture(scope="module")
def live_server(
    client_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """`nps-service serve` on a free port, as an operator starts it, with an admin key.

    Webhooks may target 127.0.0.1 (the drivers receive their own deliveries); no rate
    limits (the drivers are one client sending a few hundred requests)."""
    folder = tmp_path_factory.mktemp("clients-server")
    settings = {"NPS_WEBHOOK_ALLOW_PRIVATE": "true", "NPS_RATE_LIMITS": ""}
    env = server_env(client_database, settings)
    command = [sys.executable, "-m", "nps_service"]
    for step in (
        [*command, "migrate"],
        [*command, "keys", "create", "--name", "clients", "--scope", "admin"],
    ):
        done = subprocess.run(
            step, env=env, cwd=folder, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
    admin_key = done.stdout.strip()
    # 90 s to get ready: a loaded CI machine imports slowly.
    with served(client_database, folder, extra_env=settings, timeout=90) as server:
        backend = "sqlite" if client_database.startswith("sqlite") else "postgresql"
        yield LiveServer(server.base, admin_key, backend, server.log_path)
