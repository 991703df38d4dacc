"""FastAPI dependencies that enforce API-key scopes."""

import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from nps_service.errors import Forbidden, Unauthorized
from nps_service.filters import MERCHANT_LIMIT
from nps_service.keys.service import Principal, Scope, authenticate, hash_key
from nps_service.web.openapi import operation_id
from nps_service.web.session import SessionDep

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer nps_...`")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="nps-service"'}


# What a merchant-limited key may call: reads of answers and scores, which the data layer
# limits to its merchants (filters.limited_to_merchants), and its merchants' scorecards.
# Everything else, including any route added later, is 403 for such a key.
MERCHANT_OPERATIONS = frozenset(
    {
        "scores_get",
        "scores_trend",
        "scores_compare",
        "scores_get_csv",
        "scores_trend_csv",
        "scores_compare_csv",
        "drivers_get",
        "drivers_get_csv",
        "responses_list",
        "responses_get",
        "responses_export",
        "merchants_scorecard",
    }
)


def _operation(request: Request) -> str | None:
    route = request.scope.get("route")
    return operation_id(route) if isinstance(route, APIRoute) and route.tags else None


def require_scope(scope: Scope) -> Callable[..., Principal]:
    """A dependency that admits keys holding `scope` (or `admin`); a merchant-limited key
    only on MERCHANT_OPERATIONS, with its limit put on the request's session."""

    def dependency(
        request: Request,
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
        request.state.key_id = principal.key_id  # for the access log
        if principal.merchants is not None:
            if _operation(request) not in MERCHANT_OPERATIONS:
                raise Forbidden("this key is limited to merchants and may not use this operation")
            session.info[MERCHANT_LIMIT] = principal.merchants
        return principal

    return dependency


class KnownKeys:
    """Keys found valid in the last `seconds`, by hash, for routes that check the key again
    where it matters: the single-answer route's writer verifies it in the transaction that
    stores the answer, so a revoked key stores nothing, while the request skips a database
    round trip of its own (a third of its time here)."""

    def __init__(self, seconds: float = 60.0) -> None:
        self._seconds = seconds
        self._known: dict[str, tuple[Principal, float]] = {}

    def get(self, key_hash: str) -> Principal | None:
        found = self._known.get(key_hash)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def put(self, key_hash: str, principal: Principal) -> None:
        if len(self._known) > 10_000:  # bounded: forget everything rather than grow
            self._known.clear()
        self._known[key_hash] = (principal, time.monotonic() + self._seconds)


async def ingest_key_checked_on_write(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The `ingest` key of a request whose write verifies the key again (see KnownKeys)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", headers=_CHALLENGE)
    known: KnownKeys = request.app.state.known_keys
    key_hash = hash_key(credentials.credentials)
    principal = known.get(key_hash)
    if principal is None:
        principal = await run_in_threadpool(_look_up, request, credentials.credentials)
        if principal is None:
            raise Unauthorized("unknown or revoked API key", headers=_CHALLENGE)
        known.put(key_hash, principal)
    if not principal.allows(Scope.INGEST):
        raise Forbidden(f"this key lacks the '{Scope.INGEST.value}' scope")
    request.state.key_id = principal.key_id  # for the access log
    return principal


def _look_up(request: Request, plaintext: str) -> Principal | None:
    with request.app.state.session_factory() as session:
        return authenticate(session, plaintext)


IngestKey = Annotated[Principal, Depends(require_scope(Scope.INGEST))]
# For the single-answer route only: its writer re-checks the key when it stores the answer.
IngestKeyCheckedOnWrite = Annotated[Principal, Depends(ingest_key_checked_on_write)]
ReadKey = Annotated[Principal, Depends(require_scope(Scope.READ))]
AdminKey = Annotated[Principal, Depends(require_scope(Scope.ADMIN))]
