"""Answers posted through the API: a fixed load as fast as it goes, a steady rate of batches,
and single answers from wrk."""

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.server import WRK_SCRIPT


def batch_bodies(answers: list[dict[str, Any]], size: int, fresh: int = 0) -> list[bytes]:
    """Batch bodies of `size` answers with new ids (`fresh` > 0: that many copies of all)."""
    copies = max(fresh, 1)
    return [
        json.dumps(
            {"responses": [{**a, "id": str(uuid.uuid4())} for a in answers[i : i + size]]}
        ).encode()
        for _ in range(copies)
        for i in range(0, len(answers), size)
    ]


def single_bodies(count: int) -> list[bytes]:
    """Single answers stamped on receipt (no submitted_at), each with its own id."""
    categories = ("beauty", "food", "apparel", "home", "electronics")
    return [
        json.dumps(
            {
                "id": str(uuid.uuid4()),
                "respondent_id": f"u_{i}",
                "score": i % 11,
                "dimensions": {"logistics": (i * 7) % 11, "product": (i * 3) % 11},
                "context": {
                    "merchant_id": f"m_{i % 500 + 1}",
                    "category": categories[i % len(categories)],
                    "channel": "live_stream",
                    "platform": "ios",
                },
            }
        ).encode()
        for i in range(count)
    ]


class BatchLoad:
    """Batches posted by `clients` connections: each once, or at a steady rate."""

    def __init__(
        self,
        base: str,
        key: str,
        bodies: list[bytes],
        clients: int,
        per_second: float | None = None,
    ) -> None:
        self.base, self.bodies, self.clients = base, bodies, clients
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.per_second = per_second
        self.accepted = 0
        self.failed = 0

    def _client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=self.clients)
        return httpx.AsyncClient(
            base_url=self.base, headers=self.headers, limits=limits, timeout=120
        )

    async def _post(self, client: httpx.AsyncClient, body: bytes) -> None:
        reply = await client.post("/v1/responses/batch", content=body)
        if reply.status_code in (200, 201):
            self.accepted += len(reply.json()["ids"])
        else:
            self.failed += 1

    async def post_all(self) -> tuple[int, int]:
        """Every body once, as fast as the server takes them: (answers accepted, failures)."""
        queue = list(reversed(self.bodies))
        async with self._client() as client:

            async def worker() -> None:
                while queue:
                    await self._post(client, queue.pop())

            await asyncio.gather(*(worker() for _ in range(self.clients)))
        return self.accepted, self.failed

    async def post_until(self, stop: threading.Event) -> None:
        """`per_second` bodies a second, round-robin, until `stop` is set."""
        assert self.per_second
        interval, position = 1 / self.per_second, 0
        async with self._client() as client:
            pending: set[asyncio.Task[None]] = set()
            next_at = time.monotonic()
            while not stop.is_set():
                body = self.bodies[position % len(self.bodies)]
                position += 1
                task = asyncio.create_task(self._post(client, body))
                pending.add(task)
                task.add_done_callback(pending.discard)
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await asyncio.gather(*pending)


class SingleLoad:
    """Single answers from wrk, 16 connections, for `seconds`."""

    def __init__(self, base: str, key: str, bodies: list[bytes], seconds: float) -> None:
        if not shutil.which("wrk"):
            raise SystemExit("wrk is needed for the single-answer load: apt-get install wrk")
        self.base, self.key, self.bodies, self.seconds = base, key, bodies, seconds
        self.rate = 0.0
        self.failed = 0

    def run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="nps-bench-") as folder:
            script, data = Path(folder) / "post.lua", Path(folder) / "bodies.ndjson"
            script.write_text(WRK_SCRIPT)
            data.write_bytes(b"\n".join(self.bodies) + b"\n")
            # A long timeout: an answer that takes longer under load still counts, and a
            # timed-out request is reported as failed rather than silently dropped.
            command = ["wrk", "-t2", "-c16", "--timeout", "30s", f"-d{self.seconds:.0f}s"]
            command += ["-s", str(script)]
            command += [self.base + "/v1/responses", "--", str(data), "2", self.key]
            result = subprocess.run(command, capture_output=True, text=True, check=True)
        total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", result.stdout)
        if total is None:
            raise SystemExit(f"unexpected wrk output:\n{result.stdout}")
        elapsed = float(total[2]) * {"ms": 0.001, "s": 1.0, "m": 60.0}[total[3]]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
        errors = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", result.stdout
        )
        self.failed = (int(bad[1]) if bad else 0) + (
            sum(map(int, errors.groups())) if errors else 0
        )
        self.rate = (int(total[1]) - self.failed) / elapsed
