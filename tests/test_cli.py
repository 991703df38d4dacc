"""The console script as an operator uses it: migrate and manage keys."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.main import create_app

# Each test runs the command in a new interpreter.
pytestmark = pytest.mark.slow


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NPS_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "nps_service", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keys_create_prints_only_the_key(database_url: str, settings: Settings) -> None:
    result = run_cli(database_url, "keys", "create", "--name", "frontend", "--scope", "ingest")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("nps_")
    key = lines[0]
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {key}"}
        ok = client.post("/v1/responses", headers=headers, json={"respondent_id": "a", "score": 9})
        assert ok.status_code == 201
        assert client.get("/v1/scores", headers=headers).status_code == 403


def test_keys_list_and_revoke(database_url: str, settings: Settings) -> None:
    key = run_cli(
        database_url, "keys", "create", "--name", "bi", "--scope", "read", "--scope", "ingest"
    ).stdout.strip()
    listing = run_cli(database_url, "keys", "list").stdout
    assert "bi" in listing
    assert "ingest read" in listing
    assert key not in listing
    key_id = listing.splitlines()[1].split("\t")[0]
    assert run_cli(database_url, "keys", "revoke", key_id).returncode == 0
    with TestClient(create_app(settings)) as client:
        reply = client.get("/v1/scores", headers={"Authorization": f"Bearer {key}"})
    assert reply.status_code == 401
    assert run_cli(database_url, "keys", "revoke", "999").returncode == 1


def test_keys_create_rejects_unknown_scope(database_url: str) -> None:
    result = run_cli(database_url, "keys", "create", "--name", "x", "--scope", "root")
    assert result.returncode != 0
    assert result.stdout == ""


def test_migrate_on_a_new_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    result = run_cli(f"sqlite:///{path}", "migrate")
    assert result.returncode == 0, result.stderr
    assert path.exists()
