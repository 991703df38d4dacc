"""Drive every operation of openapi.yaml once through the client that openapi-python-client
generated from it (package `nps_service_client`).

    python drive.py BASE_URL ADMIN_KEY   (or NPS_BASE_URL and NPS_API_KEY in the environment)

Prints one line per call, `<operationId> <METHOD> <path> <status>`, and exits non-zero on
the first unexpected status or body. The webhook retry needs a delivery: the driver
receives webhooks itself on 127.0.0.1, so the server must allow private targets
(NPS_WEBHOOK_ALLOW_PRIVATE=true); without one it expects the documented 404.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, TypeVar

import httpx
from nps_service_client import AuthenticatedClient
from nps_service_client.api.alerts import (
    alerts_create,
    alerts_delete,
    alerts_evaluate,
    alerts_events,
    alerts_get,
    alerts_list,
    alerts_update,
)
from nps_service_client.api.audit import audit_list
from nps_service_client.api.contact_rules import contact_rules_get, contact_rules_put
from nps_service_client.api.displays import displays_create, displays_decline, displays_get
from nps_service_client.api.drivers import drivers_get, drivers_get_csv
from nps_service_client.api.eligibility import eligibility_get
from nps_service_client.api.merchants import (
    merchants_list,
    merchants_list_csv,
    merchants_scorecard,
)
from nps_service_client.api.ops import ops_healthz, ops_metrics, ops_readyz
from nps_service_client.api.respondents import respondents_erase
from nps_service_client.api.responses import (
    responses_create,
    responses_create_batch,
    responses_export,
    responses_get,
    responses_list,
)
from nps_service_client.api.scores import (
    scores_compare,
    scores_compare_csv,
    scores_get,
    scores_get_csv,
    scores_trend,
    scores_trend_csv,
)
from nps_service_client.api.webhooks import (
    webhooks_create,
    webhooks_delete,
    webhooks_deliveries,
    webhooks_get,
    webhooks_list,
    webhooks_retry_delivery,
    webhooks_update,
)
from nps_service_client.api.widget import widget_script
from nps_service_client.models import (
    AlertIn,
    AlertInFilters,
    AlertInInterval,
    AlertOut,
    AlertPage,
    AlertPatch,
    AuditPage,
    BatchIn,
    BatchOut,
    Below,
    CompareOut,
    ContactRulesIn,
    ContactRulesOut,
    Context,
    DeclineIn,
    DeliveryOut,
    DeliveryPage,
    Dimensions,
    DisplayIn,
    DisplayOut,
    DriversOut,
    EligibilityOut,
    ErasureOut,
    EvaluationOut,
    EvaluationPage,
    Health,
    Interval,
    MerchantList,
    Metric,
    Readiness,
    ResponseIn,
    ResponseInPropertiesType0,
    ResponseOut,
    ResponsePage,
    ResponsesExportFormat,
    Scorecard,
    ScoresOut,
    Segment,
    TrendOut,
    WebhookCreated,
    WebhookIn,
    WebhookInEventsItem,
    WebhookInFilters,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
)
from nps_service_client.types import Response

T = TypeVar("T")
P = TypeVar("P")


class DriveError(Exception):
    pass


class Tracer:
    """Remembers the last request the generated client's httpx client sent."""

    def __init__(self) -> None:
        self.last: tuple[str, str] = ("", "")

    def __call__(self, request: httpx.Request) -> None:
        self.last = (request.method, request.url.path)


TRACE = Tracer()


def report(operation: str, status: int) -> None:
    method, path = TRACE.last
    print(f"{operation} {method} {path} {status}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise DriveError(message)


def send(operation: str, request: Callable[[], Response[P]]) -> Response[P]:
    """Send a request; a 503 is sent again after its Retry-After (at most 3 tries), as the
    document says. Every try is printed."""
    for attempt in range(1, 4):
        response = request()
        report(operation, response.status_code)
        if response.status_code != 503 or attempt == 3:
            break
        wait = response.headers.get("retry-after", "1")
        time.sleep(min(float(wait) if wait.isdigit() else 1.0, 5.0))
    return response


def call(
    operation: str,
    kind: type[T],
    request: Callable[[], Response[P]],
    expected: tuple[int, ...] = (200,),
) -> T:
    """Run one operation: its status must be expected and its parsed body a `kind`."""
    response = send(operation, request)
    check(
        response.status_code in expected,
        f"{operation}: status {response.status_code}, expected {expected}: "
        f"{response.content[:500]!r}",
    )
    parsed = response.parsed
    check(isinstance(parsed, kind), f"{operation}: parsed {type(parsed).__name__}")
    assert isinstance(parsed, kind)
    return parsed


def call_status(
    operation: str, request: Callable[[], Response[P]], expected: tuple[int, ...]
) -> int:
    """An operation without a body (204), or whose documented error is expected."""
    response = send(operation, request)
    check(
        response.status_code in expected,
        f"{operation}: status {response.status_code}, expected {expected}: "
        f"{response.content[:500]!r}",
    )
    return int(response.status_code)


def csv_rows(operation: str, text: str) -> int:
    rows = list(csv.reader(io.StringIO(text)))
    check(len(rows) >= 2, f"{operation}: expected a CSV header and rows, got {text[:200]!r}")
    return len(rows) - 1


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []  # the webhook-id of every request, from any thread

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.received.append(self.headers.get("webhook-id", ""))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def receiver() -> Iterator[str]:
    """Receives webhooks on 127.0.0.1 and answers 204; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()


def drive(client: AuthenticatedClient) -> None:
    run = uuid.uuid4().hex[:8]
    category = f"py-{run}"
    merchants = [f"py-{run}-m1", f"py-{run}-m2"]
    hook_channel = f"py-{run}-hook"
    respondent = f"py-{run}-r1"
    days = 20
    now = datetime.now(UTC)

    # Ops.
    health = call("ops_healthz", Health, lambda: ops_healthz.sync_detailed(client=client))
    check(health.status == "ok", f"ops_healthz: {health.status}")
    ready = call("ops_readyz", Readiness, lambda: ops_readyz.sync_detailed(client=client))
    check(ready.database == "ok", f"ops_readyz: {ready.database}")

    with receiver() as hook_url:
        # A webhook for this run's single hook-channel answer, received here.
        hook_filters = WebhookInFilters()
        hook_filters["channel"] = [hook_channel]
        webhook = call(
            "webhooks_create",
            WebhookCreated,
            lambda: webhooks_create.sync_detailed(
                client=client,
                body=WebhookIn(
                    url=hook_url,
                    events=[WebhookInEventsItem.RESPONSE_CREATED],
                    filters=hook_filters,
                    description="drive.py",
                ),
            ),
            (201,),
        )
        check(webhook.secret.startswith("whsec_"), "webhooks_create: no secret")

        # Answers.
        first_id = uuid.uuid4()
        properties = ResponseInPropertiesType0()
        properties["order_total"] = 42.5
        properties["first_order"] = True
        created = call(
            "responses_create",
            ResponseOut,
            lambda: responses_create.sync_detailed(
                client=client,
                body=ResponseIn(
                    id=first_id,
                    respondent_id=respondent,
                    score=9,
                    dimensions=Dimensions(logistics=8, product=9, service=10, app=7),
                    comment="fast delivery",
                    context=Context(
                        merchant_id=merchants[0], category=category, channel=hook_channel
                    ),
                    properties=properties,
                ),
            ),
            (201,),
        )
        check(created.id == first_id and created.score == 9, "responses_create: wrong echo")

        batch = []
        for i in range(240):
            score = (i * 7) % 11
            batch.append(
                ResponseIn(
                    respondent_id=f"py-{run}-b{i}",
                    score=score,
                    dimensions=Dimensions(
                        logistics=(score + i) % 11,
                        product=score,
                        service=(score * 3) % 11,
                        app=i % 11,
                    ),
                    context=Context(
                        merchant_id=merchants[i % 2], category=category, channel="web", region="eu"
                    ),
                    submitted_at=now - timedelta(days=i % days, hours=1),
                )
            )
        stored = call(
            "responses_create_batch",
            BatchOut,
            lambda: responses_create_batch.sync_detailed(
                client=client, body=BatchIn(responses=batch)
            ),
            (201,),
        )
        check(stored.created == len(batch) and len(stored.ids) == len(batch), "batch: count")
        total = len(batch) + 1

        one = call(
            "responses_get",
            ResponseOut,
            lambda: responses_get.sync_detailed(first_id, client=client),
        )
        check(one.context.merchant_id == merchants[0], "responses_get: context")
        page = call(
            "responses_list",
            ResponsePage,
            lambda: responses_list.sync_detailed(client=client, category=[category], limit=50),
        )
        check(len(page.items) == 50 and isinstance(page.next_cursor, str), "responses_list: page")

        # The export, streamed: the generated request, sent through the generated client's
        # httpx client and read line by line, never the whole body at once.
        request = responses_export._get_kwargs(
            category=[category], format_=ResponsesExportFormat.NDJSON
        )
        lines = 0
        with client.get_httpx_client().stream(**request) as reply:
            report("responses_export", reply.status_code)
            check(reply.status_code == 200, f"responses_export: status {reply.status_code}")
            check(
                reply.headers["content-type"].startswith("application/x-ndjson"),
                f"responses_export: {reply.headers['content-type']}",
            )
            for line in reply.iter_lines():
                if line:
                    check("score" in json.loads(line), "responses_export: bad line")
                    lines += 1
        check(lines == total, f"responses_export: {lines} lines, expected {total}")

        # Displays, declines, eligibility, contact rules.
        display = call(
            "displays_create",
            DisplayOut,
            lambda: displays_create.sync_detailed(
                client=client,
                body=DisplayIn(
                    respondent_id=f"py-{run}-d1",
                    touchpoint="checkout",
                    context=Context(category=category),
                ),
            ),
            (201,),
        )
        shown = call(
            "displays_get",
            DisplayOut,
            lambda: displays_get.sync_detailed(display.id, client=client),
        )
        check(shown.touchpoint == "checkout" and shown.declined_at is None, "displays_get")
        declined = call(
            "displays_decline",
            DisplayOut,
            lambda: displays_decline.sync_detailed(display.id, client=client, body=DeclineIn()),
        )
        check(declined.declined_at is not None, "displays_decline: not declined")
        eligibility = call(
            "eligibility_get",
            EligibilityOut,
            lambda: eligibility_get.sync_detailed(
                client=client, respondent_id=f"py-{run}-d1", touchpoint="checkout"
            ),
        )
        check(not eligibility.eligible, "eligibility_get: eligible after a decline")
        rules = call(
            "contact_rules_get",
            ContactRulesOut,
            lambda: contact_rules_get.sync_detailed(client=client),
        )
        put = call(
            "contact_rules_put",
            ContactRulesOut,
            lambda: contact_rules_put.sync_detailed(
                client=client, body=ContactRulesIn.from_dict(rules.to_dict())
            ),
        )
        check(put.to_dict() == rules.to_dict(), "contact_rules_put: changed")

        # Scores, as JSON and as CSV.
        scores = call(
            "scores_get",
            ScoresOut,
            lambda: scores_get.sync_detailed(client=client, category=[category]),
        )
        overall = scores.groups[0].overall
        check(overall.n == total and overall.nps is not None, "scores_get: overall")
        scores_csv = call(
            "scores_get_csv",
            str,
            lambda: scores_get_csv.sync_detailed(
                client=client,
                category=[category],
                group_by=[Segment.MERCHANT_ID],
            ),
        )
        check(csv_rows("scores_get_csv", scores_csv) == 2, "scores_get_csv: rows")
        trend = call(
            "scores_trend",
            TrendOut,
            lambda: scores_trend.sync_detailed(
                client=client, category=[category], interval=Interval.DAY
            ),
        )
        check(len(trend.groups) == 1, "scores_trend: groups")
        trend_csv = call(
            "scores_trend_csv",
            str,
            lambda: scores_trend_csv.sync_detailed(
                client=client, category=[category], interval=Interval.DAY
            ),
        )
        csv_rows("scores_trend_csv", trend_csv)

        def day(offset: int) -> str:
            return (now - timedelta(days=offset)).date().isoformat()

        compare = call(
            "scores_compare",
            CompareOut,
            lambda: scores_compare.sync_detailed(
                client=client,
                category=[category],
                from_=day(7),
                to=day(-1),
                baseline_from=day(days + 1),
                baseline_to=day(7),
            ),
        )
        check(len(compare.groups) == 1, "scores_compare: groups")
        compare_csv = call(
            "scores_compare_csv",
            str,
            lambda: scores_compare_csv.sync_detailed(
                client=client,
                category=[category],
                from_=day(7),
                to=day(-1),
                baseline_from=day(days + 1),
                baseline_to=day(7),
            ),
        )
        csv_rows("scores_compare_csv", compare_csv)
        drivers = call(
            "drivers_get",
            DriversOut,
            lambda: drivers_get.sync_detailed(client=client, category=[category]),
        )
        check(drivers.groups[0].dimensions.logistics.n == total, "drivers_get: logistics")
        drivers_csv = call(
            "drivers_get_csv",
            str,
            lambda: drivers_get_csv.sync_detailed(client=client, category=[category]),
        )
        csv_rows("drivers_get_csv", drivers_csv)

        # Merchants.
        ranked = call(
            "merchants_list",
            MerchantList,
            lambda: merchants_list.sync_detailed(
                client=client, category=category, window_days=30, min_n=1
            ),
        )
        check(len(ranked.merchants) == 2, f"merchants_list: {len(ranked.merchants)}")
        merchants_csv = call(
            "merchants_list_csv",
            str,
            lambda: merchants_list_csv.sync_detailed(
                client=client, category=category, window_days=30, min_n=1
            ),
        )
        check(csv_rows("merchants_list_csv", merchants_csv) == 2, "merchants_list_csv: rows")
        scorecard = call(
            "merchants_scorecard",
            Scorecard,
            lambda: merchants_scorecard.sync_detailed(
                merchants[1], client=client, category=category, window_days=30, min_n=1
            ),
        )
        check(scorecard.merchant_id == merchants[1] and scorecard.overall.n > 0, "scorecard")

        # Webhooks: the hook-channel answer above became one delivery; send it again.
        hooks = call(
            "webhooks_list",
            WebhookPage,
            lambda: webhooks_list.sync_detailed(client=client, limit=100),
        )
        check(any(hook.id == webhook.id for hook in hooks.items), "webhooks_list: missing")
        hook = call(
            "webhooks_get",
            WebhookOut,
            lambda: webhooks_get.sync_detailed(webhook.id, client=client),
        )
        check(hook.url == hook_url, "webhooks_get: url")
        updated = call(
            "webhooks_update",
            WebhookOut,
            lambda: webhooks_update.sync_detailed(
                webhook.id, client=client, body=WebhookPatch(description="drive.py, updated")
            ),
        )
        check(updated.description == "drive.py, updated", "webhooks_update: description")
        deliveries: list[DeliveryOut] = []
        for attempt in range(60):
            if attempt:
                time.sleep(0.5)
            found = call(
                "webhooks_deliveries",
                DeliveryPage,
                lambda: webhooks_deliveries.sync_detailed(webhook.id, client=client),
            )
            deliveries = found.items
            if deliveries:
                break
        if deliveries:
            delivery_id = deliveries[0].id
            retried = call(
                "webhooks_retry_delivery",
                DeliveryOut,
                lambda: webhooks_retry_delivery.sync_detailed(
                    webhook.id, delivery_id, client=client
                ),
            )
            check(retried.id == delivery_id and retried.attempts == 0, "retry: body")
            deadline = time.monotonic() + 20
            while delivery_id not in _Receiver.received:
                check(
                    time.monotonic() < deadline, f"retry: {delivery_id} never reached the receiver"
                )
                time.sleep(0.2)
        else:  # no dispatcher reached a delivery: the documented answer for an unknown one
            call_status(
                "webhooks_retry_delivery",
                lambda: webhooks_retry_delivery.sync_detailed(
                    webhook.id, "msg_none", client=client
                ),
                (404,),
            )
        call_status(
            "webhooks_delete",
            lambda: webhooks_delete.sync_detailed(webhook.id, client=client),
            (204,),
        )

    # Alerts.
    alert_filters = AlertInFilters()
    alert_filters["category"] = [category]
    alert = call(
        "alerts_create",
        AlertOut,
        lambda: alerts_create.sync_detailed(
            client=client,
            body=AlertIn(
                name=f"drive.py {run}",
                metric=Metric.OVERALL,
                interval=AlertInInterval.DAY,
                condition=Below(type_="below", value=100),
                filters=alert_filters,
                min_n=1,
            ),
        ),
        (201,),
    )
    alerts = call("alerts_list", AlertPage, lambda: alerts_list.sync_detailed(client=client))
    check(any(item.id == alert.id for item in alerts.items), "alerts_list: missing")
    got = call("alerts_get", AlertOut, lambda: alerts_get.sync_detailed(alert.id, client=client))
    check(isinstance(got.condition, Below), "alerts_get: condition")
    renamed = call(
        "alerts_update",
        AlertOut,
        lambda: alerts_update.sync_detailed(
            alert.id, client=client, body=AlertPatch(name=f"drive.py {run} renamed")
        ),
    )
    check(renamed.name.endswith("renamed"), "alerts_update: name")
    evaluation = call(
        "alerts_evaluate",
        EvaluationOut,
        lambda: alerts_evaluate.sync_detailed(alert.id, client=client, at=now.isoformat()),
        (200, 201),
    )
    check(evaluation.alert_id == alert.id, "alerts_evaluate: alert id")
    events = call(
        "alerts_events",
        EvaluationPage,
        lambda: alerts_events.sync_detailed(alert.id, client=client),
    )
    check(len(events.items) >= 1, "alerts_events: none")
    call_status(
        "alerts_delete", lambda: alerts_delete.sync_detailed(alert.id, client=client), (204,)
    )

    # Privacy and audit.
    erased = call(
        "respondents_erase",
        ErasureOut,
        lambda: respondents_erase.sync_detailed(respondent, client=client),
    )
    check(erased.responses_erased == 1, f"respondents_erase: {erased.responses_erased}")
    audit = call("audit_list", AuditPage, lambda: audit_list.sync_detailed(client=client, limit=20))
    check(len(audit.items) > 0, "audit_list: empty")

    # Plain-text operations.
    metrics = call("ops_metrics", str, lambda: ops_metrics.sync_detailed(client=client))
    check("nps_http_requests_total" in metrics, "ops_metrics: counters")
    widget = call("widget_script", str, lambda: widget_script.sync_detailed(client=client))
    check("nps-survey" in widget, "widget_script: module")


def main() -> int:
    base_url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("NPS_BASE_URL", "")
    api_key = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("NPS_API_KEY", "")
    if not base_url or not api_key:
        print(
            "usage: drive.py BASE_URL ADMIN_KEY (or NPS_BASE_URL and NPS_API_KEY)", file=sys.stderr
        )
        return 2
    client = AuthenticatedClient(
        base_url=base_url,
        token=api_key,
        timeout=httpx.Timeout(60.0),
        httpx_args={"event_hooks": {"request": [TRACE]}},
    )
    with client:
        try:
            drive(client)
        except DriveError as error:
            print(f"FAILED {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
