"""What the browser tests share: a tab that records everything, and reading figures."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.dashboard.conftest import Server

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
METRICS = ("overall", "logistics", "product", "service", "app")
READY = "body[data-state=ready]"
# Every figure in a part of the page: its name and the raw API value it shows.
FIGURES = """(root) => Object.fromEntries([...document.querySelectorAll(root + ' [data-figure]')]
  .map((element) => [element.dataset.figure, [element.dataset.value, element.textContent]]))"""


@dataclass
class Tab:
    page: Any
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def sign_in(self, server: Server, fragment: str = "") -> None:
        self.page.goto(f"{server.base}/dashboard{fragment}")
        self.page.locator("#key").fill(server.read_key)
        self.page.locator("#login button[type=submit]").click()
        self.wait()

    def wait(self) -> None:
        self.page.wait_for_selector(READY, state="attached", timeout=20_000)

    def figures(self, root: str) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = self.page.evaluate(FIGURES, root)
        return found

    def state(self) -> dict[str, str]:
        return dict(parse_qsl(self.page.evaluate("() => location.hash").lstrip("#")))

    def query(self) -> dict[str, str]:
        """The API parameters of the view: its `to` date is inclusive, the API's exclusive."""
        state = self.state()
        last = date.fromisoformat(state["to"]) + timedelta(days=1)
        query = {"from": state["from"], "to": last.isoformat(), "tz": state["tz"]}
        query["min_n"] = state.get("min_n", "30")
        for tag in ("merchant_id", "category", "channel", "region", "platform", "touchpoint"):
            if state.get(tag):
                query[tag] = state[tag]
        return query

    def assert_clean(self, server: Server) -> None:
        """Only the service was contacted, the key is in no URL, no console error."""
        # A blob: URL (ReDoc's search worker) belongs to the origin that made it.
        urls = (url.removeprefix("blob:") for url in self.requests)
        origins = {f"{u.scheme}://{u.netloc}" for u in map(urlsplit, urls) if u.scheme != "data"}
        assert origins == {server.base}, origins
        assert not [url for url in self.requests if server.read_key in url]
        noisy = [(kind, text) for kind, text in self.console if kind in ("error", "warning")]
        assert not noisy, noisy
        assert not self.errors, self.errors


def new_tab(browser: Any, **options: Any) -> Tab:
    context = browser.new_context(reduced_motion="reduce", **{"viewport": DESKTOP, **options})
    page = context.new_page()
    tab = Tab(page)
    page.on("request", lambda request: tab.requests.append(request.url))
    page.on("console", lambda message: tab.console.append((message.type, message.text)))
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    return tab


def assert_metric(shown: dict[str, tuple[str, str]], name: str, metric: dict[str, Any]) -> None:
    """A metric's figures equal the API's, and its text is the API value rounded once."""
    for part in ("nps", "ci_low", "ci_high", "n"):
        value, text = shown[f"{name}.{part}"]
        expected = metric[part]
        if expected is None:
            assert value == "", (name, part, value)
            assert text in ("—", ""), (name, part, text)
        else:
            assert float(value) == expected, (name, part, value, expected)
    if metric["nps"] is not None:
        assert shown[f"{name}.nps"][1].replace("−", "-") == f"{metric['nps']:.1f}"
