"""The server under test: started in its own process, its memory sampled, and posted to
over HTTP (wrk when installed, else an httpx client)."""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.report import rate
from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.keys.service import Scope, create_key


@contextmanager
def served(url: str, workers: int, port: int) -> Iterator[tuple[str, "RssSampler"]]:
    # One load generator is one client address: the flood limits would cap it at 333/s.
    env = {**os.environ, "NPS_DATABASE_URL": url, "NPS_LOG_LEVEL": "warning", "NPS_RATE_LIMITS": ""}
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
        prefix="nps-bench-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nps_service",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"server did not start; see {log_file.name}")
        time.sleep(0.3)
    sampler = RssSampler(process.pid)
    sampler.start()
    try:
        yield base, sampler
    finally:
        sampler.stop()
        process.terminate()
        process.wait(timeout=60)


class RssSampler(threading.Thread):
    """Peak resident memory of the server and its worker processes."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak_total = 0
        self.peak_process = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.2):
            try:
                family = [self.process, *self.process.children(recursive=True)]
                sizes = [p.memory_info().rss for p in family]
            except psutil.Error:
                continue
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_process = max(self.peak_process, max(sizes))

    def stop(self) -> None:
        self._done.set()
        self.join()


def admin_key(url: str) -> str:
    engine = create_db_engine(Settings(database_url=url))
    with make_session_factory(engine)() as session:
        _, plaintext = create_key(session, "bench", [Scope.ADMIN])
        session.commit()
    engine.dispose()
    return plaintext


# ---------------------------------------------------------------------------- HTTP ingest


def ingest_bodies(answers: list[dict[str, Any]]) -> tuple[list[bytes], list[bytes]]:
    """Single POST bodies, one per answer, and 300 batch bodies of 1000 answers each."""
    # Fresh ids every run: a re-posted id is a cheap duplicate, not an insert.
    singles = [json.dumps({**a, "id": str(uuid.uuid4())}).encode() for a in answers]
    batches = [
        json.dumps(
            {
                "responses": [
                    {**a, "id": str(uuid.uuid4())} for a in answers[i % 49_000 : i % 49_000 + 1000]
                ]
            }
        ).encode()
        for i in range(0, 300_000, 1000)
    ]
    return singles, batches


async def _post_for(
    base: str, key: str, path: str, bodies: list[bytes], clients: int, seconds: float
) -> tuple[int, int]:
    """(requests, failures) while `clients` connections post bodies back to back."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    counts = [0, 0]
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:

        async def one(index: int) -> None:
            position = index
            while time.perf_counter() < deadline:
                reply = await client.post(path, content=bodies[position % len(bodies)])
                counts[0 if reply.status_code in (200, 201) else 1] += 1
                position += clients

        await asyncio.gather(*(one(i) for i in range(clients)))
    return counts[0], counts[1]


# wrk (a C load generator) when installed: a Python client needs a core of its own to post
# a few hundred requests a second, and this machine has two.
WRK_SCRIPT = """
local bodies, position, step = {}, 0, 1
setup = function(thread)
  threads = (threads or 0) + 1
  thread:set("first", threads - 1)
end
init = function(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  position, step = first, tonumber(args[2])
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[3]
end
request = function()
  local body = bodies[position % #bodies + 1]
  position = position + step
  return wrk.format(nil, nil, nil, body)
end
"""


def _wrk_ingest(
    base: str, key: str, bodies: list[bytes], path: str, clients: int, seconds: float
) -> tuple[float, int]:
    threads = 2
    with tempfile.TemporaryDirectory(prefix="nps-bench-") as folder:
        script, data = Path(folder) / "post.lua", Path(folder) / "bodies.ndjson"
        script.write_text(WRK_SCRIPT)
        data.write_bytes(b"\n".join(bodies) + b"\n")
        result = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{clients}",
                f"-d{seconds:.0f}s",
                "-s",
                str(script),
                base + path,
                "--",
                str(data),
                str(threads),
                key,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", result.stdout)
    if total is None:
        raise SystemExit(f"unexpected wrk output:\n{result.stdout}")
    elapsed = float(total[2]) * {"ms": 0.001, "s": 1.0, "m": 60.0}[total[3]]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    failed = int(bad[1]) if bad else 0
    return rate(int(total[1]) - failed, elapsed), failed


CLIENT = "wrk" if shutil.which("wrk") else "httpx"


def http_ingest(
    base: str, key: str, bodies: list[bytes], path: str, clients: int, seconds: float
) -> tuple[float, int]:
    """Accepted answers (or batches) per second, and how many requests failed."""
    if shutil.which("wrk"):
        return _wrk_ingest(base, key, bodies, path, clients, seconds)
    started = time.perf_counter()
    ok, failed = asyncio.run(_post_for(base, key, path, bodies, clients, seconds))
    return rate(ok, time.perf_counter() - started), failed
