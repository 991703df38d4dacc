"""The survey's own vocabulary, defined once: every other module takes its names from here.

It imports nothing of the service, so the pure statistics, the tables, the engine and the
API all speak the same words without depending on each other.
"""

from enum import StrEnum

# The four experience dimensions a response may rate 0-10 besides the overall question.
DIMENSIONS = ("logistics", "product", "service", "app")
# What a score reports on: the overall question first, then each dimension. The key-driver
# model uses the same five variables (the overall score is the response variable).
METRICS = ("overall", *DIMENSIONS)
# Promoters answer 9-10, passives 7-8, detractors 0-6 (STATISTICS.md §1).
CLASSES = ("promoters", "passives", "detractors")
# Tags a response carries in `context`.
CONTEXT_FIELDS = (
    "merchant_id",
    "category",
    "channel",
    "region",
    "platform",
    "touchpoint",
    "order_id",
)
# Context fields that queries may filter and group by (an order id is too fine to group on).
SEGMENT_FIELDS = CONTEXT_FIELDS[:-1]
# A context value: letters of any script, digits, _ - . : / (no space, comma or quote, so
# comma-separated filters and JSON paths stay unambiguous). The server's `\w` is Unicode;
# in the ECMA-262 regexes of JSON Schema tools `\w` is ASCII only, so the document states
# the same set with every non-ASCII character admitted, or `生鲜` would fail in clients.
CONTEXT_VALUE_PATTERN = r"^[\w\-.:/]+$"
CONTEXT_VALUE_SCHEMA = {"pattern": r"^[\w\-.:/\u0080-\uFFFF]+$"}


class Interval(StrEnum):
    """Time buckets of a score series: `week` is ISO (Monday start)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
