"""The seam between the aggregation engine and the analytic features.

Scores, comparisons, trends, key drivers and merchant rankings all need the same thing:
per group (a bucket and/or segment), additive sums over the answers in scope. They ask
for them through `TotalsEngine` and get a `GroupTotals` back; nothing else of the engine
is theirs to know. `SqlTotals` (rollups, pending tail and raw edges in PostgreSQL or
SQLite) is the one implementation today; another backend (a columnar store, say) would
sit beside it and be chosen where the app is wired, without touching the features.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from nps_service.filters import ResponseFilter
from nps_service.survey import CLASSES, METRICS, Interval

GroupKey = dict[str, str | None]


@dataclass(frozen=True)
class TotalsQuery:
    """Which answers (`scope`), grouped how, and which sums to return."""

    scope: ResponseFilter
    interval: Interval | None = None  # one group per local bucket in `scope.tz`
    group_by: Sequence[str] = ()  # segment fields, in key order
    weighted: bool = False  # also Σw per class and Σw²
    moments: bool = False  # also the complete-case moment sums (key drivers)
    displays: bool = False  # also each group's display counts (when displays can be)


@dataclass(frozen=True)
class ClassSums:
    """One metric's sums for every group of a result, a row per group.

    Column-wise on purpose: a ranking holds thousands of groups, and the statistics run
    on whole columns at once (numpy) rather than group by group.
    """

    counts: npt.NDArray[np.int64]  # (groups, 3): promoters, passives, detractors
    class_weights: npt.NDArray[np.float64]  # (groups, 3): Σw per class; zeros unless weighted
    weight_squares: npt.NDArray[np.float64]  # (groups,): Σw² of the rated; zeros unless weighted

    @property
    def n(self) -> npt.NDArray[np.int64]:
        """Answers that rated this metric, per group."""
        total: npt.NDArray[np.int64] = self.counts.sum(axis=1)
        return total


@dataclass(frozen=True)
class GroupTotals:
    """Every group that has answers, with its key and sums.

    Without `interval` and `group_by` there is exactly one group, with an empty key, even
    when nothing is in scope (its counts are then 0).
    """

    keys: list[GroupKey]  # `bucket` (local start date, YYYY-MM-DD) and each group_by field
    metrics: Mapping[str, ClassSums]  # by METRICS name
    weighted: bool
    # Per group, the complete-case moment sums by name (`rollups.moments`): exact integers
    # for the unweighted ones. Empty unless the query asked for moments.
    moments: list[Mapping[str, int | float]] = field(default_factory=list)
    # Per group: displays shown, answered, declined (groups x 3). None unless asked, or
    # when displays cannot be in scope (property filters: displays keep no properties).
    displays: npt.NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def empty(cls, weighted: bool) -> "GroupTotals":
        """No group at all (a grouped query over an empty scope)."""
        return cls.from_rows([], [], weighted)

    @classmethod
    def from_rows(
        cls,
        keys: list[GroupKey],
        sums: Sequence[Sequence[float]] | npt.NDArray[Any],
        weighted: bool,
        moments: Sequence[Mapping[str, int | float]] | None = None,
    ) -> "GroupTotals":
        """From one row of sums per group, laid out per metric as `class_sum_labels` lists."""
        stride = len(class_sum_labels(weighted)) // len(METRICS)
        table = np.array(sums, dtype=np.float64 if weighted else np.int64).reshape(
            len(keys), len(METRICS) * stride
        )
        metrics = {}
        for index, metric in enumerate(METRICS):
            at = index * stride
            counts = table[:, at : at + 3].astype(np.int64)
            if weighted:
                class_weights = table[:, at + 3 : at + 6].astype(np.float64)
                squares = table[:, at + 6].astype(np.float64)
            else:
                class_weights = np.zeros((len(keys), 3))
                squares = np.zeros(len(keys))
            metrics[metric] = ClassSums(counts, class_weights, squares)
        return cls(keys, metrics, weighted, list(moments or []))


def class_sum_labels(weighted: bool) -> list[str]:
    """The class sums of one group in row order: per metric its three class counts, then,
    when weighted, Σw per class and Σw²."""
    labels = []
    for metric in METRICS:
        labels += [f"{metric}__{k}" for k in CLASSES]
        if weighted:
            labels += [f"{metric}__w_{k}" for k in CLASSES] + [f"{metric}__w_squares"]
    return labels


class TotalsEngine(Protocol):
    """Where every analytic feature gets its sums."""

    def group_totals(self, query: TotalsQuery) -> GroupTotals:
        """The sums of every (bucket, group fields) combination that has answers."""
        ...
