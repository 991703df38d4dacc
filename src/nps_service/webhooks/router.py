"""HTTP routes: webhook endpoints and their delivery logs (scope admin)."""

import uuid

from fastapi import APIRouter, Depends
from fastapi import Response as HttpResponse
from starlette.concurrency import run_in_threadpool

from nps_service.keys.dependencies import AdminKey
from nps_service.web.body_limit import require_json
from nps_service.web.openapi import problems
from nps_service.web.pages import PageCursor, PageLimit
from nps_service.web.session import SessionDep, SettingsDep
from nps_service.webhooks import service
from nps_service.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
JSON_BODY = [Depends(require_json)]


@router.post(
    "",
    name="create",
    status_code=201,
    dependencies=JSON_BODY,
    summary="Add an endpoint; its signing secret is shown only in this response",
    responses=problems(400, 401, 403, 413, 415, 422),
)
async def create(
    payload: WebhookIn, session: SessionDep, settings: SettingsDep, _key: AdminKey
) -> WebhookCreated:
    """The URL must resolve to public addresses (unless NPS_WEBHOOK_ALLOW_PRIVATE)."""
    return await run_in_threadpool(
        service.create_endpoint, session, payload, settings.webhook_allow_private
    )


@router.get("", name="list", summary="Endpoints, oldest first", responses=problems(401, 403, 422))
def list_all(
    session: SessionDep, _key: AdminKey, limit: PageLimit = 100, cursor: PageCursor = None
) -> WebhookPage:
    """Every webhook endpoint with its event filters and state; the signing secret is never shown
    again after creation."""
    return service.list_endpoints(session, limit, cursor)


@router.get(
    "/{webhook_id}", name="get", summary="One endpoint", responses=problems(401, 403, 404, 422)
)
def read(webhook_id: uuid.UUID, session: SessionDep, _key: AdminKey) -> WebhookOut:
    """The endpoint with this id, its filters and whether it is enabled (an endpoint answering 410
    is disabled)."""
    return service.endpoint_out(service.get_endpoint(session, webhook_id))


@router.patch(
    "/{webhook_id}",
    name="update",
    dependencies=JSON_BODY,
    summary="Change an endpoint, enable or disable it",
    responses=problems(400, 401, 403, 404, 413, 415, 422),
)
async def patch(
    webhook_id: uuid.UUID,
    payload: WebhookPatch,
    session: SessionDep,
    settings: SettingsDep,
    _key: AdminKey,
) -> WebhookOut:
    """Only the fields given change. `enabled: true` clears the reason it was disabled; a new `url`
    is checked against private addresses as at creation."""
    return await run_in_threadpool(
        service.update_endpoint, session, webhook_id, payload, settings.webhook_allow_private
    )


@router.delete(
    "/{webhook_id}",
    name="delete",
    status_code=204,
    summary="Remove an endpoint and its delivery log",
    responses=problems(401, 403, 404, 422),
)
def remove(webhook_id: uuid.UUID, session: SessionDep, _key: AdminKey) -> HttpResponse:
    """Deletes the endpoint and its whole delivery log, pending deliveries included; what was
    already sent stays sent."""
    service.delete_endpoint(session, webhook_id)
    return HttpResponse(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    name="deliveries",
    summary="The endpoint's deliveries, newest first",
    responses=problems(401, 403, 404, 422),
)
def deliveries(
    webhook_id: uuid.UUID,
    session: SessionDep,
    _key: AdminKey,
    limit: PageLimit = 100,
    cursor: PageCursor = None,
) -> DeliveryPage:
    """Each delivery's event, `status` (`pending`, `succeeded`, `failed`), attempts, last HTTP
    status and next attempt, paged with `cursor`."""
    return service.list_deliveries(session, webhook_id, limit, cursor)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    name="retryDelivery",
    summary="Send a delivery again now, with the same webhook-id",
    responses=problems(401, 403, 404, 422),
)
def retry(
    webhook_id: uuid.UUID, delivery_id: str, session: SessionDep, _key: AdminKey
) -> DeliveryOut:
    """Queues the delivery, whatever its status, for an immediate attempt with its retry schedule
    started over. It keeps its `webhook-id`, so a receiver can drop a duplicate."""
    return service.retry_delivery(session, webhook_id, delivery_id)
