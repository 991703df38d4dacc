"""Flatten score groups into CSV rows: key columns, then each metric's fields.

Key cells (tag values, buckets) are text, neutralised against spreadsheet formulas
(`web.spreadsheet`); metric cells are numbers, written as they are.
"""

import csv
import io
from collections.abc import Iterable
from typing import Any

from nps_service.survey import METRICS
from nps_service.web.spreadsheet import neutralise_cell

METRIC_FIELDS = (
    "n",
    "nps",
    "ci_low",
    "ci_high",
    "promoters",
    "passives",
    "detractors",
    "promoter_share",
    "passive_share",
    "detractor_share",
    "effective_n",
    "suppressed",
)


# Empty cells when displays cannot be counted (property filters).
DISPLAY_FIELDS = ("shown", "answered", "declined", "response_rate")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # full precision: rounding is the client's job
    return value


def scores_csv(groups: Iterable[dict[str, Any]], key_columns: list[str]) -> str:
    """One row per group."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            *key_columns,
            *(f"{m}_{f}" for m in METRICS for f in METRIC_FIELDS),
            *(f"displays_{f}" for f in DISPLAY_FIELDS),
        ]
    )
    for group in groups:
        # Tag values may start with `-` (API.md's character set): key cells are text, and
        # text that a spreadsheet would run as a formula gets a leading quote. Metric cells
        # are numbers (a negative NPS stays -12.5).
        keys = [neutralise_cell(group["key"].get(column) or "") for column in key_columns]
        metrics = [group["overall"], *(group["dimensions"][m] for m in METRICS[1:])]
        displays = group.get("displays") or {}
        writer.writerow(
            [
                *keys,
                *(_cell(metric[f]) for metric in metrics for f in METRIC_FIELDS),
                *(_cell(displays.get(f)) for f in DISPLAY_FIELDS),
            ]
        )
    return buffer.getvalue()
