"""`GET /dashboard` and its files; with them, the offline API docs (`docs.py`).

The page needs no key to load: it holds no data and no secret. The person pastes a
`read` key into it, the page keeps the key in `sessionStorage` and sends it as a bearer
token to the same `/v1` API every client uses; it never travels in a URL, so no log
line, history entry or shared link can carry it. Every file comes from this package
(`static/`): no CDN, no font service, no request to any other host, which the page's
Content-Security-Policy also enforces in the browser (no inline script or style either).
"""

from fastapi import APIRouter, HTTPException, Request, Response

from nps_service.dashboard import docs
from nps_service.dashboard.assets import asset, respond

# What the page may do: its own files and the API on the same origin, nothing else.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

router = APIRouter(tags=["dashboard"], include_in_schema=False)
router.include_router(docs.router)


@router.get("/dashboard")
def dashboard(request: Request) -> Response:
    page = asset("index.html")
    assert page is not None, "the package ships static/index.html"
    return respond(request, page, PAGE_HEADERS)


@router.get("/dashboard/assets/{name:path}")
def dashboard_asset(name: str, request: Request) -> Response:
    """A file of `static/` (the page's modules and styles, vendored libraries, licences)."""
    found = asset(name) if name != "index.html" else None
    if found is None:
        raise HTTPException(status_code=404, detail=f"No file {name!r} in the dashboard.")
    return respond(request, found)
