"""Request-body guards: size (413) before buffering, and JSON media type (415)."""

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nps_service.errors import PayloadTooLarge, UnsupportedMediaType
from nps_service.web.problems import problem_response


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
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        # Read the whole body here (the app would buffer it anyway), so an oversized streamed
        # body gets a clean 413 before any handler sees it.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                response = problem_response(413, detail, slug=PayloadTooLarge.slug)
                await response(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def require_json(request: Request) -> None:
    """POST bodies must be JSON: anything else is 415, not a confusing validation error.

    Async (it does no I/O) so that FastAPI runs it without a worker thread.
    """
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"send the body as application/json (got {media_type or 'no Content-Type'})"
        )
