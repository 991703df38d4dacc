"""The HTTP protocol uvicorn speaks, with the request line and headers bounded.

httptools gathers a request's head whole, however large, before anything else sees it: a
client could make a worker read and keep megabytes of headers (64 MB took 6.6 s of a
worker). This protocol answers 431 and closes the connection once a head has run past
`NPS_MAX_HEADER_BYTES` without ending.
"""

import json
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from nps_service.config import get_settings


@cache
def _refusal(limit: int) -> bytes:
    body = json.dumps(
        {
            "type": "https://nps-service.dev/problems/header-too-large",
            "title": "Request Header Fields Too Large",
            "status": 431,
            "detail": f"the request line and headers exceed {limit} bytes",
        }
    ).encode()
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class BoundedHeadersProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit = get_settings().max_header_bytes
        self._in_head = True
        self._head_bytes = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Still in the head after all that arrived: the head is at least that long.
        if self._in_head and self._head_bytes > self._limit and not self.transport.is_closing():
            self.transport.write(_refusal(self._limit))
            self.transport.close()
