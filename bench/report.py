"""The result table, progress lines and the timing helpers every measurement shares."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class Report:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, what: str, value: str, baseline: str, ratio: str) -> None:
        self.rows.append((what, value, baseline, ratio))
        print(f"  {what}: {value}  (baseline {baseline}; {ratio})", flush=True)

    def print(self) -> None:
        headers = ("measure", "nps-service", "baseline (same run)", "ratio")
        widths = [max(len(r[i]) for r in [headers, *self.rows]) for i in range(4)]
        line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
        print("\n" + line)
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for row in self.rows:
            print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def rate(n: float, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def time_runs(run: Callable[[], object], repeats: int, warmup: int = 2) -> tuple[float, float]:
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)
