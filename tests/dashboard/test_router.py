"""`/dashboard`, its files and the offline `/docs` and `/redoc`: served from the package."""

import gzip
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from nps_service.dashboard.assets import FILES, STATIC

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
URL = re.compile(r"https?://[^\s\"'`)]+", re.IGNORECASE)
SOURCE_MAP = re.compile(r"^\s*(//|/\*)# sourceMappingURL=", re.MULTILINE)
COMMENT = re.compile(r"/\*.*?\*/|(?<![:\"'])//[^\n]*|<!--.*?-->", re.DOTALL)


class _References(HTMLParser):
    """Every src/href of the page, and whether it has an inline script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._tag = tag
        self.urls += [v for k, v in values.items() if k in ("src", "href") and v]
        if "style" in values or any(name.startswith("on") for name in values):
            self.inline.append(f"{tag} {values}")

    def handle_data(self, data: str) -> None:
        if self._tag in ("script", "style") and data.strip():
            self.inline.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._tag = ""


def test_the_page_loads_without_a_key_under_a_strict_policy(client: TestClient) -> None:
    reply = client.get("/dashboard")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.headers["content-security-policy"] == CSP
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert reply.headers["cache-control"] == "no-cache"
    page = _References()
    page.feed(reply.text)
    assert page.inline == []  # the policy would refuse them
    assert page.urls, "the page names its files"
    for url in page.urls:
        assert not url.startswith(("http:", "https:", "//")), url
        if url.startswith("data:"):
            continue
        assert url.startswith("dashboard/assets/"), url  # relative: works under a prefix
        asset = client.get(f"/{url}")
        assert asset.status_code == 200, url


def test_etag_revalidation_and_gzip(client: TestClient) -> None:
    first = client.get("/dashboard/assets/app/main.js", headers={"Accept-Encoding": "identity"})
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "content-encoding" not in first.headers
    assert first.headers["cache-control"] == "no-cache"
    etag = first.headers["etag"]
    again = client.get(
        "/dashboard/assets/app/main.js",
        headers={"If-None-Match": etag, "Accept-Encoding": "identity"},
    )
    assert again.status_code == 304
    assert again.content == b""

    vendored = "/dashboard/assets/vendor/chart.js-4.6.1/chart.umd.min.js"
    raw = client.get(vendored, headers={"Accept-Encoding": "identity"})
    packed = client.get(vendored, headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert packed.headers["etag"] != raw.headers["etag"]
    assert packed.content == raw.content  # the client decompressed it
    assert int(packed.headers["content-length"]) < len(raw.content) / 2
    assert gzip.decompress(gzip.compress(raw.content)) == raw.content
    assert (
        client.get(
            vendored, headers={"If-None-Match": packed.headers["etag"], "Accept-Encoding": "gzip"}
        ).status_code
        == 304
    )
    assert (
        client.get(
            "/dashboard", headers={"If-None-Match": client.get("/dashboard").headers["etag"]}
        ).status_code
        == 304
    )


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("app/dashboard.css", "text/css; charset=utf-8"),
        ("vendor/chart.js-4.6.1/LICENSE.md", "text/plain; charset=utf-8"),
        ("vendor/swagger-ui-dist-5.35.0/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("vendor/swagger-ui-dist-5.35.0/swagger-ui.css", "text/css; charset=utf-8"),
        ("vendor/swagger-ui-dist-5.35.0/favicon-32x32.png", "image/png"),
        ("vendor/swagger-ui-dist-5.35.0/LICENSE", "text/plain; charset=utf-8"),
        ("vendor/redoc-2.5.4/redoc.standalone.js", "text/javascript; charset=utf-8"),
        ("vendor/redoc-2.5.4/LICENSE", "text/plain; charset=utf-8"),
    ],
)
def test_vendored_files_and_their_licences(client: TestClient, path: str, media_type: str) -> None:
    reply = client.get(f"/dashboard/assets/{path}")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == media_type


@pytest.mark.parametrize(
    "path", ["nope.js", "../assets.py", "..%2Fassets.py", "app", "index.html", "vendor/"]
)
def test_only_the_packaged_files_are_served(client: TestClient, path: str) -> None:
    reply = client.get(f"/dashboard/assets/{path}")
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"


def test_own_files_name_no_other_host() -> None:
    """The page's own HTML, JS and CSS reference no URL outside comments (vendored
    libraries carry URLs in strings they never fetch; the browser tests watch those)."""
    own = [name for name in FILES if not name.startswith("vendor/")]
    assert "app/main.js" in own
    assert "index.html" in own
    for name in own:
        text = STATIC.joinpath(name).read_text(encoding="utf-8")
        assert URL.findall(COMMENT.sub("", text)) == [], name
    for name in (n for n in FILES if n.endswith((".js", ".css"))):
        text = STATIC.joinpath(name).read_text(encoding="utf-8")
        assert not SOURCE_MAP.search(text), name  # the maps are not shipped


def test_own_modules_stay_small() -> None:
    for name in (n for n in FILES if n.startswith("app/")):
        lines = STATIC.joinpath(name).read_text(encoding="utf-8").count("\n")
        assert lines < 300, (name, lines)


@pytest.mark.parametrize(
    ("path", "script"),
    [
        ("/docs", "swagger-ui-dist-5.35.0/swagger-ui-bundle.js"),
        ("/redoc", "redoc-2.5.4/redoc.standalone.js"),
    ],
)
def test_docs_pages_use_local_assets(client: TestClient, path: str, script: str) -> None:
    reply = client.get(path)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert f'src="dashboard/assets/vendor/{script}"' in reply.text
    page = _References()
    page.feed(reply.text)
    for url in page.urls:
        assert not url.startswith(("http:", "https:", "//")), url
        assert client.get(f"/{url}").status_code == 200, url
    assert "fonts.googleapis" not in reply.text
    assert "cdn." not in reply.text
    policy = reply.headers["content-security-policy"]
    assert "connect-src 'self'" in policy
    assert "default-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert client.get(path, headers={"If-None-Match": reply.headers["etag"]}).status_code == 304


def test_docs_and_dashboard_are_not_api_operations(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith(("/dashboard", "/docs", "/redoc"))]
