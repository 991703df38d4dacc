"""The OpenAPI document: stable operation ids, and problem+json declared on every error."""

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from nps_service.errors import Problem
from nps_service.web.problems import PROBLEM_MEDIA_TYPE


def operation_id(route: APIRoute) -> str:
    """`<tag>_<action>` in snake case, e.g. `responses_create`, `scores_get`.

    API.md's `responses:create` with the colon made `_`: openapi-python-client dropped the
    colon into `responsescreate`, while snake case gives `responses_create` in Python and
    `responsesCreate` in the camel-casing generators. The ids never change once published.
    """
    action = re.sub(r"(?<=[a-z])([A-Z])", r"_\1", str(route.name)).lower()
    return f"{route.tags[0]}_{action}".replace("-", "_")


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the given error statuses, as problem+json.

    503 is always among them: every API route sheds load and reports a database outage.
    """
    statuses = tuple(dict.fromkeys((*statuses, 503)))
    descriptions = {
        400: "Malformed JSON",
        401: "Missing, unknown or revoked API key",
        403: "The key lacks the required scope",
        404: "Not found",
        409: "The id is already used for different content",
        413: "Request body too large",
        415: "The body is not application/json",
        422: "Invalid input; `errors` names each failing field or parameter",
        503: "Overloaded or without its database: retry after `Retry-After` seconds",
    }
    return {
        status: {
            "description": descriptions[status],
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def customise_openapi(app: FastAPI) -> None:
    """Errors documented as problem+json only; FastAPI's own validation schema removed."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[0] in "45" and PROBLEM_MEDIA_TYPE in content:
                        content.pop("application/json", None)
        components = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
