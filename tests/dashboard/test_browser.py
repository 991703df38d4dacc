"""The dashboard in Chromium against a real service with demo data: the figures shown are
the API's, nothing leaves the service's origin, the console stays clean."""

import statistics
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.browser import DESKTOP, METRICS, PHONE, Tab, assert_metric, new_tab
from tests.dashboard.conftest import Server

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture
def tab(browser: Any) -> Any:
    recorded = new_tab(browser)
    yield recorded
    recorded.page.context.close()


def _pick(group: dict[str, Any], metric: str) -> dict[str, Any]:
    picked: dict[str, Any] = (
        group["overall"] if metric == "overall" else group["dimensions"][metric]
    )
    return picked


def test_the_figures_shown_are_the_apis(server: Server, tab: Tab) -> None:
    tab.sign_in(server)
    assert tab.state()["tz"] == "Asia/Shanghai"
    assert tab.page.evaluate("() => sessionStorage.length") == 1
    query = tab.query()

    scores = server.get("/v1/scores", **query)["groups"][0]
    summary = tab.figures("#summary")
    for metric in METRICS:
        assert_metric(summary, metric, _pick(scores, metric))
    displays = scores["displays"]
    assert displays["shown"] > 0
    for part in ("shown", "answered", "declined", "response_rate"):
        assert float(summary[f"displays.{part}"][0]) == displays[part]

    series = server.get("/v1/scores", **query, interval="week")["groups"]
    rows = tab.page.locator("#trend table[data-series=overall] tr[data-bucket]")
    assert rows.count() == len(series) > 4
    for index, group in enumerate(series):
        row = rows.nth(index)
        assert row.get_attribute("data-bucket") == group["key"]["bucket"]
        shown = row.locator("[data-figure='series.nps']").get_attribute("data-value")
        assert _number(shown) == group["overall"]["nps"]

    trend = server.get("/v1/scores/trend", **query, interval="week")["groups"][0]
    fits = tab.figures("#trend")
    for metric in METRICS:
        fit = _pick(trend, metric)
        assert float(fits[f"trend.{metric}.slope"][0]) == fit["slope"]
        assert float(fits[f"trend.{metric}.p_value"][0]) == fit["p_value"]
        assert fits[f"trend.{metric}.significant"][0] == str(fit["significant"]).lower()

    compare = server.get("/v1/scores/compare", **query)["groups"][0]
    changes = tab.figures("#compare")
    for metric in METRICS:
        change = _pick(compare, metric)
        assert float(changes[f"compare.{metric}.delta"][0]) == change["delta"]
        assert float(changes[f"compare.{metric}.p_value"][0]) == change["p_value"]
        assert float(changes[f"compare.{metric}.current"][0]) == change["current"]["nps"]
        assert float(changes[f"compare.{metric}.baseline"][0]) == change["baseline"]["nps"]
        significant = change["p_value"] < 0.05
        assert changes[f"compare.{metric}.significant"][0] == str(significant).lower()

    drivers = server.get("/v1/drivers", **query)["groups"][0]
    shown_drivers = tab.figures("#drivers")
    assert shown_drivers["drivers.r_squared"][0] == repr(drivers["r_squared"])
    for name, dimension in drivers["dimensions"].items():
        share = shown_drivers[f"drivers.{name}.relative_weight_share"][0]
        assert float(share) == dimension["relative_weight_share"]
        assert float(shown_drivers[f"drivers.{name}.nps"][0]) == dimension["nps"]
    order = tab.page.locator("#drivers ol.priority").get_attribute("data-value")
    assert order == ",".join(drivers["priority"])
    assert (
        tab.page.locator("#drivers ol.priority li").first.get_attribute("data-dimension")
        == drivers["priority"][0]
    )

    categories = server.get("/v1/scores", **{**query, "min_n": "1"}, group_by="category", sort="-n")
    category = categories["groups"][0]["key"]["category"]
    assert tab.page.locator("#merchants select[name=mcat]").input_value() == category
    state = tab.state()
    ranking = server.get(
        "/v1/merchants",
        category=category,
        sort="-ci_low",
        limit=20,
        tz=query["tz"],
        min_n=query["min_n"],
        end=query["to"],
        window_days=_days(state["from"], state["to"]),
    )
    rows = tab.page.locator("#merchants tr[data-merchant]")
    assert [rows.nth(i).get_attribute("data-merchant") for i in range(rows.count())] == [
        merchant["merchant_id"] for merchant in ranking["merchants"]
    ]
    ranks = tab.figures("#merchants")
    for merchant in ranking["merchants"]:
        for part in ("ci_low", "nps", "n"):
            value = ranks[f"merchant.{merchant['merchant_id']}.{part}"][0]
            assert float(value) == merchant["overall"][part]
    tab.assert_clean(server)


def _days(first: str, last: str) -> int:
    return (date.fromisoformat(last) - date.fromisoformat(first)).days + 1


def _number(value: str | None) -> float | None:
    return float(value) if value else None


def test_language_filter_scorecard_and_a_shared_view(
    server: Server, tab: Tab, browser: Any
) -> None:
    tab.sign_in(server)
    heading = tab.page.locator("#summary [data-metric=overall] h3")
    assert heading.inner_text() == "整体 NPS"
    before = tab.figures("#summary")["overall.nps"]
    tab.page.locator("#language").click()
    tab.wait()
    assert tab.page.locator("html").get_attribute("lang") == "en"
    assert tab.page.locator("#summary [data-metric=overall] h3").inner_text() == "Overall NPS"
    assert tab.figures("#summary")["overall.nps"] == before

    tab.page.locator("#filters select[name=category]").select_option("beauty")
    tab.wait()
    assert tab.state()["category"] == "beauty"
    query = tab.query()
    assert query["category"] == "beauty"
    beauty = server.get("/v1/scores", **query)["groups"][0]
    shown = tab.figures("#summary")
    for metric in METRICS:
        assert_metric(shown, metric, _pick(beauty, metric))
    assert shown["overall.nps"] != before

    first = tab.page.locator("#merchants tr[data-merchant]").first
    merchant = first.get_attribute("data-merchant")
    first.get_by_role("button").click()
    tab.wait()
    assert tab.state()["card"] == merchant
    card = tab.page.locator("#scorecard")
    assert card.is_visible()
    state = tab.state()
    expected = server.get(
        f"/v1/merchants/{merchant}/scorecard",
        category="beauty",
        rank_by="-ci_low",
        tz=query["tz"],
        min_n=query["min_n"],
        end=query["to"],
        window_days=_days(state["from"], state["to"]),
    )
    figures = tab.figures("#scorecard")
    assert float(figures["scorecard.rank.position"][0]) == expected["rank"]["position"] == 1
    assert float(figures["scorecard.rank.percentile"][0]) == expected["rank"]["percentile"]
    assert_metric(figures, "overall", expected["overall"])
    for metric in METRICS:
        change = _pick(expected["change"], metric)
        assert _number(figures[f"scorecard.change.{metric}.delta"][0]) == change["delta"]
    assert "Rank 1 of" in card.inner_text()
    tab.assert_clean(server)

    # The link carries the view but not the key: a new tab asks for it, then shows the view.
    url = tab.page.url
    assert server.read_key not in url
    other = new_tab(browser)
    other.page.goto(url)
    assert other.page.locator("#key").is_visible()
    other.page.locator("#key").fill(server.read_key)
    other.page.locator("#login button[type=submit]").click()
    other.wait()
    assert other.figures("#summary")["overall.nps"] == shown["overall.nps"]
    assert other.page.locator("#scorecard").is_visible()
    other.assert_clean(server)
    other.page.context.close()


def test_small_samples_are_shown_as_such(server: Server, tab: Tab) -> None:
    tab.sign_in(server)
    query = tab.query()
    smallest = server.get(
        "/v1/scores", **{**query, "min_n": "1"}, group_by="merchant_id", sort="n", limit=1
    )
    merchant = smallest["groups"][0]["key"]["merchant_id"]
    assert smallest["groups"][0]["overall"]["n"] < 30
    tab.page.locator("#filters input[name=merchant_id]").fill(merchant)
    tab.page.locator("#filters input[name=merchant_id]").press("Enter")
    tab.wait()
    assert tab.state()["merchant_id"] == merchant
    overall = tab.page.locator("#summary [data-metric=overall]")
    assert overall.locator("[data-figure='overall.nps']").inner_text() == "—"
    assert overall.locator("[data-suppressed]").is_visible()
    assert "少于 30 个回答" in overall.inner_text()
    tab.assert_clean(server)


def test_the_dashboard_loads_in_under_a_second(server: Server, tab: Tab) -> None:
    tab.sign_in(server)
    times = []
    for _ in range(3):
        tab.page.reload()
        tab.wait()
        rendered = tab.page.evaluate(
            "() => performance.getEntriesByName('nps:rendered')[0].startTime"
        )
        times.append(rendered)
    median = statistics.median(times)
    print(f"dashboard rendered {median:.0f} ms after navigation start ({server.backend}): {times}")
    assert median < 1000, times
    tab.assert_clean(server)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_screenshots_and_phone_width(server: Server, browser: Any, lang: str, device: str) -> None:
    phone = device == "phone"
    options: dict[str, Any] = {"viewport": PHONE if phone else DESKTOP}
    if phone:
        options |= {"device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    tab = new_tab(browser, **options)
    fragment = "#lang=en" if lang == "en" else ""
    tab.sign_in(server, fragment)
    tab.page.locator("#merchants tr[data-merchant] button").first.click()
    tab.wait()
    width = (PHONE if phone else DESKTOP)["width"]
    assert tab.page.evaluate("() => document.documentElement.scrollWidth") <= width
    if server.backend == "sqlite":  # once is enough
        SCREENSHOTS.mkdir(exist_ok=True)
        name = f"dashboard-{lang.split('-')[0]}-{device}.png"
        tab.page.screenshot(path=SCREENSHOTS / name, full_page=True)
    tab.assert_clean(server)
    tab.page.context.close()
