"""One database session per request, and the app's settings, as FastAPI dependencies."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from nps_service.config import Settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; services commit explicitly before answering.

    Async on purpose: creating a session does no I/O, so it needs no worker thread. Only
    ending a transaction that is still open (reads, errors) talks to the database, and
    that runs in a worker thread. Each thread hop costs more than a single-row insert.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
    except Exception:
        await run_in_threadpool(session.close)  # rolls back
        raise
    if session.in_transaction():
        await run_in_threadpool(session.close)
    else:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
