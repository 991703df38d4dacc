"""Request-body guards: size (413) before buffering, and JSON media type (415)."""

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nps_service.errors import PayloadTooLarge, UnsupportedMediaType, problem_response


class BodySizeLimitMiddleware:
    """Checks Content-Length up front and counts streamed (chunked) bytes as they arrive."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"request body exceeds {self.max_bytes} bytes; split it into smaller batches"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            status = 413 if declared.isdigit() else 400
            response = problem_response(
                status,
                detail if status == 413 else "bad Content-Length",
                slug=PayloadTooLarge.slug if status == 413 else None,
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(detail)
            return message

        await self.app(scope, limited_receive, send)


def require_json(request: Request) -> None:
    """POST bodies must be JSON: anything else is 415, not a confusing validation error."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"send the body as application/json (got {media_type or 'no Content-Type'})"
        )
