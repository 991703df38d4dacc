"""FastAPI dependencies that enforce API-key scopes."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nps_service.errors import Forbidden, Unauthorized
from nps_service.keys.service import Principal, Scope, authenticate
from nps_service.web.session import SessionDep

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer nps_...`")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="nps-service"'}


def require_scope(scope: Scope) -> Callable[..., Principal]:
    """A dependency that admits keys holding `scope` (or `admin`)."""

    def dependency(
        session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized(
                "send an API key as 'Authorization: Bearer <key>'", headers=_CHALLENGE
            )
        principal = authenticate(session, credentials.credentials)
        # End the lookup's transaction and give its connection back at once: a request that
        # streams or waits must not hold a connection for a key it already checked (and on
        # SQLite a transaction that read first and then writes fails with "database is
        # locked" instead of waiting its turn).
        session.rollback()
        if principal is None:
            raise Unauthorized("unknown or revoked API key", headers=_CHALLENGE)
        if not principal.allows(scope):
            raise Forbidden(f"this key lacks the '{scope.value}' scope")
        return principal

    return dependency


IngestKey = Annotated[Principal, Depends(require_scope(Scope.INGEST))]
ReadKey = Annotated[Principal, Depends(require_scope(Scope.READ))]
AdminKey = Annotated[Principal, Depends(require_scope(Scope.ADMIN))]
