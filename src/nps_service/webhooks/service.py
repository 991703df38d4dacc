"""Managing endpoints and reading their delivery logs."""

import base64
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from nps_service.db import begin_writing
from nps_service.errors import FieldError, InvalidInput, NotFound
from nps_service.web.pages import decode_position, decode_uuid_position, encode_position
from nps_service.webhooks.models import Delivery, WebhookEndpoint
from nps_service.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
)
from nps_service.webhooks.targets import TargetRefused, check_target


def _new_secret() -> str:
    """`whsec_` and 32 random bytes in base64, the Standard Webhooks secret format."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _checked_url(url: str, allow_private: bool) -> str:
    try:
        check_target(url, allow_private)
    except TargetRefused as exc:
        raise InvalidInput(
            f"url {exc}", errors=[FieldError(pointer="/url", detail=str(exc))]
        ) from exc
    return url


def endpoint_out(endpoint: WebhookEndpoint) -> WebhookOut:
    return WebhookOut.model_validate(endpoint, from_attributes=True)


def create_endpoint(session: Session, payload: WebhookIn, allow_private: bool) -> WebhookCreated:
    now = datetime.now(UTC)
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        url=_checked_url(payload.url, allow_private),
        events=list(payload.events),
        filters={tag: list(dict.fromkeys(values)) for tag, values in payload.filters.items()},
        description=payload.description,
        enabled=True,
        disabled_reason=None,
        secret=_new_secret(),
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.commit()
    return WebhookCreated(**endpoint_out(endpoint).model_dump(), secret=endpoint.secret)


def get_endpoint(session: Session, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook with id {endpoint_id}")
    return endpoint


def list_endpoints(session: Session, limit: int, cursor: str | None) -> WebhookPage:
    """Oldest first, keyset-paginated on (created_at, id)."""
    statement = select(WebhookEndpoint)
    if cursor:
        after, after_id = decode_uuid_position(cursor)
        statement = statement.where(
            or_(
                WebhookEndpoint.created_at > after,
                and_(WebhookEndpoint.created_at == after, WebhookEndpoint.id > after_id),
            )
        )
    statement = statement.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    rows = list(session.scalars(statement.limit(limit + 1)))
    page = rows[:limit]
    more = len(rows) > limit
    next_cursor = encode_position(page[-1].created_at, str(page[-1].id)) if more else None
    return WebhookPage(items=[endpoint_out(row) for row in page], next_cursor=next_cursor)


def update_endpoint(
    session: Session, endpoint_id: uuid.UUID, patch: WebhookPatch, allow_private: bool
) -> WebhookOut:
    # A read then a write: on SQLite, take the write lock first (a deferred transaction's
    # upgrade fails at once with "database is locked" while the dispatcher writes).
    begin_writing(session)
    endpoint = get_endpoint(session, endpoint_id)
    given = patch.model_dump(exclude_unset=True)
    if given.get("url") is not None:
        endpoint.url = _checked_url(given["url"], allow_private)
    if given.get("events") is not None:
        endpoint.events = list(given["events"])
    if given.get("filters") is not None:
        endpoint.filters = {tag: list(dict.fromkeys(v)) for tag, v in given["filters"].items()}
    if "description" in given:
        endpoint.description = given["description"]
    if given.get("enabled") is not None:
        endpoint.enabled = given["enabled"]
        if endpoint.enabled:
            endpoint.disabled_reason = None
    endpoint.updated_at = datetime.now(UTC)
    session.commit()
    return endpoint_out(endpoint)


def delete_endpoint(session: Session, endpoint_id: uuid.UUID) -> None:
    """The endpoint and its delivery log."""
    begin_writing(session)
    get_endpoint(session, endpoint_id)
    session.execute(delete(Delivery).where(Delivery.endpoint_id == endpoint_id))
    session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
    session.commit()


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut.model_validate(delivery, from_attributes=True)


def list_deliveries(
    session: Session, endpoint_id: uuid.UUID, limit: int, cursor: str | None
) -> DeliveryPage:
    """Newest first, keyset-paginated on (created_at, id)."""
    get_endpoint(session, endpoint_id)
    statement = select(Delivery).where(Delivery.endpoint_id == endpoint_id)
    if cursor:
        before, key = decode_position(cursor)
        statement = statement.where(
            or_(
                Delivery.created_at < before,
                and_(Delivery.created_at == before, Delivery.id < key),
            )
        )
    statement = statement.order_by(Delivery.created_at.desc(), Delivery.id.desc())
    rows = list(session.scalars(statement.limit(limit + 1)))
    page = rows[:limit]
    more = len(rows) > limit
    next_cursor = encode_position(page[-1].created_at, page[-1].id) if more else None
    return DeliveryPage(items=[delivery_out(row) for row in page], next_cursor=next_cursor)


def retry_delivery(session: Session, endpoint_id: uuid.UUID, delivery_id: str) -> DeliveryOut:
    """Send again as soon as possible, with the same webhook-id (any status); the retry
    schedule starts over."""
    begin_writing(session)
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound(f"no delivery {delivery_id} of webhook {endpoint_id}")
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = datetime.now(UTC)
    delivery.leased_until = None
    session.commit()
    return delivery_out(delivery)
