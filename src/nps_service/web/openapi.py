"""The OpenAPI document: stable operation ids, and problem+json declared on every error.

The document is linted in CI with Redocly's recommended rules and Spectral's `spectral:oas`
ruleset (clients/package.json pins both) and fed to openapi-python-client and
openapi-typescript; what `customise_openapi` adds is what those tools asked for.
"""

import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from nps_service.errors import Problem
from nps_service.web.openapi_examples import add_examples
from nps_service.web.problems import PROBLEM_MEDIA_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# Every tag with the one line that Swagger UI, ReDoc and generated client packages show.
TAGS = [
    ("responses", "Survey answers: store one or a batch, read, list and export them."),
    ("displays", "Prompts shown to a person, and their declines."),
    ("eligibility", "Whether a person may be asked now, under the contact rules."),
    ("contact-rules", "How often one person may be asked, per touchpoint."),
    ("scores", "The global NPS and its breakdowns, trends and comparisons."),
    ("merchants", "Merchants ranked within their category, and one merchant's scorecard."),
    ("drivers", "Which experience dimension moves the NPS most."),
    ("webhooks", "Signed HTTP callbacks for new answers and alerts, with a delivery log."),
    ("alerts", "Rules that fire when the NPS falls below a value or drops significantly."),
    ("respondents", "Erasure of everything stored about one person."),
    ("audit", "The audit log of erasures and other privileged actions."),
    ("ops", "Liveness, readiness and Prometheus metrics, for operators."),
    ("widget", "The embeddable survey prompt for web pages."),
]

# Statuses that can answer any /v1 request whatever the operation declares: 422 for an
# unknown query parameter (web/strict_query), 429 over a rate limit, 503 when overloaded.
_ANY_V1_STATUSES = (422, 429, 503)
# 431: the server refuses an oversized request head before any route runs.
_ANY_REQUEST_STATUS = 431

_DESCRIPTIONS = {
    400: "Malformed JSON",
    401: "Missing, unknown or revoked API key",
    403: "The key lacks the required scope",
    404: "Not found",
    406: "The `Accept` header admits no type this operation answers with",
    409: "The id is already used for different content",
    413: "Request body too large",
    415: "The body is not application/json",
    422: "Invalid input; `errors` names each failing field or parameter",
    429: "Rate limit exceeded: retry after `Retry-After` seconds",
    431: "Request headers too large",
    503: "Overloaded or without its database: retry after `Retry-After` seconds",
}


def operation_id(route: APIRoute) -> str:
    """`<tag>_<action>` in snake case, e.g. `responses_create`, `scores_get`.

    API.md's `responses:create` with the colon made `_`: openapi-python-client dropped the
    colon into `responsescreate`, while snake case gives `responses_create` in Python and
    `responsesCreate` in the camel-casing generators. The ids never change once published.
    """
    action = re.sub(r"(?<=[a-z])([A-Z])", r"_\1", str(route.name)).lower()
    return f"{route.tags[0]}_{action}".replace("-", "_")


def _named_enums(node: Any, names: dict[tuple[str, ...], str]) -> Any:
    """`node` with every inline string enumeration of a named set made a `$ref`."""
    if isinstance(node, list):
        return [_named_enums(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    enum = node.get("enum")
    name = names.get(tuple(enum)) if isinstance(enum, list) else None
    if name is not None:
        kept = {key: node[key] for key in ("description", "default") if key in node}
        return {"$ref": f"#/components/schemas/{name}", **kept}
    return {
        key: value if key in ("example", "examples") else _named_enums(value, names)
        for key, value in node.items()
    }


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": dict(PROBLEM_REF)}},
    }


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the given error statuses, as problem+json.

    503 is always among them: every API route sheds load and reports a database outage.
    """
    statuses = tuple(dict.fromkeys((*statuses, 503)))
    return {status: {**_problem_response(status), "model": Problem} for status in statuses}


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without pydantic's `anyOf [X, null]`.

    A query parameter is absent or a string, never JSON null; the union made the
    generators type every optional parameter as `X | None | Unset`.
    """
    variants = schema.get("anyOf")
    if not isinstance(variants, list):
        return schema
    kept = [variant for variant in variants if variant != {"type": "null"}]
    if len(kept) != 1:
        return schema
    rest = {name: value for name, value in schema.items() if name != "anyOf"}
    return {**kept[0], **rest}


def _tidy_operation(path: str, operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        parameter["schema"] = _query_schema(parameter.get("schema", {}))
        parameter["schema"].pop("title", None)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, response in responses.items():
        content = response.get("content", {})
        if status[0] in "45" and PROBLEM_MEDIA_TYPE in content:
            content.pop("application/json", None)
    extra: tuple[int, ...] = ()
    if path.startswith("/v1/"):
        extra = _ANY_V1_STATUSES
        # web/negotiation answers 406 where `Accept` admits none of the operation's types;
        # a `.csv` path's URL decides its type, and the export negotiates for itself.
        if not path.endswith((".csv", "/export")):
            extra = (*extra, 406)
    for code in (*extra, _ANY_REQUEST_STATUS):
        responses.setdefault(str(code), _problem_response(code))
    operation["responses"] = dict(sorted(responses.items()))
    # Public operations say so; the others inherit the bearer scheme FastAPI declared.
    operation.setdefault("security", [])


def customise_openapi(app: FastAPI, named_enums: Mapping[str, list[str]]) -> None:
    """Errors documented as problem+json only; tags, servers and licence declared.

    `named_enums` are closed sets that recur across operations, named once in
    components/schemas: generators then make one type of each (openapi-python-client made
    a class per operation and field, `ScoresGetGroupByItem`, `ScoresTrendGroupByItem`...).
    They are found by value, so each parameter keeps its validation and 422 wording.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=[{"name": name, "description": text} for name, text in TAGS],
            servers=[{"url": "/", "description": "The service that serves this document"}],
            license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
            contact={"name": "nps-service maintainers"},
        )
        for path, path_item in schema.get("paths", {}).items():
            for operation in path_item.values():
                _tidy_operation(path, operation)
        components = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        names = {tuple(values): name for name, values in named_enums.items()}
        schema["paths"] = _named_enums(schema["paths"], names)
        components.update(_named_enums(components, names))
        components.update(
            {name: {"type": "string", "enum": values} for name, values in named_enums.items()}
        )
        schema["components"]["schemas"] = dict(sorted(components.items()))
        add_examples(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
