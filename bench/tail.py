"""What the database holds while the server works: the pending tail, the stored answers."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from bench.report import log


class TailSampler(threading.Thread):
    """How many answers wait to be folded into the rollups, every half second."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples: list[int] = []
        self._done = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self._done.wait(0.5):
                count = connection.execute("SELECT count(*) FROM pending_rollup").fetchone()
                self.samples.append(int(count[0]) if count else 0)

    def latest(self) -> int:
        return self.samples[-1] if self.samples else 0

    def peak(self) -> int:
        return max(self.samples, default=0)

    def wait_below(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if self.latest() < count:
                return
        log(f"the pending tail stayed above {count:,} for {timeout:.0f} s")

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=10)


def stored_count(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT count(*) FROM responses").fetchone()
    return int(row[0]) if row else 0


@contextmanager
def autovacuum(server_url: str, on: bool) -> Iterator[None]:
    """Autovacuum on (or off) for the server during the run; its setting restored after."""
    url = server_url.replace("postgresql+psycopg://", "postgresql://")

    def set_to(value: str | None) -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            if value is None:
                connection.execute("ALTER SYSTEM RESET autovacuum")
            else:
                connection.execute(f"ALTER SYSTEM SET autovacuum = {value}")
            connection.execute("SELECT pg_reload_conf()")

    set_to("on" if on else "off")
    try:
        yield
    finally:
        set_to(None)
