"""The errors the service reports on purpose: one hierarchy, rendered as RFC 9457 problem+json
by the handlers in `web.problems`. Plain exceptions, so every layer may raise them."""

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    """One failing input: where it is and why it failed."""

    pointer: str | None = Field(None, description="JSON pointer into the body, e.g. /score")
    parameter: str | None = Field(None, description="query, path or header parameter name")
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Base of every error the API reports on purpose."""

    status = 500
    slug = "internal-error"
    title = "Internal server error"

    def __init__(
        self,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers


class InvalidInput(ProblemError):
    status = 422
    slug = "validation-error"
    title = "Invalid input"


class NotFound(ProblemError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(ProblemError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class Unauthorized(ProblemError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


class Forbidden(ProblemError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class PayloadTooLarge(ProblemError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(ProblemError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class QueryTooBroad(ProblemError):
    status = 422
    slug = "query-too-broad"
    title = "Query too broad"


class ServiceUnavailable(ProblemError):
    """Overloaded or without its database: a fast answer that says when to retry."""

    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class TooManyGroups(ProblemError):
    status = 422
    slug = "too-many-groups"
    title = "Too many groups"
