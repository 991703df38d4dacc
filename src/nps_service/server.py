"""Run uvicorn for the app, in a process that has imported nothing else.

`nps-service serve` migrates the database and then replaces itself with this module
(`os.execv`): the CLI's imports (Alembic, the importer, Typer) would otherwise stay resident
in uvicorn's supervisor for the server's whole life, and with `--workers N` that process
serves no request at all.
"""

import argparse

import uvicorn

from nps_service.config import get_settings
from nps_service.logs import log_config
from nps_service.web.http_protocol import BoundedHeadersProtocol


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m nps_service.server")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--log-level", required=True)
    args = parser.parse_args()
    settings = get_settings()
    uvicorn.run(
        "nps_service.main:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        log_config=log_config(args.log_level),
        # Requests are logged by the app (nps_service.logs.AccessLogMiddleware): route
        # templates, never paths with ids or query strings with people in them.
        access_log=False,
        # X-Forwarded-For and -Proto are believed only from NPS_TRUSTED_PROXIES (uvicorn
        # would trust 127.0.0.1 by default, so any local process could pose as anyone).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or [],
        server_header=False,
        http=BoundedHeadersProtocol,
        # SIGTERM: requests in flight (a slow client reading an export) get this long.
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )


if __name__ == "__main__":
    main()
