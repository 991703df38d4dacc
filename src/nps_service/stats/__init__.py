"""The statistics of nps-service: pure functions over counts and sums, no I/O.

Importable without SQLAlchemy, FastAPI or the settings (a test checks it), so every
formula of STATISTICS.md can be tested exhaustively on its own:
- `nps`: classification, NPS, shares, adjusted-Wald intervals, weighted figures (§1-3)
- `compare`: the change between two independent samples and Holm's adjustment (§4)
- `trend`: the weighted least-squares slope over buckets (§7)
- `drivers`: correlations and Johnson's relative weights from moment sums (§6)
- `ranking`: a merchant's composite experience score and its rank's percentile
"""
