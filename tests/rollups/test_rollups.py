"""Rollups answer exactly what a raw scan answers, whatever was folded and whenever.

Random answers (around DST changes, year ends and quarter-hour edges) are stored, part of
them folded into rollups, more stored after the fold; then random queries (zones with
:30 and :45 offsets and DST, every interval, filters, groupings, ranges that do and do not
line up with slots) must give the same totals through the rollups as through a raw scan.
"""

import os
import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.filters import ResponseFilter
from nps_service.responses.ingest import ingest_batch
from nps_service.responses.models import PendingRollup, Response
from nps_service.responses.schemas import ResponseIn
from nps_service.rollups import SqlTotals, TotalsQuery
from nps_service.rollups.fold import fold_all, fold_batch
from nps_service.rollups.grains import DAY_CST, WEEK_CST, choose_grain
from nps_service.rollups.models import rollups
from nps_service.rollups.moments import moment_sums
from nps_service.rollups.plan import plan
from nps_service.stats.nps import ClassTotals
from nps_service.survey import Interval
from nps_service.timezones import local_midnight

WINDOWS = [
    datetime(2025, 12, 28, tzinfo=UTC),
    datetime(2026, 3, 5, tzinfo=UTC),
    datetime(2026, 4, 2, tzinfo=UTC),
    datetime(2026, 10, 1, tzinfo=UTC),
    datetime(2026, 10, 29, tzinfo=UTC),
]
ZONES = [
    "UTC",
    "Asia/Hong_Kong",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Shanghai",
    "Pacific/Chatham",
]
VALUES = {
    "merchant_id": ["m1", "m2", "m3"],
    "category": ["beauty", "food"],
    "channel": ["live", "search"],
    "region": ["CN-BJ", "CN-SH"],
    "platform": ["ios", "android"],
    "touchpoint": ["delivery", "support"],
}


def instants() -> st.SearchStrategy[datetime]:
    return st.builds(
        lambda window, minutes, seconds, micros: (
            window + timedelta(minutes=minutes, seconds=seconds, microseconds=micros)
        ),
        st.sampled_from(WINDOWS),
        st.integers(0, 6 * 24 * 60),
        st.sampled_from([0, 0, 0, 1, 59]),
        st.sampled_from([0, 0, 1, 999_999]),
    )


@st.composite
def answers(draw: st.DrawFn) -> dict[str, object]:
    body: dict[str, object] = {
        "respondent_id": "r",
        "score": draw(st.integers(0, 10)),
        "submitted_at": draw(instants()).isoformat(),
        "dimensions": {
            d: draw(st.integers(0, 10))
            for d in ("logistics", "product", "service", "app")
            if draw(st.booleans())
        },
        "context": {f: draw(st.sampled_from(v)) for f, v in VALUES.items() if draw(st.booleans())},
    }
    weight = draw(st.sampled_from([None, 0.5, 1, 2.25, 3.3, 0.1]))
    if weight is not None:
        body["weight"] = weight
    return body


@st.composite
def queries(draw: st.DrawFn) -> tuple[ResponseFilter, Interval | None, list[str], bool]:
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    bound = st.one_of(
        st.none(),
        instants(),
        st.builds(lambda t: local_midnight(t.astimezone(tz).date(), tz), instants()),
    )
    start, end = draw(bound), draw(bound)
    if start is not None and end is not None and start >= end:
        start, end = end, start
        if start == end:
            end = None
    fields = list(VALUES)
    # Mostly field sets some rollup grain holds (so the rollup path runs), sometimes not.
    shape = draw(st.sampled_from(["none", "one", "one", "merchant", "any"]))
    if shape == "none":
        filtered, group_by = [], []
    elif shape == "one":
        field = draw(st.sampled_from(fields))
        filtered = draw(st.sampled_from([[], [field]]))
        group_by = [field] if not filtered or draw(st.booleans()) else []
    elif shape == "merchant":
        filtered = draw(st.sampled_from([[], ["category"], ["merchant_id"]]))
        group_by = draw(st.sampled_from([[], ["merchant_id"], ["category", "merchant_id"]]))
    else:
        filtered = draw(st.lists(st.sampled_from(fields), max_size=2, unique=True))
        group_by = draw(st.lists(st.sampled_from(fields), max_size=2, unique=True))
    segments = {
        f: tuple(draw(st.lists(st.sampled_from(VALUES[f]), min_size=1, max_size=2, unique=True)))
        for f in filtered
    }
    interval = draw(st.sampled_from([None, Interval.DAY, Interval.WEEK, Interval.MONTH]))
    scope = ResponseFilter(start=start, end=end, tz=tz, segments=segments)
    return scope, interval, group_by, draw(st.booleans())


@dataclass(frozen=True)
class GroupTotals:
    """One group of an engine result, with each metric's sums as a `ClassTotals`."""

    key: dict[str, Any]
    metrics: dict[str, ClassTotals]
    by_label: Mapping[str, int | float]  # the complete-case moments
    weighted: bool


def group_totals(
    session: Session,
    scope: ResponseFilter,
    *,
    interval: Interval | None,
    group_by: list[str],
    weighted: bool,
    moments: bool = False,
    use_rollups: bool = True,
) -> list[GroupTotals]:
    """The engine's result for one query, group by group."""
    query = TotalsQuery(scope, interval, group_by, weighted, moments)
    result = SqlTotals(session, use_rollups=use_rollups).group_totals(query)
    groups = []
    for index, key in enumerate(result.keys):
        metrics = {}
        for metric, sums in result.metrics.items():
            promoters, passives, detractors = sums.counts[index].tolist()
            weights = sums.class_weights[index].tolist()
            metrics[metric] = ClassTotals(
                promoters,
                passives,
                detractors,
                *weights,
                weight_squares=float(sums.weight_squares[index]),
            )
        by_label = result.moments[index] if moments else {}
        groups.append(GroupTotals(key, metrics, by_label, weighted))
    return groups


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings)
    yield engine
    engine.dispose()


def _reset(engine: Engine) -> None:
    with Session(engine) as session:
        for table in (rollups, PendingRollup.__table__, Response.__table__):
            session.execute(delete(table))
        session.commit()


def _store(engine: Engine, bodies: list[dict[str, object]]) -> None:
    if not bodies:
        return
    with make_session_factory(engine)() as session:
        ingest_batch(
            session, [ResponseIn.model_validate({**b, "id": str(uuid.uuid4())}) for b in bodies]
        )


def _totals(
    engine: Engine,
    query: tuple[ResponseFilter, Interval | None, list[str], bool],
    use_rollups: bool,
) -> dict[tuple[object, ...], GroupTotals]:
    scope, interval, group_by, weighted = query
    with make_session_factory(engine)() as session:
        groups = group_totals(
            session,
            scope,
            interval=interval,
            group_by=group_by,
            weighted=weighted,
            moments=True,
            use_rollups=use_rollups,
        )
    return {tuple(sorted(g.key.items())): g for g in groups}


def _assert_same(
    routed: dict[tuple[object, ...], GroupTotals], raw: dict[tuple[object, ...], GroupTotals]
) -> None:
    assert routed.keys() == raw.keys()
    for key, expected in raw.items():
        for metric, want in expected.metrics.items():
            got = routed[key].metrics[metric]
            assert (got.promoters, got.passives, got.detractors) == (
                want.promoters,
                want.passives,
                want.detractors,
            ), (key, metric)
            for field in (
                "weight_promoters",
                "weight_passives",
                "weight_detractors",
                "weight_squares",
            ):
                assert getattr(got, field) == pytest.approx(
                    getattr(want, field), rel=1e-9, abs=1e-12
                ), (key, metric, field)
        # Complete-case moments (key drivers): integer sums exactly, weighted ones to 1e-9.
        got_moments, want_moments = routed[key].by_label, expected.by_label
        for moment in moment_sums(expected.weighted):
            got_value, want_value = got_moments[moment.name], want_moments[moment.name]
            where = (key, moment.name)
            if moment.weighted:
                want = pytest.approx(float(want_value), rel=1e-9, abs=1e-12)
                assert float(got_value) == want, where
            else:
                assert got_value == want_value, where
                assert isinstance(got_value, int), where


@pytest.mark.slow
@settings(
    # NPS_HYPOTHESIS_EXAMPLES=500 for a longer hunt than CI's.
    max_examples=int(os.environ.get("NPS_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    before=st.lists(answers(), min_size=1, max_size=40),
    after=st.lists(answers(), max_size=10),
    fold_size=st.sampled_from([0, 1, 7, 1000, 1000]),
    checks=st.lists(queries(), min_size=3, max_size=6),
)
def test_rollups_match_raw_scan(
    engine: Engine,
    before: list[dict[str, object]],
    after: list[dict[str, object]],
    fold_size: int,
    checks: list[tuple[ResponseFilter, Interval | None, list[str], bool]],
) -> None:
    _reset(engine)
    _store(engine, before)
    if fold_size:
        fold_batch(engine, fold_size)  # fold some of them, leaving a pending tail
    _store(engine, after)
    for query in checks:
        _assert_same(_totals(engine, query, True), _totals(engine, query, False))


def test_fold_moves_every_answer_exactly_once(engine: Engine) -> None:
    _reset(engine)
    rng = random.Random(4)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    bodies = [
        {
            "respondent_id": "r",
            "score": rng.randint(0, 10),
            "context": {"category": rng.choice(["a", "b"])},
            "submitted_at": (start + timedelta(minutes=rng.randint(0, 60 * 24 * 20))).isoformat(),
        }
        for _ in range(300)
    ]
    _store(engine, bodies)
    assert fold_all(engine, batch_size=64) == 300
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(PendingRollup)) == 0
        # Every grain holds every answer once at each of its levels.
        for grain_id, level in (
            (0, 2),
            (0, 3),
            (0, 1),
            (0, 0),
            (4, 2),
            (4, 3),
            (6, 2),
            (6, 3),
            (6, 4),
            (6, 5),
        ):
            total = session.scalar(
                select(
                    func.sum(
                        rollups.c.overall_promoters
                        + rollups.c.overall_passives
                        + rollups.c.overall_detractors
                    )
                ).where(rollups.c.grain == grain_id, rollups.c.level == level)
            )
            assert total == 300, (grain_id, level)
    assert fold_all(engine) == 0  # nothing left: folding again adds nothing


def test_queries_use_a_rollup_when_one_holds_the_fields() -> None:
    assert choose_grain(set()) is not None
    assert choose_grain({"category"}).name == "category"  # type: ignore[union-attr]
    assert choose_grain({"merchant_id"}).name == "merchant"  # type: ignore[union-attr]
    assert choose_grain({"category", "merchant_id"}).name == "merchant"  # type: ignore[union-attr]
    assert choose_grain({"category", "channel"}) is None


def test_day_buckets_from_rollups_in_a_half_hour_zone(engine: Engine) -> None:
    """A worked case: Kolkata days start at 18:30 UTC, so quarter slots carry the edges."""
    _reset(engine)
    times = [
        "2026-03-05T18:29:59Z",
        "2026-03-05T18:30:00Z",
        "2026-03-05T18:44:00Z",
        "2026-03-06T18:29:00Z",
        "2026-03-06T18:31:00Z",
    ]
    _store(engine, [{"respondent_id": "r", "score": 10, "submitted_at": t} for t in times])
    fold_all(engine)
    tz = ZoneInfo("Asia/Kolkata")
    scope = ResponseFilter(start=None, end=None, tz=tz, segments={})
    with make_session_factory(engine)() as session:
        groups = group_totals(session, scope, interval=Interval.DAY, group_by=[], weighted=False)
    counts = sorted((g.key["bucket"], g.metrics["overall"].n) for g in groups)
    # 18:29:59Z is 23:59:59 local on Mar 5; 18:30Z is midnight of Mar 6.
    assert counts == [("2026-03-05", 1), ("2026-03-06", 3), ("2026-03-07", 1)]
    assert date.fromisoformat(counts[0][0]) == date(2026, 3, 5)


def test_china_day_slots_serve_china_days(engine: Engine) -> None:
    """UTC+08:00 days have slots of their own: 15:59Z is still the previous local day."""
    _reset(engine)
    times = [
        "2026-03-05T15:59:59Z",
        "2026-03-05T16:00:00Z",
        "2026-03-06T15:00:00Z",
        "2026-03-06T16:30:00Z",
    ]
    _store(engine, [{"respondent_id": "r", "score": 10, "submitted_at": t} for t in times])
    fold_all(engine)
    with Session(engine) as session:
        china_days = session.scalar(
            select(func.count())
            .select_from(rollups)
            .where(rollups.c.grain == 0, rollups.c.level == 3)
        )
    assert china_days == 3
    scope = ResponseFilter(start=None, end=None, tz=ZoneInfo("Asia/Shanghai"), segments={})
    with make_session_factory(engine)() as session:
        groups = group_totals(session, scope, interval=Interval.DAY, group_by=[], weighted=False)
    counts = sorted((g.key["bucket"], g.metrics["overall"].n) for g in groups)
    assert counts == [("2026-03-05", 1), ("2026-03-06", 2), ("2026-03-07", 1)]


def test_a_range_of_china_days_is_read_from_china_day_slots_alone() -> None:
    """No raw edges for a merchant's 90 days in Asia/Shanghai: China weeks and days."""
    tz = ZoneInfo("Asia/Shanghai")
    start = datetime(2026, 8, 23, tzinfo=tz).astimezone(UTC)
    end = datetime(2026, 11, 21, tzinfo=tz).astimezone(UTC)
    merchant = choose_grain({"merchant_id"})
    assert merchant is not None
    pieces = plan(merchant, start, end, [])
    # 2026-08-23 is a Sunday: one day, twelve Monday-to-Sunday weeks, then five days.
    monday = datetime(2026, 8, 24, tzinfo=tz).astimezone(UTC)
    last_monday = datetime(2026, 11, 16, tzinfo=tz).astimezone(UTC)
    assert [(p.level, p.start, p.end) for p in pieces] == [
        (DAY_CST, start, monday),
        (WEEK_CST, monday, last_monday),
        (DAY_CST, last_monday, end),
    ]
    assert last_monday - monday == timedelta(weeks=12)


def test_folding_takes_the_oldest_pending_answers_first(engine: Engine) -> None:
    _reset(engine)
    times = [f"2026-03-0{day}T12:00:00Z" for day in (7, 3, 9, 1, 5)]
    _store(engine, [{"respondent_id": "r", "score": 10, "submitted_at": t} for t in times])
    assert fold_batch(engine, batch_size=2).folded == 2
    with Session(engine) as session:
        left = session.scalars(
            select(Response.submitted_at).join(PendingRollup, PendingRollup.id == Response.id)
        ).all()
    assert sorted(t.day for t in left) == [5, 7, 9]
