"""Merchant governance: a category's merchants ranked over a trailing window, and one
merchant's scorecard with its rank, percentile and change."""
