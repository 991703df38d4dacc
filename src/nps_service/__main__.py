"""`python -m nps_service` is the same as the `nps-service` command."""

from nps_service.cli import app

app()
