"""`property.<key>=<value>` filters: answers whose free-form property `key` is `value`.

API.md's form has an open parameter name, which OpenAPI cannot declare, so the document
declares a twin, `property=<key>=<value>`; both are read here into one mapping.
"""

import re
from collections.abc import Mapping
from typing import Any

PROPERTY_PREFIX = "property."
# Property keys that can be filtered on: the characters context values allow (no quotes,
# so a key is safe inside a JSON path).
PROPERTY_KEY = re.compile(r"^[\w\-.:/]{1,64}$")
# The declared twin's items, as an ECMA-262 pattern (generators' validators use it).
PROPERTY_FILTER_PATTERN = r"^[^=]{1,64}=."
# No stored text can hold NUL (PostgreSQL refuses it even in a comparison).
NUL_DETAIL = "must not contain NUL characters"


def property_filters(
    data: Mapping[str, Any],
) -> tuple[dict[str, tuple[str, ...]], list[tuple[str, str, object]]]:
    """`property.<key>=<value>` and `property=<key>=<value>` parameters (repeatable), and
    the errors among them as (parameter, detail, value)."""
    properties: dict[str, tuple[str, ...]] = {}
    errors: list[tuple[str, str, object]] = []
    pairs: list[tuple[str, str, object]] = []  # (parameter, key, value)
    for name, raw in data.items():
        values = raw if isinstance(raw, list) else [raw]
        if name == "property":
            for pair in values:
                key, equals, text = str(pair).partition("=")
                if not equals:
                    errors.append((name, "give `<key>=<value>`", pair))
                else:
                    pairs.append((name, key, text))
        elif isinstance(name, str) and name.startswith(PROPERTY_PREFIX):
            pairs.extend((name, name[len(PROPERTY_PREFIX) :], value) for value in values)
    for name, key, value in pairs:
        detail = _problem(key, value)
        if detail is not None:
            errors.append((name, detail, value))
        elif value not in properties.get(key, ()):
            properties[key] = (*properties.get(key, ()), str(value))
    return properties, errors


def _problem(key: str, value: object) -> str | None:
    if not PROPERTY_KEY.match(key):
        return "property keys to filter on are 1-64 letters, digits or _ - . : /"
    if not isinstance(value, str) or not 1 <= len(value) <= 1000:
        return "give a value of 1-1000 characters"
    if "\x00" in value:
        return NUL_DETAIL
    return None
