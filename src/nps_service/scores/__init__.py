"""Scores: NPS aggregation in SQL and the statistics on top."""
