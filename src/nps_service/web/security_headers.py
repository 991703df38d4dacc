"""Headers every response carries, whoever made it (routes, the fast path, 413, 429, 503).

- `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` everywhere;
- `Cache-Control: no-store` on `/v1` responses: scores and answers are personal or
  confidential and must not sit in shared or browser caches (a response that sets its own
  Cache-Control keeps it; `/widget` assets set their own caching);
- a restrictive Content-Security-Policy on HTML that has none (pages that need scripts or
  styles, such as the documentation and the dashboard, set their own).

A header a response already has is never replaced.
"""

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_EVERYWHERE = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, csp: str = DEFAULT_CSP) -> None:
        self.app = app
        self.csp = csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        api = path.startswith("/v1/") or path == "/v1"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                for name, value in _EVERYWHERE:
                    if name not in present:
                        headers.append((name, value))
                if api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if b"content-security-policy" not in present and _is_html(headers):
                    headers.append((b"content-security-policy", self.csp))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value[:9].lower() == b"text/html"
    return False


def install_security_headers(app: Starlette) -> None:
    """Add the middleware; call it after every middleware whose answers it must cover."""
    app.add_middleware(SecurityHeadersMiddleware)
