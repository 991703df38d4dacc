"""Composite experience scores and rank percentiles, worked out by hand."""

import pytest

from nps_service.stats.ranking import composite, percentile

EQUAL = {"logistics": 1.0, "product": 1.0, "service": 1.0, "app": 1.0}


def test_composite_is_the_weighted_mean_of_the_rated_dimensions() -> None:
    nps = {"logistics": -20.0, "product": 40.0, "service": None, "app": 10.0}
    # Service has no NPS: (−20 + 40 + 10) / 3 = 10 with equal weights.
    assert composite(nps, EQUAL) == pytest.approx(10.0)
    # Weights 2, 2, 1, 1 over the rated ones: (−40 + 80 + 10) / 5 = 10.
    weights = {"logistics": 2.0, "product": 2.0, "service": 1.0, "app": 1.0}
    assert composite(nps, weights) == pytest.approx(10.0)
    # A zero weight leaves a dimension out: (40 + 10) / 2 = 25.
    assert composite(nps, {**EQUAL, "logistics": 0.0}) == pytest.approx(25.0)


def test_composite_without_any_rated_dimension_is_none() -> None:
    nps = dict.fromkeys(EQUAL)
    assert composite(nps, EQUAL) is None
    assert composite({**nps, "app": 30.0}, {**EQUAL, "app": 0.0}) is None


@pytest.mark.parametrize(
    ("position", "of", "expected"),
    [(1, 5, 100.0), (5, 5, 0.0), (3, 5, 50.0), (2, 3, 50.0), (1, 1, 100.0), (None, 4, None)],
)
def test_percentile(position: int | None, of: int, expected: float | None) -> None:
    assert percentile(position, of) == expected
