"""GET /v1/scores against an independent reference implementation of STATISTICS.md §1-3.

Every expected number here is computed by the shared reference (`tests/reference.py`)
from the answers the test posted (or taken from the worked examples of STATISTICS.md),
never from the service.
"""

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, post_all
from tests.reference import Z, example_b, summary

DIMENSIONS = ("logistics", "product", "service", "app")
METRICS = ("overall", *DIMENSIONS)
TOLERANCE = 1e-9
BASE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
Params = list[tuple[str, str]]


# --- the reference -------------------------------------------------------------------


def reference(
    ratings: list[int],
    weights: list[float] | None = None,
    *,
    weighted: bool = False,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """n, counts, shares, NPS and adjusted-Wald interval of some 0-10 ratings."""
    return summary(ratings, weights, weighted=weighted, z=Z[confidence])


def reference_group(
    answers: list[dict[str, Any]], *, weighted: bool = False, confidence: float = 0.95
) -> dict[str, dict[str, Any]]:
    """The reference for every metric of a group of posted answers."""
    out = {}
    for metric in METRICS:
        rated = [a for a in answers if rating(a, metric) is not None]
        out[metric] = reference(
            [rating(a, metric) for a in rated],
            [float(a.get("weight", 1.0)) for a in rated],
            weighted=weighted,
            confidence=confidence,
        )
    return out


def rating(body: dict[str, Any], metric: str) -> Any:
    if metric == "overall":
        return body["score"]
    return (body.get("dimensions") or {}).get(metric)


def tag(body: dict[str, Any], field: str) -> Any:
    return (body.get("context") or {}).get(field)


def close(actual: Any, expected: Any) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return math.isclose(actual, expected, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def assert_metric(actual: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    for field in ("n", "promoters", "passives", "detractors"):
        assert actual[field] == expected[field], (where, field, actual, expected)
        assert isinstance(actual[field], int), (where, field, actual)
    for field in (
        "promoter_share",
        "passive_share",
        "detractor_share",
        "nps",
        "ci_low",
        "ci_high",
        "effective_n",
    ):
        if field in expected:
            assert close(actual[field], expected[field]), (where, field, actual, expected)
    assert actual["suppressed"] is False, (where, actual)


def assert_group(group: dict[str, Any], expected: dict[str, dict[str, Any]]) -> None:
    assert_metric(group["overall"], expected["overall"], f"{group['key']} overall")
    assert set(group["dimensions"]) == set(DIMENSIONS)
    for dimension in DIMENSIONS:
        assert_metric(
            group["dimensions"][dimension], expected[dimension], f"{group['key']} {dimension}"
        )


# --- datasets ------------------------------------------------------------------------


def at(seconds: float) -> str:
    return (BASE + timedelta(seconds=seconds)).isoformat()


def random_answers(seed: int, count: int, *, weights: bool = False) -> list[dict[str, Any]]:
    """Answers with a mix of scores, partly missing dimensions, tags (some absent), weights."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        dimensions = {d: rng.randint(0, 10) for d in DIMENSIONS if rng.random() < 0.6}
        context: dict[str, str] = {}
        merchant = rng.choice(["m_1", "m_2", "m_3", None])
        if merchant:
            context["merchant_id"] = merchant
        category = rng.choice(["beauty", "food", None])
        if category:
            context["category"] = category
        context["channel"] = rng.choice(["app", "web", "live_stream"])
        fields: dict[str, Any] = {
            "submitted_at": at(60 * i),
            "context": context,
            "respondent_id": f"u_{i}",
        }
        if dimensions:
            fields["dimensions"] = dimensions
        if weights:
            fields["weight"] = rng.choice([0.25, 0.5, 1, 1.5, 2, 3.75])
        out.append(answer(rng.randint(0, 10), **fields))
    return out


def classes(promoters: int, passives: int, detractors: int, **fields: Any) -> list[dict[str, Any]]:
    """Answers with these class counts, spread over every score of each class."""
    scores = (
        [9 + i % 2 for i in range(promoters)]
        + [7 + i % 2 for i in range(passives)]
        + [i % 7 for i in range(detractors)]
    )
    return [answer(s, submitted_at=at(i), **fields) for i, s in enumerate(scores)]


def get_scores(
    client: TestClient, headers: dict[str, str], params: Params | None = None
) -> dict[str, Any]:
    reply = client.get("/v1/scores", headers=headers, params=params or [])
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = reply.json()
    return body


def only_group(body: dict[str, Any]) -> dict[str, Any]:
    assert len(body["groups"]) == 1, body["groups"]
    group: dict[str, Any] = body["groups"][0]
    assert group["key"] == {}
    return group


# --- global NPS ----------------------------------------------------------------------


def test_global_nps_matches_the_reference(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    answers = random_answers(1, 180)
    post_all(client, admin_headers, answers)
    group = only_group(get_scores(client, admin_headers))
    assert_group(group, reference_group(answers))
    assert group["overall"]["effective_n"] == 180


def test_global_nps_with_read_scope(
    client: TestClient, admin_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    answers = random_answers(2, 40)
    post_all(client, admin_headers, answers)
    group = only_group(get_scores(client, read_headers))
    assert_group(group, reference_group(answers))


def test_worked_example_a(client: TestClient, admin_headers: dict[str, str]) -> None:
    answers = classes(110, 50, 40)
    post_all(client, admin_headers, answers)
    overall = only_group(get_scores(client, admin_headers))["overall"]
    assert (overall["n"], overall["promoters"], overall["passives"], overall["detractors"]) == (
        200,
        110,
        50,
        40,
    )
    assert overall["nps"] == pytest.approx(35.0, abs=1e-9)
    assert overall["promoter_share"] == pytest.approx(0.55, abs=1e-12)
    assert overall["passive_share"] == pytest.approx(0.25, abs=1e-12)
    assert overall["detractor_share"] == pytest.approx(0.20, abs=1e-12)
    assert overall["ci_low"] == pytest.approx(23.6, abs=0.05)
    assert overall["ci_high"] == pytest.approx(45.4, abs=0.05)
    # Not the plain Wald interval (24.0 to 46.0).
    assert abs(overall["ci_low"] - 24.0) > 0.2
    assert abs(overall["ci_high"] - 46.0) > 0.2
    assert_metric(overall, reference([a["score"] for a in answers]), "example A")


@pytest.mark.parametrize(
    ("counts", "low", "nps"),
    [
        ((9, 1, 0), 38.1, 90.0),
        ((10, 0, 0), 47.5, 100.0),
    ],
)
def test_worked_examples_small_samples(
    client: TestClient,
    admin_headers: dict[str, str],
    counts: tuple[int, int, int],
    low: float,
    nps: float,
) -> None:
    answers = classes(*counts)
    post_all(client, admin_headers, answers)
    overall = only_group(get_scores(client, admin_headers))["overall"]
    assert overall["nps"] == pytest.approx(nps, abs=1e-9)
    assert overall["ci_low"] == pytest.approx(low, abs=0.05)
    assert overall["ci_high"] == 100.0  # capped at +100, never above
    assert_metric(overall, reference([a["score"] for a in answers]), str(counts))


def test_worked_example_b_weighted(client: TestClient, admin_headers: dict[str, str]) -> None:
    ratings, weights = example_b()
    answers = [
        answer(r, weight=w, submitted_at=at(i))
        for i, (r, w) in enumerate(zip(ratings, weights, strict=True))
    ]
    post_all(client, admin_headers, answers)
    plain = only_group(get_scores(client, admin_headers))["overall"]
    assert plain["nps"] == pytest.approx(40.0, abs=1e-9)
    assert plain["effective_n"] == pytest.approx(10.0, abs=1e-9)
    body = get_scores(client, admin_headers, [("weighted", "true")])
    assert body["query"]["weighted"] is True
    overall = only_group(body)["overall"]
    assert overall["nps"] == pytest.approx(-8.33, abs=0.005)
    assert overall["nps"] == pytest.approx(-100 / 12, abs=1e-9)
    assert overall["effective_n"] == pytest.approx(6.857, abs=0.0005)
    assert overall["effective_n"] == pytest.approx(144 / 21, abs=1e-9)
    # Counts stay exact integers; the weights only enter shares, NPS and the interval.
    assert (overall["n"], overall["promoters"], overall["passives"], overall["detractors"]) == (
        10,
        6,
        2,
        2,
    )
    assert_metric(overall, reference(ratings, weights, weighted=True), "example B")


@pytest.mark.parametrize(
    "params", [[], [("merchant_id", "nobody")], [("from", "2001-01-01"), ("to", "2001-01-02")]]
)
def test_global_group_exists_without_data(
    client: TestClient, admin_headers: dict[str, str], params: Params
) -> None:
    if params:  # data exists, but none of it is in scope
        post_all(client, admin_headers, random_answers(3, 5))
    group = only_group(get_scores(client, admin_headers, params))
    for metric in (group["overall"], *group["dimensions"].values()):
        assert (metric["n"], metric["promoters"], metric["passives"], metric["detractors"]) == (
            0,
            0,
            0,
            0,
        )
        for field in (
            "nps",
            "ci_low",
            "ci_high",
            "promoter_share",
            "passive_share",
            "detractor_share",
        ):
            assert metric[field] is None, (field, metric)
        assert metric["suppressed"] is False


def test_missing_dimension_is_not_a_zero(client: TestClient, admin_headers: dict[str, str]) -> None:
    answers = [
        answer(10, dimensions={"logistics": 10, "product": 9}, submitted_at=at(0)),
        answer(10, dimensions={"logistics": 9}, submitted_at=at(1)),
        answer(9, dimensions={"service": 2}, submitted_at=at(2)),
        answer(9, submitted_at=at(3)),
        answer(3, dimensions={"logistics": 7, "product": None}, submitted_at=at(4)),
    ]
    post_all(client, admin_headers, answers)
    group = only_group(get_scores(client, admin_headers))
    dims = group["dimensions"]
    assert (
        dims["logistics"]["n"],
        dims["logistics"]["promoters"],
        dims["logistics"]["passives"],
        dims["logistics"]["detractors"],
    ) == (3, 2, 1, 0)
    assert dims["logistics"]["nps"] == pytest.approx(200 / 3, abs=1e-9)
    assert (dims["product"]["n"], dims["product"]["nps"]) == (1, 100.0)
    assert (dims["service"]["n"], dims["service"]["nps"]) == (1, -100.0)
    assert dims["app"]["n"] == 0
    assert dims["app"]["nps"] is None
    assert group["overall"]["n"] == 5
    assert_group(group, reference_group(answers))


# --- time range ----------------------------------------------------------------------


def test_from_to_is_half_open(client: TestClient, admin_headers: dict[str, str]) -> None:
    start = datetime(2026, 5, 10, 8, 0, tzinfo=UTC)
    end = datetime(2026, 5, 11, 8, 0, tzinfo=UTC)
    moments = {
        "before": start - timedelta(seconds=1),
        "at_from": start,
        "inside": start + timedelta(hours=5),
        "just_before_to": end - timedelta(milliseconds=1),
        "at_to": end,
        "after": end + timedelta(days=3),
    }
    scores = {"before": 0, "at_from": 10, "inside": 7, "just_before_to": 3, "at_to": 9, "after": 1}
    answers = {
        name: answer(scores[name], submitted_at=moment.isoformat())
        for name, moment in moments.items()
    }
    post_all(client, admin_headers, list(answers.values()))
    inside = ["at_from", "inside", "just_before_to"]
    expected = reference([scores[name] for name in inside])

    # The same instants written with other offsets (the '+' is percent-encoded by httpx).
    for low, high in [
        (start.isoformat(), end.isoformat()),
        ("2026-05-10T08:00:00Z", "2026-05-11T08:00:00Z"),
        ("2026-05-10T16:00:00+08:00", "2026-05-11T03:00:00-05:00"),
    ]:
        overall = only_group(get_scores(client, admin_headers, [("from", low), ("to", high)]))[
            "overall"
        ]
        assert_metric(overall, expected, f"{low}..{high}")
    only_from = only_group(get_scores(client, admin_headers, [("from", start.isoformat())]))
    assert only_from["overall"]["n"] == 5
    only_to = only_group(get_scores(client, admin_headers, [("to", end.isoformat())]))
    assert only_to["overall"]["n"] == 4


def start_of_local_day(day: str, tz: str) -> datetime:
    """The first instant (to the second) whose local date in tz is `day` or later.

    Found by bisection over UTC instants, so DST gaps and repeats at midnight need no
    special rule here.
    """
    zone = ZoneInfo(tz)
    target = datetime.fromisoformat(day).date()

    def local_date(seconds: int) -> Any:
        return datetime.fromtimestamp(seconds, UTC).astimezone(zone).date()

    low = int(datetime.combine(target, datetime.min.time(), tzinfo=UTC).timestamp()) - 2 * 86400
    high = low + 4 * 86400
    assert local_date(low) < target <= local_date(high)
    while high - low > 1:
        middle = (low + high) // 2
        if local_date(middle) < target:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


@pytest.mark.parametrize(
    ("tz", "first", "last"),
    [
        ("UTC", "2026-03-08", "2026-03-09"),
        ("America/New_York", "2026-03-08", "2026-03-09"),  # a 23-hour day
        ("America/New_York", "2026-11-01", "2026-11-02"),  # a 25-hour day
        ("Asia/Kolkata", "2026-03-08", "2026-03-10"),
        ("Asia/Kathmandu", "2026-07-01", "2026-07-02"),
        ("America/Santiago", "2026-09-06", "2026-09-07"),  # 00:00 does not exist on Sep 6
        ("America/Havana", "2026-11-01", "2026-11-02"),  # 00:00 happens twice on Nov 1
        ("America/Havana", "2026-03-08", "2026-03-09"),  # 00:00 does not exist on Mar 8
    ],
)
def test_dates_mean_midnight_in_tz(
    client: TestClient, admin_headers: dict[str, str], tz: str, first: str, last: str
) -> None:
    low = start_of_local_day(first, tz)
    high = start_of_local_day(last, tz)
    second = timedelta(seconds=1)
    moments = [low - second, low, low + (high - low) / 2, high - second, high, high + second]
    answers = [answer(10 - i, submitted_at=m.isoformat()) for i, m in enumerate(moments)]
    post_all(client, admin_headers, answers)
    params = [("from", first), ("to", last)] + ([] if tz == "UTC" else [("tz", tz)])
    body = get_scores(client, admin_headers, params)
    expected = reference([a["score"] for a in answers[1:4]])
    assert_metric(only_group(body)["overall"], expected, tz)
    assert datetime.fromisoformat(body["query"]["from"]) == low
    assert datetime.fromisoformat(body["query"]["to"]) == high
    assert body["query"]["tz"] == tz


# --- filters and groups --------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ([("merchant_id", "m_1")], lambda a: tag(a, "merchant_id") == "m_1"),
        (
            [("merchant_id", "m_1"), ("merchant_id", "m_3")],
            lambda a: tag(a, "merchant_id") in ("m_1", "m_3"),
        ),
        ([("merchant_id", "m_1,m_3")], lambda a: tag(a, "merchant_id") in ("m_1", "m_3")),
        (
            [("merchant_id", "m_2"), ("category", "food")],
            lambda a: tag(a, "merchant_id") == "m_2" and tag(a, "category") == "food",
        ),
        (
            [("channel", "web,live_stream"), ("category", "beauty")],
            lambda a: (
                tag(a, "channel") in ("web", "live_stream") and tag(a, "category") == "beauty"
            ),
        ),
    ],
    ids=["single", "repeated", "comma-separated", "two-fields", "comma-and-field"],
)
def test_filters(
    client: TestClient, admin_headers: dict[str, str], params: Params, keep: Any
) -> None:
    answers = random_answers(4, 160)
    post_all(client, admin_headers, answers)
    kept = [a for a in answers if keep(a)]
    assert 0 < len(kept) < len(answers)
    body = get_scores(client, admin_headers, params)
    assert_group(only_group(body), reference_group(kept))
    expected_filters: dict[str, list[str]] = {}
    for name, value in params:
        expected_filters.setdefault(name, []).extend(value.split(","))
    assert {k: sorted(v) for k, v in body["query"]["filters"].items()} == {
        k: sorted(v) for k, v in expected_filters.items()
    }


def expected_groups(
    answers: list[dict[str, Any]], fields: list[str], **options: Any
) -> dict[tuple[Any, ...], dict[str, dict[str, Any]]]:
    keys = {tuple(tag(a, f) for f in fields) for a in answers}
    return {
        key: reference_group(
            [a for a in answers if tuple(tag(a, f) for f in fields) == key], **options
        )
        for key in keys
    }


def check_groups(
    body: dict[str, Any], answers: list[dict[str, Any]], fields: list[str], **options: Any
) -> None:
    expected = expected_groups(answers, fields, **options)
    seen = []
    for group in body["groups"]:
        assert set(group["key"]) == set(fields), group["key"]
        key = tuple(group["key"][f] for f in fields)
        seen.append(key)
        assert_group(group, expected[key])
    assert sorted(seen, key=repr) == sorted(expected, key=repr)  # each group exactly once


def test_group_by_one_field(client: TestClient, admin_headers: dict[str, str]) -> None:
    answers = random_answers(5, 150)
    post_all(client, admin_headers, answers)
    body = get_scores(client, admin_headers, [("group_by", "merchant_id")])
    assert body["query"]["group_by"] == ["merchant_id"]
    check_groups(body, answers, ["merchant_id"])
    keys = [g["key"]["merchant_id"] for g in body["groups"]]
    assert None in keys  # answers without a merchant form their own group
    real = [k for k in keys if k is not None]
    assert real == sorted(real) == ["m_1", "m_2", "m_3"]  # default order: by key


@pytest.mark.parametrize(
    "params",
    [
        [("group_by", "merchant_id"), ("group_by", "category")],
        [("group_by", "merchant_id,category")],
        [("group_by", "merchant_id, category")],
    ],
)
def test_group_by_several_fields(
    client: TestClient, admin_headers: dict[str, str], params: Params
) -> None:
    answers = random_answers(6, 200)
    post_all(client, admin_headers, answers)
    body = get_scores(client, admin_headers, params)
    assert body["query"]["group_by"] == ["merchant_id", "category"]
    check_groups(body, answers, ["merchant_id", "category"])
    keys = [(g["key"]["merchant_id"], g["key"]["category"]) for g in body["groups"]]
    assert (None, None) in keys
    real = [k for k in keys if None not in k]
    assert real == sorted(real)


def test_group_by_with_filter(client: TestClient, admin_headers: dict[str, str]) -> None:
    answers = random_answers(7, 150)
    post_all(client, admin_headers, answers)
    body = get_scores(client, admin_headers, [("group_by", "channel"), ("category", "beauty,food")])
    kept = [a for a in answers if tag(a, "category") in ("beauty", "food")]
    check_groups(body, kept, ["channel"])


def test_group_by_three_fields_with_null_values(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    answers = [
        answer(10, context={"region": "CN-BJ", "platform": "ios"}, submitted_at=at(0)),
        answer(0, context={"region": "CN-BJ"}, submitted_at=at(1)),
        answer(8, context={"platform": "ios"}, submitted_at=at(2)),
        answer(9, submitted_at=at(3)),
        answer(9, context={"touchpoint": "post_delivery"}, submitted_at=at(4)),
        answer(4, context={"region": "CN-BJ"}, submitted_at=at(5)),
    ]
    post_all(client, admin_headers, answers)
    body = get_scores(
        client, admin_headers, [("group_by", "region,platform"), ("group_by", "touchpoint")]
    )
    check_groups(body, answers, ["region", "platform", "touchpoint"])
    assert len(body["groups"]) == 5
    cn_only = next(
        g
        for g in body["groups"]
        if g["key"] == {"region": "CN-BJ", "platform": None, "touchpoint": None}
    )
    assert (cn_only["overall"]["n"], cn_only["overall"]["nps"]) == (2, -100.0)


# --- weights, confidence, suppression ------------------------------------------------


def test_weighted_matches_the_reference(client: TestClient, admin_headers: dict[str, str]) -> None:
    answers = random_answers(8, 150, weights=True)
    post_all(client, admin_headers, answers)
    body = get_scores(client, admin_headers, [("weighted", "true")])
    assert_group(only_group(body), reference_group(answers, weighted=True))
    grouped = get_scores(client, admin_headers, [("weighted", "true"), ("group_by", "merchant_id")])
    check_groups(grouped, answers, ["merchant_id"], weighted=True)
    # Unweighted is the default and ignores the weights.
    assert_group(only_group(get_scores(client, admin_headers)), reference_group(answers))
    assert_group(
        only_group(get_scores(client, admin_headers, [("weighted", "false")])),
        reference_group(answers),
    )


@pytest.mark.parametrize("confidence", [0.5, 0.90, 0.95, 0.99])
def test_confidence_levels(
    client: TestClient, admin_headers: dict[str, str], confidence: float
) -> None:
    answers = random_answers(9, 60, weights=True)
    post_all(client, admin_headers, answers)
    for weighted in (False, True):
        body = get_scores(
            client,
            admin_headers,
            [("confidence", str(confidence)), ("weighted", str(weighted).lower())],
        )
        assert body["query"]["confidence"] == confidence
        assert_group(
            only_group(body), reference_group(answers, weighted=weighted, confidence=confidence)
        )


def test_higher_confidence_means_a_wider_interval(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_all(client, admin_headers, classes(30, 20, 25))
    widths = []
    for confidence in ("0.5", "0.9", "0.95", "0.99", "0.999"):
        overall = only_group(get_scores(client, admin_headers, [("confidence", confidence)]))[
            "overall"
        ]
        assert overall["ci_low"] < overall["nps"] < overall["ci_high"]
        widths.append(overall["ci_high"] - overall["ci_low"])
    assert widths == sorted(widths)
    assert len(set(widths)) == len(widths)


def test_min_n_suppresses_small_groups(client: TestClient, admin_headers: dict[str, str]) -> None:
    sizes = {"m_1": 2, "m_2": 5, "m_3": 12}
    rng = random.Random(10)
    answers = []
    for merchant, size in sizes.items():
        for i in range(size):
            answers.append(
                answer(
                    rng.randint(0, 10),
                    context={"merchant_id": merchant},
                    dimensions={"logistics": rng.randint(0, 10)},
                    submitted_at=at(len(answers) + i),
                )
            )
    post_all(client, admin_headers, answers)
    body = get_scores(client, admin_headers, [("group_by", "merchant_id"), ("min_n", "5")])
    assert body["query"]["min_n"] == 5
    expected = expected_groups(answers, ["merchant_id"])
    groups = {g["key"]["merchant_id"]: g for g in body["groups"]}
    assert set(groups) == set(sizes)
    small = groups["m_1"]
    for name, metric in [
        ("overall", small["overall"]),
        ("logistics", small["dimensions"]["logistics"]),
    ]:
        want = expected[("m_1",)][name]
        assert metric["suppressed"] is True
        assert metric["nps"] is None
        assert metric["ci_low"] is None
        assert metric["ci_high"] is None
        # Counts stay exact so that totals still add up.
        for field in ("n", "promoters", "passives", "detractors"):
            assert metric[field] == want[field], (name, field)
    # Exactly min_n responses is not "fewer than min_n".
    assert_group(groups["m_2"], expected[("m_2",)])
    assert_group(groups["m_3"], expected[("m_3",)])
    # The global group: suppressed only when the whole sample is below min_n.
    assert (
        only_group(get_scores(client, admin_headers, [("min_n", "19")]))["overall"]["suppressed"]
        is False
    )
    whole = only_group(get_scores(client, admin_headers, [("min_n", "20")]))["overall"]
    assert whole["suppressed"] is True
    assert whole["nps"] is None
    assert whole["n"] == 19


def test_min_n_defaults_to_one(client: TestClient, admin_headers: dict[str, str]) -> None:
    post_all(client, admin_headers, [answer(10, submitted_at=at(0))])
    body = get_scores(client, admin_headers)
    assert body["query"]["min_n"] == 1
    overall = only_group(body)["overall"]
    assert overall["suppressed"] is False
    assert overall["nps"] == 100.0


# --- sorting -------------------------------------------------------------------------


def sort_dataset() -> list[dict[str, Any]]:
    """Merchants whose nps, n, ci_low and ci_high orders all differ."""
    spec = {  # promoters, passives, detractors
        "m_a": (8, 1, 1),  # n 10, nps 70
        "m_b": (20, 20, 20),  # n 60, nps 0
        "m_c": (3, 0, 0),  # n 3,  nps 100, wide interval
        "m_d": (10, 5, 25),  # n 40, nps -37.5
        "m_e": (15, 4, 6),  # n 25, nps 36
    }
    answers = []
    for merchant, counts in spec.items():
        answers += classes(*counts, context={"merchant_id": merchant})
    return answers


@pytest.mark.parametrize(
    ("sort", "field", "descending"),
    [
        ("key", None, False),
        ("-key", None, True),
        ("nps", "nps", False),
        ("-nps", "nps", True),
        ("n", "n", False),
        ("-n", "n", True),
        ("ci_low", "ci_low", False),
        ("-ci_high", "ci_high", True),
        ("ci_high", "ci_high", False),
    ],
)
def test_sort_and_limit(
    client: TestClient,
    admin_headers: dict[str, str],
    sort: str,
    field: str | None,
    descending: bool,
) -> None:
    answers = sort_dataset()
    post_all(client, admin_headers, answers)
    expected = expected_groups(answers, ["merchant_id"])
    if field is None:
        order = sorted(expected, reverse=descending)
    else:
        values = [expected[k]["overall"][field] for k in expected]
        assert len(set(values)) == len(values)  # no ties, so one right order
        order = sorted(expected, key=lambda k: expected[k]["overall"][field], reverse=descending)
    want = [k[0] for k in order]
    body = get_scores(client, admin_headers, [("group_by", "merchant_id"), ("sort", sort)])
    assert [g["key"]["merchant_id"] for g in body["groups"]] == want
    assert body["query"]["sort"] == sort
    check_groups(body, answers, ["merchant_id"])
    for limit in (1, 2, 4, 5, 50):
        limited = get_scores(
            client,
            admin_headers,
            [("group_by", "merchant_id"), ("sort", sort), ("limit", str(limit))],
        )
        assert [g["key"]["merchant_id"] for g in limited["groups"]] == want[:limit]
        assert limited["query"]["limit"] == limit


# --- the query echo ------------------------------------------------------------------


def test_query_echo_defaults(client: TestClient, admin_headers: dict[str, str]) -> None:
    query = get_scores(client, admin_headers)["query"]
    assert query["from"] is None
    assert query["to"] is None
    assert query["tz"] == "UTC"
    assert query["interval"] is None
    assert query["group_by"] == []
    assert query["filters"] == {}
    assert query["weighted"] is False
    assert query["confidence"] == 0.95
    assert query["min_n"] == 1


def test_query_echo_of_every_parameter(client: TestClient, admin_headers: dict[str, str]) -> None:
    params = [
        ("from", "2026-03-01"),
        ("to", "2026-04-01T00:00:00+02:00"),
        ("tz", "Asia/Kolkata"),
        ("interval", "week"),
        ("group_by", "channel"),
        ("group_by", "merchant_id"),
        ("merchant_id", "m_1"),
        ("merchant_id", "m_2"),
        ("category", "food"),
        ("weighted", "true"),
        ("confidence", "0.9"),
        ("min_n", "3"),
        ("sort", "-nps"),
        ("limit", "7"),
    ]
    query = get_scores(client, admin_headers, params)["query"]
    kolkata_midnight = datetime(2026, 3, 1, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert datetime.fromisoformat(query["from"]) == kolkata_midnight
    assert datetime.fromisoformat(query["from"]) == datetime(2026, 2, 28, 18, 30, tzinfo=UTC)
    assert datetime.fromisoformat(query["to"]) == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert query["tz"] == "Asia/Kolkata"
    assert query["interval"] == "week"
    assert query["group_by"] == ["channel", "merchant_id"]
    assert query["filters"] == {"merchant_id": ["m_1", "m_2"], "category": ["food"]}
    assert query["weighted"] is True
    assert query["confidence"] == 0.9
    assert query["min_n"] == 3
    assert query["sort"] == "-nps"
    assert query["limit"] == 7
