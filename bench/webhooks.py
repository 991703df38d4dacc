"""Ingest speed with webhooks, three configurations in the same run.

    .venv/bin/python bench/webhooks.py --seconds 12

`serve --workers 2` (dispatcher on, NPS_WEBHOOK_ALLOW_PRIVATE=true), fresh database. Batch
POSTs (1000 answers, 4 wrk connections), then single POSTs (16), alternate A B C A B C with
fresh ids; before each phase the rollup tail is folded and the outbox is empty:
  A. no endpoint (the baseline);
  B. one enabled endpoint subscribed only to alert.triggered: answers still go to the
     outbox (the SQL asks only whether an enabled endpoint exists) and the dispatcher reads
     and deletes them: the whole cost of "configured, not subscribed" (a disabled endpoint
     costs one probe of a tiny table, as A does);
  C. one endpoint subscribed to response.created, answered 200 by a tiny asyncio receiver
     in its own process: deliveries/s and the backlog at the end.
Cores used by server, PostgreSQL, receiver, wrk, the rest are sampled. Targets: B/A >= 90%,
C/A >= 75%."""

import argparse
import asyncio
import math
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psutil
import psycopg

from bench.data import answers_for_ingest, fresh_database, psycopg_url
from bench.load import batch_bodies, single_bodies
from bench.report import Report, log
from bench.server import WRK_SCRIPT, admin_key, served
from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.migrate import upgrade

CONFIGS = {"A": "no endpoint", "B": "alert.triggered only", "C": "response.created"}
TARGETS = {"B": 0.90, "C": 0.75}
GROUPS = ("server", "postgres", "receiver", "wrk", "other")
DB = "nps_webhooks"


async def _receive(port: int, count: Any) -> None:
    """A receiver that answers 200 at once and counts what it received."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                await reader.readexactly(int(length[1]) if length else 0)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                count.value += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def receive(port: int, count: Any) -> None:
    asyncio.run(_receive(port, count))


class CpuSampler(threading.Thread):
    """CPU seconds used by each group of processes, sampled twice a second."""

    def __init__(self, server_pid: int, receiver_pid: int) -> None:
        super().__init__(daemon=True)
        self.server_pid, self.receiver_pid = server_pid, receiver_pid
        self.seen: dict[int, tuple[str, float]] = {}
        self._done = threading.Event()

    def _group(self, process: psutil.Process) -> str:
        if process.pid == self.receiver_pid:
            return "receiver"
        name, line = process.info["name"] or "", " ".join(process.info["cmdline"] or [])
        backend = re.match(r"postgres: [^:]+: \S+ (\S+) ", line)  # a client's connection
        if name == "wrk" or (name == "postgres" and (not backend or backend[1] == DB)):
            return name
        if process.pid == self.server_pid or process.info["ppid"] == self.server_pid:
            return "server"
        return "other"

    def sample(self) -> None:
        for process in psutil.process_iter(["name", "ppid", "cpu_times", "cmdline"]):
            times = process.info["cpu_times"]
            if times is not None:
                self.seen[process.pid] = (self._group(process), times.user + times.system)

    def run(self) -> None:
        while not self._done.wait(0.5):
            self.sample()

    def mark(self) -> dict[int, tuple[str, float]]:
        self.sample()
        return dict(self.seen)

    def since(self, start: dict[int, tuple[str, float]], seconds: float) -> dict[str, float]:
        """Cores used by each group since `start` (a `mark`)."""
        self.sample()
        used = dict.fromkeys(GROUPS, 0.0)
        for pid, (group, cpu) in self.seen.items():
            used[group] += max(0.0, cpu - start.get(pid, (group, 0.0))[1])
        return {group: cpu / seconds for group, cpu in used.items()}

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)


def run_wrk(base: str, key: str, path: str, bodies: list[bytes], clients: int, seconds: float):
    """(requests ok, failed, elapsed s, p50 ms, p99 ms) of one wrk run with --latency."""
    with tempfile.TemporaryDirectory(prefix="nps-bench-") as folder:
        script, data = Path(folder) / "post.lua", Path(folder) / "bodies.ndjson"
        script.write_text(WRK_SCRIPT)
        data.write_bytes(b"\n".join(bodies) + b"\n")
        command = ["wrk", "-t2", f"-c{clients}", "--timeout", "30s", "--latency"]
        command += [f"-d{seconds:.0f}s", "-s", str(script), base + path]
        command += ["--", str(data), "2", key]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", out)
    if total is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    elapsed = float(total[2]) * units[total[3]] / 1000
    latency = {
        m[1]: float(m[2]) * units[m[3]]
        for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    }
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(bad[1]) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
    ok = int(total[1]) - failed
    if int(total[1]) > len(bodies):
        log(f"  warning: {total[1]} requests > {len(bodies)} bodies: some were duplicates")
    return ok, failed, elapsed, latency.get("50", math.nan), latency.get("99", math.nan)


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT (SELECT count(*) FROM webhook_outbox), count(*) FILTER (WHERE e.id IS NOT"
            " NULL AND status = 'pending'), count(e.id), count(*) FILTER (WHERE e.id IS NULL),"
            " (SELECT count(*) FROM pending_rollup) FROM webhook_deliveries d"
            " LEFT JOIN webhook_endpoints e ON e.id = d.endpoint_id"
        ).fetchone()
    assert row is not None  # orphans: deliveries of a deleted endpoint
    names = ("outbox", "pending", "deliveries", "orphans", "tail")
    return dict(zip(names, map(int, row), strict=True))


def wait_quiet(url: str, timeout: float = 300) -> None:
    """Until the rollup tail is folded and the outbox drained (work left by the last
    phase would otherwise be charged to the next)."""
    deadline = time.monotonic() + timeout
    while (now := counts(url))["tail"] > 1000 or now["outbox"] > 0:
        if time.monotonic() > deadline:
            log(f"  still busy after {timeout:.0f} s: {now}")
            return
        time.sleep(1)
    time.sleep(2)


class Phases:
    def __init__(self, args: argparse.Namespace, url: str, base: str, key: str) -> None:
        self.args, self.url, self.base, self.key = args, psycopg_url(url), base, key
        headers = {"Authorization": f"Bearer {key}"}
        self.http = httpx.Client(base_url=base, headers=headers, timeout=300)
        self.answers = answers_for_ingest(50_000, seed=99)
        self.results: dict[tuple[str, str], list[dict[str, float]]] = {}

    def bodies(self, kind: str) -> list[bytes]:
        if kind == "batch":  # enough for 12,000 answers/s: ids must never repeat
            copies = math.ceil(self.args.seconds * 12_000 / len(self.answers)) + 1
            return batch_bodies(self.answers, 1000, fresh=copies)
        return single_bodies(int(self.args.seconds * 4000))

    def run(self, kind: str, config: str, cpu: CpuSampler, received: Any) -> None:
        bodies = self.bodies(kind)
        wait_quiet(self.url)
        endpoint = None
        if config != "A":
            events = ["alert.triggered"] if config == "B" else ["response.created"]
            hook = {"url": f"http://127.0.0.1:{self.args.receiver_port}/hook", "events": events}
            endpoint = self.http.post("/v1/webhooks", json=hook).raise_for_status().json()["id"]
        path, clients = ("/v1/responses/batch", 4) if kind == "batch" else ("/v1/responses", 16)
        log(f"{kind} {config} ({CONFIGS[config]}): wrk {clients} connections")
        start, got = cpu.mark(), received.value
        ok, failed, elapsed, p50, p99 = run_wrk(
            self.base, self.key, path, bodies, clients, self.args.seconds
        )
        cores, end = cpu.since(start, elapsed), counts(self.url)
        answers = ok * (1000 if kind == "batch" else 1)
        result = {"answers": answers, "seconds": elapsed, "failed": failed, "p50": p50}
        result |= {"p99": p99, "received": received.value - got, **end, **cores}
        self.results.setdefault((kind, config), []).append(result)
        log(
            f"  {answers / elapsed:,.0f} answers/s, {failed} failed, p50/p99 {p50:.0f}/{p99:.0f}"
            f" ms; fanned out {end['deliveries'] / elapsed:,.0f}/s, received "
            f"{result['received'] / elapsed:,.0f}/s; at the end outbox {end['outbox']:,}, "
            f"pending {end['pending']:,}; cores " + " ".join(f"{g} {cores[g]:.2f}" for g in GROUPS)
        )
        if endpoint is not None:  # removes its deliveries; the outbox drains before the next
            self.http.delete(f"/v1/webhooks/{endpoint}").raise_for_status()


def summarise(report: Report, phases: Phases, kind: str) -> None:
    def total(config: str, field: str) -> float:
        runs = phases.results[(kind, config)]
        return sum(r[field] for r in runs) / sum(r["seconds"] for r in runs)

    def mean(config: str, field: str) -> float:
        runs = phases.results[(kind, config)]
        return sum(r[field] for r in runs) / len(runs)

    label = "batch x1000, 4 conns" if kind == "batch" else "single, 16 conns"
    base = total("A", "answers")
    for config in CONFIGS:
        runs, rate = phases.results[(kind, config)], total(config, "answers")
        rounds = " / ".join(f"{r['answers'] / r['seconds']:,.0f}" for r in runs)
        failed = sum(r["failed"] for r in runs)
        value = f"{rate:,.0f} ({rounds}); {mean(config, 'p50'):.0f} / {mean(config, 'p99'):.0f}"
        value += f" ms; {failed:.0f} failed" if failed else " ms"
        ratio, target = "baseline", TARGETS.get(config)
        if target:
            verdict = "met" if rate / base >= target else "MISSED"
            ratio = f"{rate / base:.0%} of A (target {target:.0%}: {verdict})"
        what = f"{label}, {config}: {CONFIGS[config]} (answers/s (rounds); ms p50 / p99)"
        report.add(what, value, "-" if config == "A" else f"A {base:,.0f}", ratio)
    runs = phases.results[(kind, "C")]
    backlog = ", ".join(f"outbox {r['outbox']:,.0f} + pending {r['pending']:,.0f}" for r in runs)
    report.add(
        f"{label}, C: deliveries fanned out / received (per s)",
        f"{total('C', 'deliveries'):,.0f} / {total('C', 'received'):,.0f}",
        f"answers stored {total('C', 'answers'):,.0f}/s",
        f"backlog at the end of each C: {backlog}",
    )
    for config in CONFIGS:
        split = " / ".join(f"{mean(config, g):.2f}" for g in GROUPS)
        report.add(f"{label}, {config}: cores ({' / '.join(GROUPS)})", split, "2 cores", "-")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="seconds per phase")
    parser.add_argument("--rounds", type=int, default=2, help="A B C repeats per kind")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8768)
    parser.add_argument("--receiver-port", type=int, default=8769)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    url = fresh_database(args.server, DB)
    engine = create_db_engine(Settings(database_url=url))
    upgrade(engine)
    engine.dispose()
    key, received = admin_key(url), multiprocessing.Value("q", 0, lock=False)
    receiver = multiprocessing.Process(target=receive, args=(args.receiver_port, received))
    receiver.start()
    os.environ["NPS_WEBHOOK_ALLOW_PRIVATE"] = "true"
    report = Report()
    try:
        with served(url, args.workers, args.port) as (base, sampler):
            server_log = os.readlink(f"/proc/{sampler.process.pid}/fd/1")
            cpu = CpuSampler(sampler.process.pid, receiver.pid or 0)
            cpu.start()
            phases = Phases(args, url, base, key)
            for kind in ("batch", "single"):
                for _ in range(args.rounds):
                    for config in CONFIGS:
                        phases.run(kind, config, cpu, received)
            cpu.stop()
    finally:
        receiver.terminate()
    for kind in ("batch", "single"):
        summarise(report, phases, kind)
    report.print()
    print(f"\norphan deliveries (of deleted endpoints): {counts(phases.url)['orphans']:,}")
    lines = Path(server_log).read_text(errors="replace").splitlines()
    trouble = [line for line in lines if re.search(r"ERROR|Error|Traceback|\b5\d\d\b", line)]
    print(f"server log {server_log}: {len(lines)} lines, {len(trouble)} with errors or 5xx")
    for line in trouble[:20]:
        print("  " + line[:200])


if __name__ == "__main__":
    main()
