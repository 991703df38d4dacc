"""Score bodies as CSV for spreadsheets and BI tools: one header row, one flat row per group.

Every CSV of the analytics has the layout of the `/v1/scores` CSV: the group's key columns
first (with buckets `bucket`, `bucket_start`, `partial`, then the group_by fields), then each
metric's fields prefixed by the metric (`overall_nps`, `logistics_ci_low`, ...), in the
order of the JSON body. No cell holds JSON. Lines end in CRLF (RFC 4180); the response adds
the encoding and, on request, a byte-order mark (`web.media`).

Text cells (tag values, buckets, reasons) are neutralised against spreadsheet formulas
(`web.spreadsheet`); numbers are written unrounded, exactly as the JSON has them
(`repr` of the float), booleans as `true`/`false`, null as an empty cell.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from nps_service.stats.trend import TREND_FIELDS
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
BUCKET_COLUMNS = ("bucket", "bucket_start", "partial")
TREND_EDGES = tuple(
    f"{edge}_bucket{suffix}" for edge in ("first", "last") for suffix in ("", "_start", "_partial")
)
COMPARISON_FIELDS = ("delta", "delta_ci_low", "delta_ci_high", "z", "p_value", "p_value_adjusted")
Row = list[object]


def cell(value: object) -> object:
    """One value as its CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return float.__repr__(value)  # full precision: rounding is the client's job
    return neutralise_cell(value)


def write_csv(header: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    """The header and rows as CSV text (RFC 4180 quoting, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def metrics_of(group: dict[str, Any]) -> list[dict[str, Any]]:
    """`overall`, then each dimension, of a group (any shape with those members)."""
    return [group["overall"], *(group["dimensions"][m] for m in METRICS[1:])]


def metric_columns(fields: Sequence[str], infix: str = "") -> list[str]:
    """`<metric>_<infix><field>` for each metric, then each field."""
    return [f"{metric}_{infix}{field}" for metric in METRICS for field in fields]


def key_columns(group_by: Sequence[str], *, buckets: bool) -> list[str]:
    """`bucket`, `bucket_start`, `partial` with buckets, then the group_by fields."""
    return [*(BUCKET_COLUMNS if buckets else ()), *group_by]


def key_cells(group: dict[str, Any], group_by: Sequence[str], *, buckets: bool) -> Row:
    """A group's key cells in the order of `key_columns`."""
    key = group["key"]
    edge: Row = [key["bucket"], key["bucket_start"], group["partial"]] if buckets else []
    return [*edge, *(key[name] for name in group_by)]


def scores_csv(groups: Iterable[dict[str, Any]], group_by: Sequence[str], *, buckets: bool) -> str:
    """`/v1/scores`: one row per group, its key, every metric, then the display counts."""
    header = [
        *key_columns(group_by, buckets=buckets),
        *metric_columns(METRIC_FIELDS),
        *(f"displays_{f}" for f in DISPLAY_FIELDS),
    ]
    rows = (
        [
            *key_cells(group, group_by, buckets=buckets),
            *(metric[f] for metric in metrics_of(group) for f in METRIC_FIELDS),
            *((group.get("displays") or {}).get(f) for f in DISPLAY_FIELDS),
        ]
        for group in groups
    )
    return write_csv(header, rows)


def trend_csv(groups: Iterable[dict[str, Any]], group_by: Sequence[str]) -> str:
    """`/v1/scores/trend`: one row per group, its first and last buckets, each metric's fit."""
    header = [*group_by, *TREND_EDGES, *metric_columns(TREND_FIELDS)]
    rows = (
        [
            *(group["key"][name] for name in group_by),
            *(group[column] for column in TREND_EDGES),
            *(metric[f] for metric in metrics_of(group) for f in TREND_FIELDS),
        ]
        for group in groups
    )
    return write_csv(header, rows)


def compare_csv(groups: Iterable[dict[str, Any]], group_by: Sequence[str]) -> str:
    """`/v1/scores/compare`: one row per group; per metric its current and baseline scores
    (`overall_current_nps`, `overall_baseline_nps`, ...) and the change (`overall_delta`)."""
    header = [*group_by]
    for metric in METRICS:
        header += [f"{metric}_current_{f}" for f in METRIC_FIELDS]
        header += [f"{metric}_baseline_{f}" for f in METRIC_FIELDS]
        header += [f"{metric}_{f}" for f in COMPARISON_FIELDS]
    rows = (
        [
            *(group["key"][name] for name in group_by),
            *(
                value
                for metric in metrics_of(group)
                for value in (
                    *(metric["current"][f] for f in METRIC_FIELDS),
                    *(metric["baseline"][f] for f in METRIC_FIELDS),
                    *(metric[f] for f in COMPARISON_FIELDS),
                )
            ),
        ]
        for group in groups
    )
    return write_csv(header, rows)
