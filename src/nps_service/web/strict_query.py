"""Unknown query parameters are a 422 naming them, on every route, by one mechanism.

A misspelt filter (`?catgory=beauty`) must not silently widen an answer. After every
router is included, `install_strict_query` gives each `APIRoute` one more dependency: a
query "model" without fields that accepts the route's declared query parameters (read
from its dependant, through sub-dependencies and parameter models such as
`FilterParams`) plus, where a `FilterParams` is among them, the open `property.<key>`
family, and fails validation for any other name. Being a validation error, it is
reported with every other bad parameter of the request in one 422 (`errors:
[{"parameter": "catgory", "detail": "unknown query parameter"}]`), and only after the
route's key check: a request without a valid key is still 401. The OpenAPI document is
unchanged: the model declares no parameters. Parameters kept out of the document
(`Query(include_in_schema=False)`, such as the JSON operations' `format` and `bom`) are
known all the same: the names come from the dependant, not from the document.
"""

from collections.abc import Iterable, Iterator
from types import UnionType
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from fastapi import Depends, FastAPI, Query
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_parameterless_sub_dependant
from fastapi.routing import APIRoute, iter_route_contexts, request_response
from pydantic import AliasChoices, BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from starlette.routing import BaseRoute

from nps_service.filters import FilterParams
from nps_service.property_filters import PROPERTY_PREFIX

UNKNOWN_DETAIL = "unknown query parameter"


class _KnownQuery(BaseModel):
    """The query string of one route: any name outside `known` (or `prefixes`) fails."""

    model_config = ConfigDict(extra="allow")
    known: ClassVar[frozenset[str]] = frozenset()
    prefixes: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _only_known(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        unknown = [
            name
            for name in data
            if name not in cls.known and not (cls.prefixes and name.startswith(cls.prefixes))
        ]
        if unknown:
            raise ValidationError.from_exception_data(
                cls.__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("unknown_parameter", UNKNOWN_DETAIL),
                        loc=(name,),
                        input=data[name],
                    )
                    for name in unknown
                ],
            )
        return {}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The parameter model an annotation names (`Model` or `Model | None`), if any."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = args[0] if len(args) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _aliases(name: str, alias: str | None, validation_alias: Any, by_name: bool) -> set[str]:
    """Every name under which a value reaches this field."""
    names = {alias or name}
    if isinstance(validation_alias, str):
        names = {validation_alias}
    elif isinstance(validation_alias, AliasChoices):
        names = {choice for choice in validation_alias.choices if isinstance(choice, str)}
    if by_name:
        names.add(name)
    return names


def _query_params(dependant: Dependant) -> Iterator[Any]:
    """The query parameter fields of a dependant and of all its sub-dependencies."""
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_params(sub)


def known_names(dependant: Dependant) -> tuple[frozenset[str], tuple[str, ...]]:
    """The query parameter names a route declares, and the open name prefixes it takes."""
    names: set[str] = set()
    prefixes: set[str] = set()
    for field in _query_params(dependant):
        info = field.field_info
        model = _model_of(info.annotation)
        if model is None:
            names |= _aliases(field.name, field.alias, info.validation_alias, False)
            continue
        if issubclass(model, _KnownQuery):
            continue  # our own check, if installed before
        if issubclass(model, FilterParams):
            prefixes.add(PROPERTY_PREFIX)
        config = model.model_config
        by_name = bool(config.get("validate_by_name") or config.get("populate_by_name"))
        for name, model_field in model.model_fields.items():
            names |= _aliases(name, model_field.alias, model_field.validation_alias, by_name)
    return frozenset(names), tuple(sorted(prefixes))


def _dependency(route: APIRoute, known: frozenset[str], prefixes: tuple[str, ...]) -> Any:
    """A dependency whose only parameter validates the route's query string."""
    model = type(
        f"KnownQuery_{route.unique_id}",
        (_KnownQuery,),
        {"known": known, "prefixes": prefixes, "__module__": __name__},
    )

    def strict_query(_query: Annotated[model, Query()]) -> None:  # type: ignore[valid-type]
        return None

    strict_query.strict_query = True  # type: ignore[attr-defined]
    return strict_query


def _checked(route: APIRoute) -> bool:
    return any(getattr(d.dependency, "strict_query", False) for d in route.dependencies)


def api_routes(routes: Iterable[BaseRoute]) -> list[tuple[APIRoute, list[Dependant]]]:
    """Each APIRoute of the app, with the dependants of every place it is served from."""
    found: dict[int, tuple[APIRoute, list[Dependant]]] = {}
    for context in iter_route_contexts(list(routes)):
        route = context.original_route
        if isinstance(route, APIRoute):
            dependant = getattr(context, "dependant", None) or route.dependant
            found.setdefault(id(route), (route, []))[1].append(dependant)
    return list(found.values())


def _mark_changed(routes: Iterable[BaseRoute]) -> None:
    """Have FastAPI rebuild the handlers of included routers from the routes' dependencies.

    An included router builds each route's handler once, per inclusion, and rebuilds it
    when its router's routes change; this says they did.
    """
    for route in routes:
        router = getattr(route, "original_router", None)
        if router is None:
            continue
        mark = getattr(router, "_mark_routes_changed", None)
        if mark is not None:
            mark()
        _mark_changed(router.routes)


def install_strict_query(app: FastAPI) -> None:
    """Reject unknown query parameters on every /v1 APIRoute of `app` (call after every
    `include_router`).

    Routers are module-level objects that every app of the process includes, so the check
    becomes part of each route, for every app that serves it; a route is given it once,
    however many apps are built (tests build many) or calls are made.
    """
    for route, dependants in api_routes(app.router.routes):
        # The API only: pages and scripts (/widget, /dashboard, /docs) are loaded by
        # browsers and CDNs that add cache-busting parameters such as ?v=3.
        if _checked(route) or not route.path_format.startswith("/v1/"):
            continue
        known: set[str] = set()
        prefixes: set[str] = set()
        for dependant in dependants:
            names, open_prefixes = known_names(dependant)
            known |= names
            prefixes |= set(open_prefixes)
        depends = Depends(_dependency(route, frozenset(known), tuple(sorted(prefixes))))
        # Served directly (a route of the app itself) and through any inclusion, which
        # rebuilds its dependant from `route.dependencies`.
        route.dependencies.append(depends)
        route.dependant.dependencies.append(
            get_parameterless_sub_dependant(depends=depends, path=route.path_format)
        )
        route.app = request_response(route.get_route_handler())
    _mark_changed(app.router.routes)
