"""The dashboard's and the API docs' files, served from the package with validators.

Every file under `static/` is known at import (names only; bytes are read on first use),
so a request can only ever name one of them. Two caching rules:

- the page itself (`/dashboard`) is revalidated on each use (`no-cache` + a strong
  `ETag`: a 304 costs one round trip). It names the service's own modules under a
  folder named after a hash of all of them (`app-<hash>/main.js`), so that a release
  changes every module URL at once: those are cached for a year, and a browser never
  mixes old and new modules (relative imports stay inside the hashed folder). The plain
  `app/` names also work, revalidated like the page;
- vendored libraries live in folders named after their version (`vendor/chart.js-4.6.1/`),
  so a URL never changes meaning: cached for a year, `immutable`.

Text files are gzip-compressed once, in memory, and sent compressed to clients that
accept it (`Vary: Accept-Encoding`); the compressed variant has its own tag.
"""

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import Request, Response

STATIC = files("nps_service.dashboard").joinpath("static")
# The versions vendored (see static/vendor/README.md); the docs pages name their files.
SWAGGER_JS = "vendor/swagger-ui-dist-5.35.0/swagger-ui-bundle.js"
SWAGGER_CSS = "vendor/swagger-ui-dist-5.35.0/swagger-ui.css"
SWAGGER_FAVICON = "vendor/swagger-ui-dist-5.35.0/favicon-32x32.png"
REDOC_JS = "vendor/redoc-2.5.4/redoc.standalone.js"

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".md": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
COMPRESSIBLE = (".js", ".css", ".html", ".svg", ".md", ".txt")
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


def _walk(folder: Traversable, prefix: str = "") -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in folder.iterdir():
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            found |= _walk(entry, f"{name}/")
        elif entry.name.endswith(tuple(MEDIA_TYPES)) or entry.name in {"LICENSE", "NOTICE"}:
            found[name] = entry
    return found


FILES: dict[str, Traversable] = _walk(STATIC)
_OWN = sorted(name for name in FILES if name.startswith("app/"))
APP_VERSION = hashlib.sha256(
    b"".join(name.encode() + b"\0" + FILES[name].read_bytes() for name in _OWN)
).hexdigest()[:12]
APP = f"app-{APP_VERSION}/"


@dataclass(frozen=True)
class Asset:
    """One file's bytes, media type and validators, plain and gzip-compressed."""

    body: bytes
    media_type: str
    etag: str
    cache_control: str
    gzipped: bytes | None
    gzip_etag: str


@cache
def asset(name: str) -> Asset | None:
    """The file `static/<name>`, or None when the package has no such file."""
    versioned = name.startswith(APP)
    source = FILES.get("app/" + name.removeprefix(APP) if versioned else name)
    if source is None:
        return None
    body = source.read_bytes()
    if name == "index.html":
        body = _page(body.decode()).encode()
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name.rsplit("/", 1)[-1] else ""
    digest = hashlib.sha256(body).hexdigest()[:32]
    compress = suffix in COMPRESSIBLE and len(body) > 1024
    return Asset(
        body=body,
        media_type=MEDIA_TYPES.get(suffix, "text/plain; charset=utf-8"),
        etag=f'"{digest}"',
        cache_control=IMMUTABLE if name.startswith("vendor/") or versioned else REVALIDATE,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0) if compress else None,
        gzip_etag=f'"{digest}-gzip"',
    )


def _page(html: str) -> str:
    """The page names the hashed module folder, and preloads every module at once (a
    module graph otherwise costs one round trip per level of imports)."""
    preload = "\n".join(
        f'<link rel="modulepreload" href="dashboard/assets/{APP}{name.removeprefix("app/")}">'
        for name in _OWN
        if name.endswith(".js")
    )
    html = html.replace("<!-- modulepreload -->", preload)
    return html.replace("dashboard/assets/app/", f"dashboard/assets/{APP}")


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*` or a list of tags, compared weakly (W/ ignored)."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def respond(request: Request, item: Asset, extra: dict[str, str] | None = None) -> Response:
    """200 with the (compressed if accepted) bytes, or 304 when the client's tag is current."""
    use_gzip = item.gzipped is not None and _accepts_gzip(request)
    etag = item.gzip_etag if use_gzip else item.etag
    headers = {
        "Cache-Control": item.cache_control,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        **(extra or {}),
    }
    if item.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if use_gzip:
        assert item.gzipped is not None
        headers["Content-Encoding"] = "gzip"
        return Response(item.gzipped, media_type=item.media_type, headers=headers)
    return Response(item.body, media_type=item.media_type, headers=headers)
