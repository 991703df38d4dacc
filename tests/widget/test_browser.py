"""`<nps-survey>` in Chromium, on a shop page of another origin, against the real service.

Each scenario checks what the service stored, not only what the page showed, and that
the page talked to no one but the two test origins and logged no error.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from tests.widget.conftest import Service, free_port

# Real server processes and a real browser.
pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
QUESTION = {
    "en": "How likely are you to recommend us to a friend?",
    "zh-CN": "您有多大可能向朋友推荐我们？",
}
# The element focused inside the widget's shadow root (or on the page).
FOCUSED = """() => {
  const outer = document.activeElement;
  const inner = outer && outer.shadowRoot ? outer.shadowRoot.activeElement : outer;
  return inner && {role: inner.getAttribute("role"), text: inner.textContent.trim(),
                   checked: inner.getAttribute("aria-checked")};
}"""
PROMPT_SHOWN = "() => !!document.querySelector('nps-survey').shadowRoot.querySelector('.card')"


@dataclass
class Tab:
    """A page and everything it did: requests, console messages, uncaught errors."""

    page: Any
    requests: list[str] = field(default_factory=list)
    replies: list[tuple[int, str, str]] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, service: Service, endpoint: str | None = None, **attributes: str) -> None:
        query = {
            "module": f"{service.base}/widget/nps-survey.js",
            "endpoint": endpoint or service.base,
            "key": service.ingest_key,
            "touchpoint": "post_delivery",
            **{name.replace("_", "-"): value for name, value in attributes.items()},
        }
        self.page.goto(f"{service.shop}/survey?{urlencode(query)}")

    def event(self, kind: str, count: int = 1) -> dict[str, Any]:
        """The detail of the `count`-th `nps-survey:<kind>` event, waiting for it."""
        condition = f"window.surveyEvents.filter(e => e.type === '{kind}').length >= {count}"
        self.page.wait_for_function(condition, timeout=15_000)
        events = self.page.evaluate("window.surveyEvents")
        detail: dict[str, Any] = [e["detail"] for e in events if e["type"] == kind][count - 1]
        return detail

    def kinds(self) -> list[str]:
        return [event["type"] for event in self.page.evaluate("window.surveyEvents")]

    def prompt_shown(self) -> bool:
        return bool(self.page.evaluate(PROMPT_SHOWN))

    def tab_to(self, role: str | None = None, text: str | None = None) -> dict[str, Any]:
        for _ in range(20):
            self.page.keyboard.press("Tab")
            focused: dict[str, Any] = self.page.evaluate(FOCUSED) or {}
            if (role is None or focused.get("role") == role) and (
                text is None or focused.get("text") == text
            ):
                return focused
        pytest.fail(f"Tab never reached {role or ''} {text or ''}")

    def assert_clean(self, service: Service, *also: str, refused: bool = False) -> None:
        """Only the service and the shop were contacted; no console error or warning.

        With `refused`, Chromium's own log line for a refused or reset connection is
        expected: the browser writes it for every failed fetch, and no script can stop it.
        """
        allowed = {service.base, service.shop, *also}
        origins = {
            f"{u.scheme}://{u.netloc}" for u in map(urlsplit, self.requests) if u.scheme != "data"
        }
        assert origins <= allowed, origins - allowed
        noisy = [
            (kind, text)
            for kind, text in self.console
            if kind in ("error", "warning")
            and not (refused and text.startswith("Failed to load resource: net::ERR_CONNECTION_"))
        ]
        assert not noisy, (noisy, self.replies)
        assert not self.errors, self.errors


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    context = browser.new_context(viewport=DESKTOP, reduced_motion="reduce")
    page = context.new_page()
    recorded = Tab(page)
    page.on("request", lambda request: recorded.requests.append(request.url))
    page.on(
        "response",
        lambda reply: recorded.replies.append((reply.status, reply.request.method, reply.url)),
    )
    page.on("console", lambda message: recorded.console.append((message.type, message.text)))
    page.on("pageerror", lambda error: recorded.errors.append(str(error)))
    yield recorded
    context.close()


def _get(service: Service, path: str) -> dict[str, Any]:
    reply = httpx.get(f"{service.base}{path}", headers=service.read, timeout=10)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_a_keyboard_answer_is_stored_with_its_display_and_not_asked_again(
    service: Service, tab: Tab
) -> None:
    tab.open(
        service,
        respondent_id="u_keyboard",
        merchant_id="m_42",
        category="beauty",
        channel="live_stream",
        order_id="o_9",
        dimensions="logistics product",
        lang="en",
    )
    shown = tab.event("shown")
    widget = tab.page.locator("nps-survey")
    group = widget.get_by_role("radiogroup", name=QUESTION["en"])
    assert [r.inner_text() for r in group.get_by_role("radio").all()] == [str(n) for n in range(11)]
    assert widget.get_by_role("button", name="Submit").is_disabled()

    # Keyboard only: into the group (one tab stop), arrows select, on to Submit.
    assert tab.tab_to(role="radio") == {"role": "radio", "text": "0", "checked": "false"}
    for _ in range(9):
        tab.page.keyboard.press("ArrowRight")
    assert tab.page.evaluate(FOCUSED) == {"role": "radio", "text": "9", "checked": "true"}
    assert tab.tab_to(role="radio")["text"] == "0"  # the logistics group: its own tab stop
    for key in ("End", "ArrowLeft", "ArrowRight", "ArrowRight"):  # 10, 9, 10, wraps to 0
        tab.page.keyboard.press(key)
    assert tab.page.evaluate(FOCUSED) == {"role": "radio", "text": "0", "checked": "true"}
    tab.tab_to(text="Submit")
    tab.page.keyboard.press("Enter")
    answered = tab.event("answered")
    assert answered["score"] == 9
    assert answered["display_id"] == shown["display_id"]
    assert widget.get_by_role("status").inner_text() == "Thank you for your feedback!"

    response = _get(service, f"/v1/responses/{answered['id']}")
    assert response["score"] == 9
    assert response["display_id"] == shown["display_id"]
    assert response["dimensions"]["logistics"] == 0
    assert response["dimensions"].get("product") is None
    assert response["respondent_id"] == "u_keyboard"
    assert response["context"]["merchant_id"] == "m_42"
    assert response["context"]["touchpoint"] == "post_delivery"
    display = _get(service, f"/v1/displays/{shown['display_id']}")
    assert display["response_id"] == answered["id"]
    assert display["declined_at"] is None
    assert (display["respondent_id"], display["touchpoint"]) == ("u_keyboard", "post_delivery")
    assert display["context"]["order_id"] == "o_9"
    tab.assert_clean(service)

    # (b) The same person, a new page load: not asked again.
    tab.page.reload()
    ineligible = tab.event("ineligible")
    assert ineligible["reason"] == "answered_recently"
    assert ineligible["next_eligible_at"]
    assert not tab.prompt_shown()
    assert tab.kinds() == ["ineligible"]
    tab.assert_clean(service)


@pytest.mark.parametrize("how", ["close button", "escape key"])
def test_closing_declines_and_the_next_visit_is_quiet(service: Service, tab: Tab, how: str) -> None:
    respondent = f"u_close_{how.split()[0]}"
    tab.open(service, respondent_id=respondent)  # zh-CN, the default
    shown = tab.event("shown")
    widget = tab.page.locator("nps-survey")
    assert widget.get_by_role("radiogroup", name=QUESTION["zh-CN"]).is_visible()
    if how == "close button":
        widget.get_by_role("button", name="关闭").click()
    else:
        tab.tab_to(role="radio")
        tab.page.keyboard.press("Escape")
    assert tab.event("declined") == {"display_id": shown["display_id"]}
    assert not tab.prompt_shown()
    deadline = time.monotonic() + 15  # the decline is recorded in the background
    while (display := _get(service, f"/v1/displays/{shown['display_id']}"))["declined_at"] is None:
        assert time.monotonic() < deadline, display
        time.sleep(0.1)
    assert display["response_id"] is None
    tab.assert_clean(service)

    tab.page.reload()
    assert tab.event("ineligible")["reason"] == "declined_recently"
    assert not tab.prompt_shown()
    tab.assert_clean(service)


def test_an_unreachable_service_shows_nothing_and_logs_no_error(service: Service, tab: Tab) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    tab.open(service, endpoint=closed, respondent_id="u_offline")
    assert tab.event("ineligible") == {"reason": "unavailable", "next_eligible_at": None}
    assert not tab.prompt_shown()
    assert tab.kinds() == ["ineligible"]
    tab.assert_clean(service, closed, refused=True)
    assert len(tab.console) <= 2, tab.console  # that line and the widget's console.debug


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_prompt_fits_and_is_photographed(
    service: Service, browser: Any, lang: str, device: str
) -> None:
    """Every option a tap target of 32 px or more, nothing wider than a 360 px phone."""
    phone = device == "phone"
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        reduced_motion="reduce",
    )
    tab = Tab(context.new_page())
    tab.page.on("console", lambda message: tab.console.append((message.type, message.text)))
    tab.open(
        service,
        respondent_id=f"u_photo_{lang}_{device}",
        dimensions="logistics product service app",
        lang=lang,
    )
    tab.event("shown")
    card = tab.page.locator("nps-survey .card")
    assert card.evaluate("element => getComputedStyle(element).animationName") == "none"
    tab.page.locator("nps-survey").get_by_role("radio", name="9", exact=True).first.click()
    if service.backend == "sqlite":  # once is enough
        box = card.bounding_box()
        margin = 16
        clip = {
            "x": max(0, box["x"] - margin),
            "y": max(0, box["y"] - margin),
            "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin,
        }
        SCREENSHOTS.mkdir(exist_ok=True)
        tab.page.screenshot(
            path=SCREENSHOTS / f"prompt-{lang.split('-')[0]}-{device}.png",
            clip=clip,
            full_page=True,
        )
    widths = [PHONE["width"], 360] if phone else [DESKTOP["width"]]
    for width in widths:
        tab.page.set_viewport_size({"width": width, "height": PHONE["height"]})
        assert tab.page.evaluate("document.documentElement.scrollWidth") <= width
        for radio in tab.page.locator("nps-survey").get_by_role("radio").all():
            box = radio.bounding_box()
            assert min(box["width"], box["height"]) >= 32, box
    assert not [c for c in tab.console if c[0] in ("error", "warning")]
    context.close()


def test_an_answer_lost_on_the_way_back_is_retried_with_its_id_and_counted_once(
    service: Service, tab: Tab
) -> None:
    """The first post reaches the service, but its reply is lost (the connection drops):
    the widget retries with the same response id, and the service counts it once."""
    lost: list[str] = []

    def drop_first_reply(route: Any) -> None:
        if route.request.method != "POST" or lost:
            route.continue_()
            return
        stored = route.fetch()
        lost.append(f"{stored.status} {route.request.post_data}")
        route.abort("connectionreset")

    tab.page.route(f"{service.base}/v1/responses", drop_first_reply)
    tab.open(service, respondent_id="u_retry", merchant_id="m_retry", lang="en")
    shown = tab.event("shown")
    widget = tab.page.locator("nps-survey")
    widget.get_by_role("radio", name="3", exact=True).click()
    widget.get_by_role("textbox").fill("  Parcel was late  ")
    widget.get_by_role("button", name="Submit").click()
    answered = tab.event("answered")
    assert len(lost) == 1
    assert lost[0].startswith("201 ")
    assert answered["id"] in lost[0]
    reply = httpx.get(
        f"{service.base}/v1/responses",
        params={"merchant_id": "m_retry"},
        headers=service.read,
        timeout=10,
    )
    (stored,) = reply.json()["items"]
    assert stored["id"] == answered["id"]
    assert stored["comment"] == "Parcel was late"
    assert stored["display_id"] == shown["display_id"]
    tab.assert_clean(service, refused=True)
