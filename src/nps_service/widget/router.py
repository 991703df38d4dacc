"""`GET /widget/nps-survey.js`: the survey widget, public and cacheable.

The script holds no secret (the page supplies an ingest key), so it needs no API key. It
is read and hashed once, at import: the strong ETag lets browsers and CDNs revalidate
cheaply after the hour of `Cache-Control`, and a new release changes the tag.
"""

import hashlib
from importlib.resources import files

from fastapi import APIRouter, Request, Response

SCRIPT_MEDIA_TYPE = "text/javascript; charset=utf-8"
SCRIPT: bytes = files("nps_service.widget").joinpath("static/nps-survey.js").read_bytes()
ETAG = f'"{hashlib.sha256(SCRIPT).hexdigest()}"'
HEADERS = {
    "Cache-Control": "public, max-age=3600",
    "ETag": ETAG,
    # A module script is fetched in CORS mode: any page may load it (the API calls it then
    # makes are still limited to NPS_CORS_ORIGINS). An allowed origin is echoed instead.
    "Access-Control-Allow-Origin": "*",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(tags=["widget"])


def _matches(if_none_match: str | None) -> bool:
    """RFC 9110 If-None-Match: `*` or a list of tags, compared weakly (W/ ignored)."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or ETAG in tags


@router.get(
    "/widget/nps-survey.js",
    name="script",
    summary="The <nps-survey> web component (ES module)",
    description=(
        'Load it as an ES module (a script element with `type="module"` and this URL as '
        "`src`); the README shows the markup. No API key. "
        "Cached for an hour; revalidate with `If-None-Match` against the strong `ETag`."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "The module",
            "content": {"text/javascript": {"schema": {"type": "string"}}},
        },
        304: {"description": "Not modified: the `If-None-Match` tag is current"},
    },
)
def script(request: Request) -> Response:
    if _matches(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=HEADERS)
    return Response(SCRIPT, media_type=SCRIPT_MEDIA_TYPE, headers=HEADERS)
