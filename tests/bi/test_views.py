"""The nps_bi views equal the posted answers: exact per UTC and per China day, whether
answers were folded into rollups or still pending, after an erasure and after the fold."""

import random
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.rollups.fold import fold_all
from tests.bi.data import (
    CHINA,
    ON_POSTGRESQL,
    check_daily,
    check_merchants,
    instant,
    random_answers,
    rows_of,
)
from tests.helpers import answer, post_all


def _fold(settings: Settings) -> None:
    engine = create_db_engine(settings)
    fold_all(engine)
    engine.dispose()


def _pending(owner: Engine) -> int:
    with owner.connect() as connection:
        found: int = connection.scalar(text("SELECT count(*) FROM pending_rollup"))
        return found


@ON_POSTGRESQL
def test_utc_and_china_days_split_at_their_own_midnight(
    client: TestClient, ingest_headers: dict[str, str], settings: Settings, owner: Engine
) -> None:
    # Worked by hand: which day each answer falls on in UTC and in China time (UTC+8).
    folded = [
        answer(10, submitted_at="2026-11-20T23:30:00+08:00"),  # UTC 20th, China 20th
        answer(0, submitted_at="2026-11-20T16:30:00Z"),  # UTC 20th, China 21st
    ]
    pending = [
        answer(9, submitted_at="2026-11-21T07:59:59+08:00"),  # UTC 20th, China 21st
        answer(8, submitted_at="2026-11-21T08:00:00+08:00"),  # UTC 21st, China 21st
    ]
    post_all(client, ingest_headers, folded)
    _fold(settings)
    post_all(client, ingest_headers, pending)
    assert _pending(owner) == 2
    query = (
        "SELECT day, day_start, overall_n, overall_promoters, overall_passives, "
        "overall_detractors, overall_nps FROM nps_bi.{} WHERE segment = 'all' ORDER BY day"
    )
    with owner.connect() as connection:
        utc = connection.execute(text(query.format("daily_scores_utc"))).all()
        china = connection.execute(text(query.format("daily_scores_china"))).all()
    assert [tuple(row) for row in utc] == [
        (date(2026, 11, 20), datetime(2026, 11, 20, tzinfo=UTC), 3, 2, 0, 1, 100 / 3),
        (date(2026, 11, 21), datetime(2026, 11, 21, tzinfo=UTC), 1, 0, 1, 0, 0.0),
    ]
    assert [tuple(row) for row in china] == [
        (date(2026, 11, 20), datetime(2026, 11, 20, tzinfo=CHINA), 1, 1, 0, 0, 100.0),
        (date(2026, 11, 21), datetime(2026, 11, 21, tzinfo=CHINA), 3, 1, 1, 1, 0.0),
    ]


@ON_POSTGRESQL
def test_weighted_scores_match_the_statistics_example(
    client: TestClient, ingest_headers: dict[str, str], settings: Settings, owner: Engine
) -> None:
    # STATISTICS.md example B: NPS 40.0, weighted -8.33, Σw = 12, Σw² = 21, n_eff 6.857.
    scores = [(10, 0.5), (10, 0.5), (9, 0.5), (9, 0.5), (10, 1), (9, 1)]
    scores += [(8, 1), (7, 2), (3, 2), (0, 3)]
    answers = [
        answer(s, weight=w, submitted_at=f"2026-11-20T1{i}:00:00+08:00")
        for i, (s, w) in enumerate(scores)
    ]
    post_all(client, ingest_headers, answers[:5])
    _fold(settings)
    post_all(client, ingest_headers, answers[5:])
    with owner.connect() as connection:
        row = connection.execute(
            text(
                "SELECT overall_n, overall_nps, overall_nps_weighted, overall_effective_n, "
                "overall_w_promoters + overall_w_passives + overall_w_detractors, "
                "overall_w_squares, logistics_n, logistics_nps "
                "FROM nps_bi.daily_scores_china WHERE segment = 'all'"
            )
        ).one()
    n, nps, weighted, effective, total, squares, logistics_n, logistics_nps = row
    assert (n, nps, total, squares) == (10, 40.0, 12.0, 21.0)
    assert abs(weighted - (-100 / 12)) < 1e-9
    assert abs(effective - 144 / 21) < 1e-9
    assert (logistics_n, logistics_nps) == (0, None)  # nobody rated it: no NPS, not 0


@ON_POSTGRESQL
def test_views_equal_the_answers_folded_pending_and_erased(
    client: TestClient,
    ingest_headers: dict[str, str],
    admin_headers: dict[str, str],
    read_headers: dict[str, str],
    settings: Settings,
    owner: Engine,
) -> None:
    rng = random.Random(20261120)
    first, second = random_answers(rng, 300, 12), random_answers(rng, 200, 12)
    post_all(client, ingest_headers, first)
    _fold(settings)
    post_all(client, ingest_headers, second)
    assert _pending(owner) == len(second)  # both sources are read
    answers = first + second
    with owner.connect() as connection:
        check_daily(connection, answers)
        check_merchants(connection, answers)
        _check_responses(connection, answers)

    # An erased person's answers leave every view, folded or pending; a group left with
    # no answer has no row (the rollups keep zeroed rows, the views hide them).
    reply = client.delete("/v1/respondents/person_3", headers=admin_headers)
    assert reply.status_code == 200, reply.text
    answers = [body for body in answers if body["respondent_id"] != "person_3"]
    with owner.connect() as connection:
        check_daily(connection, answers)
        check_merchants(connection, answers)
        _check_responses(connection, answers)

    _fold(settings)
    assert _pending(owner) == 0
    with owner.connect() as connection:
        check_daily(connection, answers)
        check_merchants(connection, answers)
        china = rows_of(connection, "daily_scores_china")
    # The REST API agrees (Asia/Shanghai has been UTC+8 without DST since 1991).
    reply = client.get("/v1/scores?interval=day&tz=Asia/Shanghai", headers=read_headers)
    api = {g["key"]["bucket"]: g["overall"] for g in reply.json()["groups"]}
    views = {str(r["day"]): r for r in china if r["segment"] == "all"}
    assert set(api) == set(views)
    for day, overall in api.items():
        assert overall["n"] == views[day]["overall_n"]
        assert overall["promoters"] == views[day]["overall_promoters"]
        assert overall["detractors"] == views[day]["overall_detractors"]


def _check_responses(connection: Any, answers: list[dict[str, Any]]) -> None:
    rows = {str(row["id"]): row for row in rows_of(connection, "responses")}
    assert set(rows) == {body["id"] for body in answers}
    for body in answers:
        row = rows[body["id"]]
        moment = instant(body)
        assert row["submitted_at"] == moment
        assert (row["day_utc"], row["day_china"]) == (
            moment.astimezone(UTC).date(),
            moment.astimezone(CHINA).date(),
        )
        assert row["score"] == body["score"]
        score = body["score"]
        assert row["nps_class"] == (
            "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        )
        assert row["nps_points"] == (100 if score >= 9 else 0 if score >= 7 else -100)
        for dimension in ("logistics", "product", "service", "app"):
            assert row[dimension] == body["dimensions"].get(dimension)
        for tag in ("merchant_id", "category", "channel", "region", "platform", "touchpoint"):
            assert row[tag] == body["context"].get(tag)
        assert row["weight"] == body.get("weight", 1)
