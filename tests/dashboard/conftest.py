"""A real service with demo data, and Chromium, for the dashboard's browser tests.

One `nps-service serve` per database backend for the module, filled by `nps-service
demo-data` (small, so CI stays fast) plus a few displays, declines and answers to them,
so that the response rate has something to show. Without Chromium the browser tests
skip, except under CI (NPS_TEST_DATABASE_URL set), where they fail.
"""

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from nps_service.keys.service import Scope
from tests.conftest import BACKENDS
from tests.databases import empty_database, new_key
from tests.servers import served, server_env

DEMO_ANSWERS = 20_000
DEMO_DAYS = 120
DISPLAYS = 60  # of which every third is answered and every fifth declined


@dataclass
class Server:
    base: str
    read_key: str
    backend: str
    log: Path

    def get(self, path: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.read_key}"}
        reply = httpx.get(f"{self.base}{path}", params=params, headers=headers, timeout=30)
        assert reply.status_code == 200, reply.text
        return reply.json()


@pytest.fixture(scope="module", params=BACKENDS)
def dashboard_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("dashboard")
    with empty_database(request.param, folder, "nps_dashboard") as url:
        yield url


def _record_displays(base: str, ingest_key: str) -> None:
    headers = {"Authorization": f"Bearer {ingest_key}"}
    now = datetime.now(UTC)
    for index in range(DISPLAYS):
        respondent = f"u_display_{index}"
        shown = now - timedelta(days=index % 30, hours=1)
        body = {
            "respondent_id": respondent,
            "touchpoint": "post_delivery",
            "context": {"category": "beauty"},
            "shown_at": shown.isoformat(),
        }
        display = httpx.post(f"{base}/v1/displays", json=body, headers=headers, timeout=10)
        assert display.status_code == 201, display.text
        display_id = display.json()["id"]
        if index % 3 == 0:
            answer = {
                "respondent_id": respondent,
                "score": 9,
                "display_id": display_id,
                "context": {"category": "beauty", "touchpoint": "post_delivery"},
                "submitted_at": shown.isoformat(),
            }
            reply = httpx.post(f"{base}/v1/responses", json=answer, headers=headers, timeout=10)
            assert reply.status_code == 201, reply.text
        elif index % 5 == 0:
            url = f"{base}/v1/displays/{display_id}/decline"
            assert httpx.post(url, headers=headers, timeout=10).status_code == 200


@pytest.fixture(scope="module")
def server(dashboard_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("dashboard-server")
    env = server_env(dashboard_database)
    command = [sys.executable, "-m", "nps_service"]
    demo = subprocess.run(
        [*command, "demo-data", str(DEMO_ANSWERS), "--days", str(DEMO_DAYS)],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    # 90 s to get ready: a loaded CI machine imports slowly.
    with served(dashboard_database, folder, timeout=90) as running:
        _record_displays(running.base, new_key(dashboard_database, Scope.INGEST))
        backend = "sqlite" if dashboard_database.startswith("sqlite") else "postgresql"
        yield Server(
            running.base,
            new_key(dashboard_database, Scope.READ),
            backend,
            running.log_path,
        )
