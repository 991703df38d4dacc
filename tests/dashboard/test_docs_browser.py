"""`/docs` and `/redoc` render every operation with no request beyond the service."""

from typing import Any

import httpx
import pytest

from tests.dashboard.browser import new_tab
from tests.dashboard.conftest import Server

pytestmark = pytest.mark.slow
METHODS = {"get", "post", "put", "patch", "delete"}
# Distinct operations rendered: Swagger UI has one `.opblock` each; ReDoc has sections
# `tag/<tag>/operation/<operationId>` (and anchors inside them), counted once per id.
COUNT = """([selector, atLeast]) => new Set([...document.querySelectorAll(selector)]
  .map((element) => element.dataset.sectionId
    ? element.dataset.sectionId.split("operation/")[1] : element.id)).size >= atLeast"""


def _operations(server: Server) -> int:
    document = httpx.get(f"{server.base}/openapi.json", timeout=10).json()
    return sum(1 for path in document["paths"].values() for method in path if method in METHODS)


@pytest.mark.parametrize(
    ("path", "selector"),
    [("/docs", "#swagger-ui .opblock"), ("/redoc", "[data-section-id*='operation/']")],
)
def test_docs_render_every_operation_offline(
    server: Server, browser: Any, path: str, selector: str
) -> None:
    expected = _operations(server)
    assert expected > 30
    tab = new_tab(browser)
    tab.page.goto(f"{server.base}{path}")
    tab.page.wait_for_selector(selector, state="attached", timeout=30_000)
    tab.page.wait_for_function(COUNT, arg=[selector, expected], timeout=30_000)
    assert not tab.page.evaluate(COUNT, [selector, expected + 1])  # exactly every operation
    tab.page.wait_for_timeout(500)  # late requests (fonts, workers, images) would show now
    tab.assert_clean(server)
    tab.page.context.close()
