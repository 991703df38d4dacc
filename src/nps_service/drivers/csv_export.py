"""Key drivers as CSV: one row per group (model), in the layout of the scores CSV.

Key columns (`bucket`, `bucket_start`, `partial` with `interval`, then the group_by fields),
the model's fields, `priority` (the dimensions to improve, first first, comma-separated),
the overall score (`overall_n`, `overall_nps`, ...), then per dimension its driver fields
(`logistics_relative_weight`, ...) and its score (`logistics_score_nps`, ...).
"""

from collections.abc import Iterable, Sequence
from typing import Any

from nps_service.scores.csv_export import METRIC_FIELDS, key_cells, key_columns, write_csv
from nps_service.survey import DIMENSIONS

MODEL_FIELDS = (
    "n",
    "effective_n",
    "suppressed",
    "fitted",
    "reason",
    "r_squared",
    "overall_mean",
    "priority",
)
DRIVER_FIELDS = (
    "n",
    "mean",
    "correlation",
    "correlation_ci_low",
    "correlation_ci_high",
    "standardized_beta",
    "relative_weight",
    "relative_weight_share",
    "nps",
    "priority_score",
    "priority",
)


def _dimension_columns(name: str) -> list[str]:
    return [
        *(f"{name}_{field}" for field in DRIVER_FIELDS),
        *(f"{name}_score_{field}" for field in METRIC_FIELDS),
    ]


def _model_cell(group: dict[str, Any], field: str) -> object:
    return ",".join(group["priority"]) if field == "priority" else group[field]


def drivers_csv(groups: Iterable[dict[str, Any]], group_by: Sequence[str], *, buckets: bool) -> str:
    """`/v1/drivers`: one row per group."""
    header = [
        *key_columns(group_by, buckets=buckets),
        *MODEL_FIELDS,
        *(f"overall_{field}" for field in METRIC_FIELDS),
        *(column for name in DIMENSIONS for column in _dimension_columns(name)),
    ]
    rows = (
        [
            *key_cells(group, group_by, buckets=buckets),
            *(_model_cell(group, field) for field in MODEL_FIELDS),
            *(group["overall"][field] for field in METRIC_FIELDS),
            *(
                value
                for name in DIMENSIONS
                for value in (
                    *(group["dimensions"][name][field] for field in DRIVER_FIELDS),
                    *(group["dimensions"][name]["score"][field] for field in METRIC_FIELDS),
                )
            ),
        ]
        for group in groups
    )
    return write_csv(header, rows)
