"""Exact additive rollups: settled answers pre-aggregated by time slot and segment.

Ingest only appends: each new answer goes into `responses` and its id into
`pending_rollup`. A folder moves pending answers into `rollups` in one transaction, so every
snapshot sees each answer exactly once: either in a rollup row or still pending. Score
queries add up rollup rows, the pending tail and, where a time range does not line up
with rollup slots, raw rows.
"""
