"""`/docs` (Swagger UI) and `/redoc` (ReDoc) with their scripts served by the service itself.

FastAPI's defaults load both from a CDN and a favicon from fastapi.tiangolo.com, which a
deployment behind a firewall, or in mainland China, cannot reach: the pages are then
blank. These pages are FastAPI's own, pointed at the vendored copies (`static/vendor/`).

Their Content-Security-Policy makes "nothing leaves the origin" a rule the browser
enforces: connections, images and fonts go to the service only. Swagger UI's one inline
script is allowed by its hash; ReDoc injects its styles at run time (styled-components)
and builds its search worker from a `blob:` URL, which the policy allows and nothing else.
URLs are relative, so the pages also work behind a path prefix.
"""

import base64
import hashlib
import re

from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

from nps_service.dashboard.assets import (
    REDOC_JS,
    SWAGGER_CSS,
    SWAGGER_FAVICON,
    SWAGGER_JS,
    Asset,
    respond,
)

ASSETS = "dashboard/assets/"
TITLE = "nps-service API"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _policy(html: str) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ).replace("  ", " ")


def _page(response: Response) -> tuple[Asset, dict[str, str]]:
    body = bytes(response.body)
    html = body.decode()
    digest = hashlib.sha256(body).hexdigest()[:32]
    page = Asset(
        body=body,
        media_type="text/html; charset=utf-8",
        etag=f'"{digest}"',
        cache_control="no-cache",
        gzipped=None,
        gzip_etag=f'"{digest}"',
    )
    return page, {"Content-Security-Policy": _policy(html), "Referrer-Policy": "no-referrer"}


SWAGGER = _page(
    get_swagger_ui_html(
        openapi_url="openapi.json",
        title=f"{TITLE} - Swagger UI",
        swagger_js_url=ASSETS + SWAGGER_JS,
        swagger_css_url=ASSETS + SWAGGER_CSS,
        swagger_favicon_url=ASSETS + SWAGGER_FAVICON,
        # No validator badge (it would ask validator.swagger.io about the document).
        swagger_ui_parameters={"validatorUrl": None},
    )
)
REDOC = _page(
    get_redoc_html(
        openapi_url="openapi.json",
        title=f"{TITLE} - ReDoc",
        redoc_js_url=ASSETS + REDOC_JS,
        redoc_favicon_url=ASSETS + SWAGGER_FAVICON,
        with_google_fonts=False,
    )
)

router = APIRouter(tags=["dashboard"], include_in_schema=False)


@router.get("/docs")
def swagger_ui(request: Request) -> Response:
    return respond(request, *SWAGGER)


@router.get("/redoc")
def redoc(request: Request) -> Response:
    return respond(request, *REDOC)
