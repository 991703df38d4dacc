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
    uvicorn.run(
        "nps_service.main:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        log_config=log_config(args.log_level),
        proxy_headers=True,
        server_header=False,
        http=BoundedHeadersProtocol,
        # SIGTERM: requests in flight (a slow client reading an export) get this long.
        timeout_graceful_shutdown=get_settings().shutdown_timeout_seconds,
    )


if __name__ == "__main__":
    main()
