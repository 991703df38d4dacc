"""A real HTTP receiver for webhook tests: records every request, answers as told."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Status codes to answer, in order; then 200 for ever.
    script: list[int] = field(default_factory=list)
    # Seconds to wait before answering, in order; then none.
    delays: list[float] = field(default_factory=list)
    # Set while a request is being held by a delay.
    holding: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def by_id(self) -> dict[str, list[Received]]:
        out: dict[str, list[Received]] = {}
        for request in self.requests:
            out.setdefault(request.headers["webhook-id"], []).append(request)
        return out


@contextmanager
def receiver() -> Iterator[Receiver]:
    state: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            target: Receiver = state["receiver"]
            with target.lock:
                target.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            with target.lock:
                delay = target.delays.pop(0) if target.delays else 0.0
            if delay:
                target.holding.set()
                time.sleep(delay)
            status = target.answer()
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["receiver"]
    finally:
        server.shutdown()
        server.server_close()
