"""The aggregation engine: where every count a score is built from comes from.

Exact additive rollups of settled answers by time slot and segment (`models`, `grains`,
`moments`), the pending tail of answers not folded yet and the folder that moves them in
(`fold`), the tables' own upkeep (`upkeep`), the plan that cuts a range into slots
(`plan`), local-calendar buckets (`buckets`), the statements over the three sources
(`sources`), one snapshot per request (`snapshot`) and the engine that adds them up
(`engine`).

Ingest only appends: each new answer goes into `responses` and its id into
`pending_rollup`. A folder moves pending answers into `rollups` in one transaction, so every
snapshot sees each answer exactly once: either in a rollup row or still pending.

Features use only the public part below: the `TotalsEngine` seam and its typed results.
"""

from nps_service.rollups.engine import SqlTotals
from nps_service.rollups.fold import Folder, fold_all, fold_batch
from nps_service.rollups.totals import ClassSums, GroupKey, GroupTotals, TotalsEngine, TotalsQuery
from nps_service.rollups.upkeep import Upkeep, tend, tidy_after_bulk

__all__ = [
    "ClassSums",
    "Folder",
    "GroupKey",
    "GroupTotals",
    "SqlTotals",
    "TotalsEngine",
    "TotalsQuery",
    "Upkeep",
    "fold_all",
    "fold_batch",
    "tend",
    "tidy_after_bulk",
]
