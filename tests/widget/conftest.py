"""A real service, a shop page on another origin and Chromium, for the widget's browser tests.

One service process and one page server per module and database backend. The service
allows exactly the page's origin (NPS_CORS_ORIGINS), as a deployment would.
Without Chromium the browser tests skip, except under CI (NPS_TEST_DATABASE_URL set),
where they fail: a CI run that silently skipped them would prove nothing.
"""

import html
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy.engine import make_url

from nps_service.keys.service import Scope
from tests.conftest import BACKENDS
from tests.databases import empty_database, new_key
from tests.servers import free_port, served

EVENTS = ("shown", "answered", "declined", "ineligible")
# The host page records the widget's events (they bubble out of the shadow root).
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Order delivered</title>
<style>body {{ margin: 0; padding: 24px 12px; background: #f3f4f6; font-family: sans-serif; }}
</style>
<script>
window.surveyEvents = [];
for (const name of {events}) {{
  document.addEventListener("nps-survey:" + name,
    (event) => window.surveyEvents.push({{type: name, detail: event.detail}}));
}}
</script>
<script type="module" src="{module}"></script>
</head><body><h1>Your parcel has arrived</h1>
<nps-survey {attributes}></nps-survey>
</body></html>"""


class _ShopPage(BaseHTTPRequestHandler):
    """`/survey?module=<url>&<attribute>=<value>...`: a page with one `<nps-survey>`."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/survey":
            self.send_response(204)
            self.end_headers()
            return
        params = dict(parse_qsl(url.query))
        module = params.pop("module")
        attributes = " ".join(f'{name}="{html.escape(value)}"' for name, value in params.items())
        body = PAGE.format(
            events=list(EVENTS), module=html.escape(module), attributes=attributes
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Service:
    base: str  # the service's origin
    shop: str  # the page's origin
    ingest_key: str
    read: dict[str, str]
    admin: dict[str, str]
    backend: str
    log: Path


@pytest.fixture(scope="module", params=BACKENDS)
def widget_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of each backend for this module (`serve` migrates it)."""
    folder = tmp_path_factory.mktemp("widget")
    with empty_database(request.param, folder, "nps_widget") as url:
        yield url


@pytest.fixture(scope="module")
def service(widget_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """`nps-service serve` allowing the shop's origin, and the shop's page server."""
    shop = ThreadingHTTPServer(("127.0.0.1", free_port()), _ShopPage)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    shop_origin = f"http://127.0.0.1:{shop.server_address[1]}"
    folder = tmp_path_factory.mktemp("widget-server")
    try:
        with served(widget_database, folder, extra_env={"NPS_CORS_ORIGINS": shop_origin}) as server:
            base = server.base
            admin = {"Authorization": f"Bearer {new_key(widget_database, Scope.ADMIN)}"}
            # The documented defaults, stated: everyone sampled, a quiet period after each event.
            rules = {
                "after_response_days": 90,
                "after_decline_days": 30,
                "after_display_days": 7,
                "sample_rate": 1.0,
                "across_touchpoints": True,
            }
            reply = httpx.put(f"{base}/v1/contact-rules", json=rules, headers=admin, timeout=10)
            assert reply.status_code == 200, reply.text
            yield Service(
                base=base,
                shop=shop_origin,
                ingest_key=new_key(widget_database, Scope.INGEST),
                read={"Authorization": f"Bearer {new_key(widget_database, Scope.READ)}"},
                admin=admin,
                backend=make_url(widget_database).get_backend_name(),
                log=server.log_path,
            )
    finally:
        shop.shutdown()
        shop.server_close()
