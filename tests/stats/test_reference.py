"""The shared reference (`tests/reference.py`) is itself checked against the worked
examples of STATISTICS.md before it judges the service."""

import pytest

from tests.reference import compare, example_b, summary


def test_reference_reproduces_the_worked_examples() -> None:
    a = summary([10] * 110 + [7] * 50 + [0] * 40)
    assert a["nps"] == 35.0
    assert round(a["ci_low"], 1) == 23.6
    assert round(a["ci_high"], 1) == 45.4
    small = summary([9] * 9 + [8])
    assert round(small["ci_low"], 1) == 38.1
    assert small["ci_high"] == 100.0
    only = summary([10] * 10)
    assert round(only["ci_low"], 1) == 47.5
    assert only["ci_high"] == 100.0
    b = summary(*example_b(), weighted=True)
    assert round(b["nps"], 2) == -8.33
    assert round(b["effective_n"], 3) == 6.857
    assert summary(*example_b())["nps"] == 40.0


def test_reference_reproduces_example_c() -> None:
    got = compare((110, 50, 40), (90, 60, 50))
    assert got["delta"] == pytest.approx(15.0)
    assert got["z"] == pytest.approx(1.86, abs=0.005)
    assert got["p_value"] == pytest.approx(0.063, abs=0.0005)
    assert got["delta_ci_low"] == pytest.approx(-0.8, abs=0.05)
    assert got["delta_ci_high"] == pytest.approx(30.4, abs=0.05)
