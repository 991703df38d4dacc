"""Examples for every operation of the OpenAPI document, recorded from the running app.

`add_examples(document)` adds them to the document FastAPI generated: the request body, each
media type of the success responses, the query and path parameters the example request used,
and a problem document on the error responses (400, 401, 403, 404, 409, 413, 415, 422, 429).

The examples are data, in openapi_examples.json next to this module (too many lines for a
module here), read when the document is built and never computed. scripts/openapi_examples.py
writes that file: it runs the app in-process on a fresh SQLite database with demo answers,
calls every operation with its example request and keeps the replies (lists and CSV cut short,
the webhook secret replaced by a fake). After an API change, record them again:

    .venv/bin/python -m scripts.openapi_examples
    .venv/bin/nps-service openapi --output openapi.yaml

tests/web/test_openapi_examples.py fails when an operation has no example, or an example no
longer matches its schema or is refused by the app.
"""

import copy
import json
from functools import cache
from importlib.resources import files
from typing import Any

from nps_service.web.problems import PROBLEM_MEDIA_TYPE

Json = dict[str, Any]
DATA_FILE = "openapi_examples.json"
JSON_MEDIA_TYPE = "application/json"


@cache
def recorded() -> Json:
    """`{"operations": {operation id: entry}, "problems": {status: problem document}}`.

    An entry has `content` (media type -> example of every 2xx response), optionally
    `status` (status -> media type -> example, where one status answers differently, and
    the operation's own 404),
    `request` (the JSON body) and `parameters` (name -> value of the query and path).
    """
    text = files(__package__ or "nps_service.web").joinpath(DATA_FILE).read_text("utf-8")
    data: Json = json.loads(text)
    return data


def add_examples(schema: Json) -> None:
    """Add the recorded examples to an OpenAPI document in place; an example already in the
    document is kept. Operations without a recording get their problem examples only."""
    data = recorded()
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue  # a path item's `parameters`, `summary`, ...
            entry = data["operations"].get(operation.get("operationId"))
            if entry is not None:
                _add_parameters(operation, entry.get("parameters", {}))
                _add_request(operation, entry.get("request"))
                _add_successes(operation, entry)
            _add_problems(operation, entry or {}, data["problems"])


def _set(target: Json, example: Any) -> None:
    """A copy per place: one object at several places would become YAML anchors."""
    if "example" not in target and "examples" not in target:
        target["example"] = copy.deepcopy(example)


def _add_parameters(operation: Json, values: Json) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("name") in values:
            _set(parameter, values[parameter["name"]])


def _add_request(operation: Json, body: Any) -> None:
    content = operation.get("requestBody", {}).get("content", {})
    if body is not None and JSON_MEDIA_TYPE in content:
        _set(content[JSON_MEDIA_TYPE], body)


def _add_successes(operation: Json, entry: Json) -> None:
    for status, response in operation["responses"].items():
        if not str(status).startswith("2"):
            continue
        special = entry.get("status", {}).get(str(status), {})
        for media_type, media in response.get("content", {}).items():
            # `text/plain; version=1.0.0; charset=utf-8` was recorded as `text/plain`.
            base = media_type.split(";")[0].strip()
            example = special.get(base, entry.get("content", {}).get(base))
            if example is not None:
                _set(media, example)


def _add_problems(operation: Json, entry: Json, problems: Json) -> None:
    """The operation's own problem document (its 404), else the one shared by all for the
    status; the shared 422 names body fields where the operation has a body, else parameters."""
    for status, response in operation["responses"].items():
        media = response.get("content", {}).get(PROBLEM_MEDIA_TYPE)
        if media is None:
            continue
        own = entry.get("status", {}).get(str(status), {}).get(PROBLEM_MEDIA_TYPE)
        key = str(status)
        if key == "422" and "requestBody" not in operation:
            key = "422_parameters"
        example = own if own is not None else problems.get(key)
        if example is not None:
            _set(media, example)
