"""A category's merchant ranking as CSV: one row per merchant, best first.

`rank, merchant_id, composite`, then the overall score and each dimension's in the layout
of the scores CSV (`overall_n, overall_nps, ...`, `logistics_n, ...`).
"""

from collections.abc import Iterable
from typing import Any

from nps_service.scores.csv_export import METRIC_FIELDS, metric_columns, metrics_of, write_csv

MERCHANT_FIELDS = ("rank", "merchant_id", "composite")


def merchants_csv(merchants: Iterable[dict[str, Any]]) -> str:
    """`/v1/merchants`: one row per ranked merchant."""
    header = [*MERCHANT_FIELDS, *metric_columns(METRIC_FIELDS)]
    rows = (
        [
            *(merchant[field] for field in MERCHANT_FIELDS),
            *(metric[f] for metric in metrics_of(merchant) for f in METRIC_FIELDS),
        ]
        for merchant in merchants
    )
    return write_csv(header, rows)
