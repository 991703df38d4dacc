"""Demo data generator: valid, deterministic, realistic, and the documented CSV layout.

Pure tests, no database: every expectation is computed from the generated answers.
"""

import csv
import io
import json
import random
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from nps_service.demo import BAD_LOGISTICS_MERCHANTS, DemoConfig, generate
from nps_service.responses.formats import CSV_COLUMNS, write_csv, write_ndjson
from nps_service.responses.schemas import ResponseIn
from nps_service.web.spreadsheet import neutralise_cell

# A fixed end in the past: answers must not be in the future when validated.
END = datetime(2025, 7, 1, tzinfo=UTC)
CONTEXT_VALUE = re.compile(r"^[\w\-.:/]{1,64}$")
DIMENSIONS = ("logistics", "product", "service", "app")
CONTEXT_KEYS = ("merchant_id", "category", "channel", "region", "platform", "touchpoint")


@pytest.fixture(scope="module")
def answers() -> list[dict[str, Any]]:
    return list(generate(DemoConfig(count=40_000, end=END, merchants=2000)))


def nps(scores: Iterable[int]) -> tuple[float, int]:
    values = list(scores)
    promoters = sum(s >= 9 for s in values)
    detractors = sum(s <= 6 for s in values)
    return 100 * (promoters - detractors) / len(values), len(values)


def rated(answers: Iterable[dict[str, Any]], dimension: str) -> list[int]:
    return [a["dimensions"][dimension] for a in answers if dimension in a.get("dimensions", {})]


def china_hour(answer: dict[str, Any]) -> int:
    return (int(answer["submitted_at"][11:13]) + 8) % 24


def test_answers_are_valid_post_bodies(answers: list[dict[str, Any]]) -> None:
    for answer in random.Random(0).sample(answers, 2000):
        parsed = ResponseIn.model_validate(answer)
        # Nothing dropped or defaulted: the dict is exactly what a client would post.
        assert parsed.model_dump(mode="json", exclude_unset=True).keys() == answer.keys()
        assert uuid.UUID(answer["id"]).version == 4
        assert re.fullmatch(r"u_\d{6}", answer["respondent_id"])
        assert all(CONTEXT_VALUE.match(v) for v in answer["context"].values())
        assert set(CONTEXT_KEYS) <= answer["context"].keys()
        assert answer.get("dimensions", True), "no ratings means no dimensions object"
        assert all(isinstance(r, int) for r in answer.get("dimensions", {}).values())
        assert len(answer.get("comment", "")) <= 2000
        assert 0.2 <= answer.get("weight", 1.0) <= 5.0
        assert answer.get("properties", True)


def test_optional_fields_have_realistic_rates(answers: list[dict[str, Any]]) -> None:
    n = len(answers)
    assert 0.07 < sum("weight" in a for a in answers) / n < 0.13
    assert 0.02 < sum("comment" in a for a in answers) / n < 0.15
    assert 0.05 < sum("properties" in a for a in answers) / n < 0.5
    post_delivery = [a for a in answers if a["context"]["touchpoint"] == "post_delivery"]
    assert sum("order_id" in a["context"] for a in post_delivery) / len(post_delivery) > 0.85
    assert sum("logistics" in a.get("dimensions", {}) for a in post_delivery) > 0.8 * len(
        post_delivery
    )
    in_app = [a for a in answers if a["context"]["touchpoint"] == "in_app"]
    assert sum("app" in a.get("dimensions", {}) for a in in_app) > 0.8 * len(in_app)
    shares = {
        key: Counter(a["context"][key] for a in answers)
        for key in ("category", "channel", "region", "platform", "touchpoint")
    }
    assert len(shares["category"]) >= 18
    assert len(shares["region"]) >= 28
    assert set(shares["channel"]) == {
        "live_stream",
        "short_video",
        "search",
        "mall",
        "recommendation",
    }
    assert set(shares["platform"]) == {"ios", "android", "mini_program", "web"}
    assert set(shares["touchpoint"]) == {
        "post_delivery",
        "customer_service",
        "in_app",
        "after_sales",
    }
    for counts in shares.values():  # unequal shares, not uniform
        top, *_, bottom = sorted(counts.values(), reverse=True)
        assert top > 2 * bottom


def test_same_seed_same_answers_other_seed_other_answers() -> None:
    config = DemoConfig(count=2000, end=END, merchants=500)
    first = list(generate(config))
    assert first == list(generate(DemoConfig(count=2000, end=END, merchants=500)))
    other = list(generate(DemoConfig(count=2000, seed=7, end=END, merchants=500)))
    assert len(other) == len(first)
    assert not {a["id"] for a in first} & {a["id"] for a in other}
    assert [a["score"] for a in first] != [a["score"] for a in other]


@pytest.mark.parametrize("count", [0, 1, 7, 1000])
def test_exact_count_in_time_order(count: int) -> None:
    got = list(generate(DemoConfig(count=count, end=END, days=30, merchants=50)))
    assert len(got) == count
    times = [a["submitted_at"] for a in got]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("end", "days"),
    [
        (END, 365),
        # Not on an hour, sub-second, another offset: the edges are still respected.
        (datetime(2025, 3, 10, 12, 34, 56, 500_000, tzinfo=timezone(timedelta(hours=8))), 2),
    ],
)
def test_submitted_at_within_window(end: datetime, days: int) -> None:
    got = list(generate(DemoConfig(count=5000, end=end, days=days, merchants=100)))
    start = end - timedelta(days=days)
    for answer in got:
        text = answer["submitted_at"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", text)
        assert start <= datetime.fromisoformat(text) < end
    # The window is covered, not just one end of it.
    first, last = (datetime.fromisoformat(got[i]["submitted_at"]) for i in (0, -1))
    assert first - start < timedelta(hours=2)
    assert end - last < timedelta(hours=2)


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        DemoConfig(count=1, end=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="days"):
        DemoConfig(count=1, days=0)
    with pytest.raises(ValueError, match="count"):
        DemoConfig(count=-1)
    default = DemoConfig(count=1)
    assert default.end.tzinfo is UTC
    assert default.end.minute == default.end.second == default.end.microsecond == 0


def test_bad_logistics_merchants_stand_out(answers: list[dict[str, Any]]) -> None:
    bad = set(BAD_LOGISTICS_MERCHANTS)
    rest_nps, _ = nps(
        rated((a for a in answers if a["context"]["merchant_id"] not in bad), "logistics")
    )
    bad_nps, bad_n = nps(
        rated((a for a in answers if a["context"]["merchant_id"] in bad), "logistics")
    )
    assert bad_n >= 300
    assert rest_nps > 0
    assert bad_nps < rest_nps - 60
    for merchant in BAD_LOGISTICS_MERCHANTS:
        value, n = nps(
            rated((a for a in answers if a["context"]["merchant_id"] == merchant), "logistics")
        )
        assert n >= 20
        assert value < rest_nps - 50, merchant


def test_answers_per_merchant_are_long_tailed(answers: list[dict[str, Any]]) -> None:
    per_merchant = sorted(Counter(a["context"]["merchant_id"] for a in answers).values())[::-1]
    top = per_merchant[: 2000 // 100]  # the top 1% of the 2000 merchants
    assert sum(top) / len(answers) > 0.25
    median = per_merchant[len(per_merchant) // 2]
    assert median < len(answers) / len(per_merchant) / 2
    merchant_category: dict[str, str] = {}
    for a in answers:  # one category per merchant
        context = a["context"]
        assert (
            merchant_category.setdefault(context["merchant_id"], context["category"])
            == (context["category"])
        )


def test_overall_score_follows_the_dimensions(answers: list[dict[str, Any]]) -> None:
    for dimension in DIMENSIONS:
        pairs = [
            (a["dimensions"][dimension], a["score"])
            for a in answers
            if dimension in a.get("dimensions", {})
        ]
        xs, ys = zip(*pairs, strict=True)
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        cov = sum((x - mx) * (y - my) for x, y in pairs)
        var_x = sum((x - mx) ** 2 for x in xs)
        var_y = sum((y - my) ** 2 for y in ys)
        assert cov / (var_x * var_y) ** 0.5 > 0.2, dimension


def test_seasons_and_daily_rhythm(answers: list[dict[str, Any]]) -> None:
    def month_logistics(prefixes: tuple[str, ...]) -> float:
        return nps(
            rated((a for a in answers if a["submitted_at"].startswith(prefixes)), "logistics")
        )[0]

    # Double 11 and the Spring Festival strain logistics.
    autumn = month_logistics(("2024-09", "2024-10"))
    assert month_logistics(("2024-11-1",)) < autumn - 10
    assert month_logistics(("2025-01-2", "2025-01-3", "2025-02-0")) < autumn - 10
    # More answers in the China evening than in the small hours; a peak around Double 11.
    hours = Counter(china_hour(a) for a in answers)
    assert sum(hours[h] for h in (19, 20, 21, 22)) > 5 * sum(hours[h] for h in (2, 3, 4, 5))
    months = Counter(a["submitted_at"][:7] for a in answers)
    assert months["2024-11"] > 1.3 * months["2024-10"]


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_header_and_round_trip(answers: list[dict[str, Any]]) -> None:
    sample = answers[:3000]
    out = io.StringIO(newline="")
    assert write_csv(sample, out) == len(sample)
    rows = parse_csv(out.getvalue())
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(sample) + 1
    for answer, row in zip(sample, rows[1:], strict=True):
        cell = dict(zip(CSV_COLUMNS, row, strict=True))
        assert cell["id"] == answer["id"]
        assert cell["respondent_id"] == answer["respondent_id"]
        assert cell["score"] == str(answer["score"])
        for dimension in DIMENSIONS:
            rating = answer.get("dimensions", {}).get(dimension)
            assert cell[dimension] == ("" if rating is None else str(rating))
        assert cell["comment"] == answer.get("comment", "")
        for key in (*CONTEXT_KEYS, "order_id"):
            assert cell[key] == answer["context"].get(key, "")
        assert cell["weight"] == (str(answer["weight"]) if "weight" in answer else "")
        if "properties" in answer:
            assert json.loads(cell["properties"]) == answer["properties"]
            assert " " not in cell["properties"]
        else:
            assert cell["properties"] == ""
        assert cell["submitted_at"] == answer["submitted_at"]
    kinds = {
        "weight": any("weight" in a for a in sample),
        "properties": any("properties" in a for a in sample),
        "comment": any("comment" in a for a in sample),
        "missing rating": any(len(a.get("dimensions", {})) < 4 for a in sample),
    }
    assert all(kinds.values()), kinds


def reference_csv(answers: Iterable[dict[str, Any]]) -> str:
    """The layout written the plain way: csv.writer on every row, text cells neutralised.

    Each row is written with a "\\r\\n" terminator (so that a carriage return in a cell
    is quoted, as the import needs) and ends with "\\n" instead.
    """
    lines = [",".join(CSV_COLUMNS) + "\n"]
    for a in answers:
        d, c = a.get("dimensions") or {}, a.get("context") or {}
        at = a.get("submitted_at")
        props = a.get("properties")
        row = io.StringIO(newline="")
        csv.writer(row, lineterminator="\r\n").writerow(
            [neutralise_cell(a.get("id")), neutralise_cell(a["respondent_id"]), a["score"]]
            + [d.get(k) for k in DIMENSIONS]
            + [neutralise_cell(a.get("comment"))]
            + [neutralise_cell(c.get(k)) for k in (*CONTEXT_KEYS, "order_id")]
            + [a.get("weight")]
            + [json.dumps(props, ensure_ascii=False, separators=(",", ":")) if props else None]
            + [neutralise_cell(at.isoformat() if isinstance(at, datetime) else at)]
        )
        lines.append(row.getvalue().removesuffix("\r\n") + "\n")
    return "".join(lines)


TRICKY: list[dict[str, Any]] = [
    {"respondent_id": "u_1", "score": 0},
    {"respondent_id": "u,2", "score": 10, "comment": 'said "fine", then\nleft', "weight": 1e-05},
    {
        "respondent_id": "u_3",
        "score": 7,
        "comment": "carriage\rreturn",
        "dimensions": {"app": None},
    },
    {"respondent_id": "u_4", "score": 5, "properties": {"vip": True}, "weight": 2.0},
    {"respondent_id": "u_5", "score": 5, "properties": {"vip": 1}, "context": {"region": "CN-BJ"}},
    {"respondent_id": "u_6", "score": 5, "properties": {"vip": 1.0, "note": 'a "b", c'}},
    {"respondent_id": "u_7", "score": 9, "properties": {}, "comment": "物流很快，第二天就到了"},
    {
        "id": uuid.UUID("7f0c2a9e-8d4b-4a51-9a53-2f0e6a1d9b10"),
        "respondent_id": "u_8",
        "score": 9,
        "submitted_at": datetime(2026, 11, 20, 10, tzinfo=UTC),
    },
    {
        "respondent_id": "=1+1",
        "score": 3,
        "comment": "@SUM(1)",
        "context": {"category": "-x", "merchant_id": "m_1"},
    },
]


def test_csv_is_exactly_what_csv_writer_writes(answers: list[dict[str, Any]]) -> None:
    sample = answers[:3000] + TRICKY
    out = io.StringIO(newline="")
    write_csv(sample, out)
    assert out.getvalue() == reference_csv(sample)
    by_respondent = {row[1]: row for row in parse_csv(out.getvalue())}
    assert by_respondent["u,2"][7] == 'said "fine", then\nleft'
    assert by_respondent["u_5"][16] == '{"vip":1}'
    assert by_respondent["u_4"][16] == '{"vip":true}'
    assert by_respondent["u_8"][-1] == "2026-11-20T10:00:00+00:00"
    assert by_respondent["u_3"][7] == "carriage\rreturn"
    assert by_respondent["'=1+1"][7:10] == ["'@SUM(1)", "m_1", "'-x"]


def test_ndjson_is_one_compact_object_per_line(answers: list[dict[str, Any]]) -> None:
    sample = answers[:2000]
    out = io.StringIO()
    assert write_ndjson(sample, out) == len(sample)
    lines = out.getvalue().split("\n")
    assert lines[-1] == ""
    for answer, line in zip(sample, lines[:-1], strict=True):
        assert json.loads(line) == answer
        assert line == json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
