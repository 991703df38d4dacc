"""Alerts on a metric: each closed day or week compared with the one before, per group.

models.py (the tables) schemas.py (bodies) intervals.py (the local-calendar windows)
evaluation.py (figures, conditions, the once-per-interval record and its events)
store.py (create, read, change, delete, pages) scheduler.py (the background evaluator)
router.py (`/v1/alerts`).
"""
