"""406 Not Acceptable for `/v1` requests whose Accept header admits nothing the operation
answers, instead of a JSON body the client said it cannot read.

A JSON operation answers `application/json` (and its errors `application/problem+json`); an
Accept header that admits neither (`application/*` and `*/*` admit both) gets a 406
problem naming what the operation answers. Operations that also answer CSV
(`format=csv`, `Accept: text/csv`; marked with `answers_also`) admit `text/csv` too, and
when the request carries their `format` parameter, that decides, not the header.
Operations whose answer is not JSON (the `.csv` operations, whose URL names the format,
and the export, which negotiates NDJSON or CSV itself) are left alone. No Accept header,
an empty one, or one without a single well-formed range is the same as `*/*`.

The check runs before routing: only a request whose header admits no JSON (rare) pays for
finding its route, by the same path patterns the router uses; a request that matches no
route goes on to its 404 or 405.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from re import Pattern
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from nps_service.web.media import JSON_MEDIA_TYPE, media_ranges, quality
from nps_service.web.problems import PROBLEM_MEDIA_TYPE, problem_response
from nps_service.web.strict_query import api_routes, known_names

_ALSO = "nps_answers_also"
F = TypeVar("F", bound=Callable[..., Any])
# What every API operation can answer: JSON bodies and problem documents.
JSON_FAMILY = (JSON_MEDIA_TYPE, PROBLEM_MEDIA_TYPE)


def answers_also(*media_types: str) -> Callable[[F], F]:
    """Mark an endpoint that answers these media types besides JSON (put it under the
    route decorator)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _ALSO, media_types)
        return endpoint

    return mark


def not_acceptable() -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting the 406."""
    return {
        406: {
            "description": "The Accept header admits none of the media types the operation "
            "answers (application/json, or text/csv where the operation also answers CSV)",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    }


@dataclass(frozen=True)
class _Offer:
    """What one operation answers; `media_types` is empty for one left alone."""

    route: APIRoute
    path: Pattern[str]
    methods: frozenset[str]
    media_types: tuple[str, ...]  # JSON first
    takes_format: bool  # a `format` parameter decides instead of the header


def _is_json(route: APIRoute) -> bool:
    response_class = getattr(route.response_class, "value", route.response_class)
    return isinstance(response_class, type) and issubclass(response_class, JSONResponse)


def offers(app: Starlette) -> list[_Offer]:
    """Every operation under /v1, in the router's order (so that a path is found as the
    router finds it: `/v1/responses/export` before `/v1/responses/{response_id}`)."""
    found = []
    for route, dependants in api_routes(app.router.routes):
        if not route.path_format.startswith("/v1/"):
            continue
        also = tuple(getattr(route.endpoint, _ALSO, ()))
        media_types = (*JSON_FAMILY, *also) if _is_json(route) else ()
        takes_format = any("format" in known_names(d)[0] for d in dependants)
        methods = frozenset(route.methods or ())
        found.append(_Offer(route, route.path_regex, methods, media_types, takes_format))
    return found


@lru_cache(maxsize=256)
def _admits_json(accept: str) -> bool:
    """Whether the header admits JSON (or says nothing parseable), remembered: clients send
    a handful of distinct headers, and this runs on every /v1 request."""
    ranges = media_ranges(accept)
    return not ranges or any(quality(ranges, media) > 0 for media in JSON_FAMILY)


class NegotiationMiddleware:
    """The 406 check (see the module docstring)."""

    def __init__(self, app: ASGIApp, api: Starlette) -> None:
        self.app = app
        self.api = api
        self._offers: list[_Offer] | None = None  # built on first need: routes are complete

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            accept = b",".join(value for name, value in scope["headers"] if name == b"accept")
            problem = self._refusal(scope, accept.decode("latin-1")) if accept.strip() else None
            if problem is not None:
                await problem(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, accept: str) -> JSONResponse | None:
        # Long headers are parsed each time, so hostile ones cannot fill the cache.
        if (_admits_json if len(accept) <= 512 else _admits_json.__wrapped__)(accept):
            return None
        ranges = media_ranges(accept)
        offer = self._offer(scope)
        if offer is None or not offer.media_types:
            return None  # no such operation (404, 405), or one that is not JSON
        if any(quality(ranges, media) > 0 for media in offer.media_types):
            return None
        if offer.takes_format and any(
            name == "format" for name, _ in parse_qsl(scope["query_string"].decode("latin-1"))
        ):
            return None
        scope["route"] = offer.route  # for the access log and metrics: its template
        answers = " or ".join(media for media in offer.media_types if media != PROBLEM_MEDIA_TYPE)
        detail = (
            f"this operation answers {answers} (errors as application/problem+json), and the "
            "Accept header admits none of them; send Accept: application/json (or */*)"
        )
        return problem_response(406, detail)

    def _offer(self, scope: Scope) -> _Offer | None:
        if self._offers is None:
            self._offers = offers(self.api)
        path, method = scope["path"], scope["method"]
        for offer in self._offers:
            if method in offer.methods and offer.path.match(path):
                return offer
        return None
