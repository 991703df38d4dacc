"""Record the examples of openapi.yaml by running the app, into
src/nps_service/web/openapi_examples.json (which nps_service.web.openapi_examples reads).

    .venv/bin/python -m scripts.openapi_examples          # record, rewrite the examples file
    .venv/bin/nps-service openapi --output openapi.yaml   # then regenerate the document

The app runs in-process (TestClient) on a fresh SQLite database holding 60,000 demo answers
(September to November 2026; the demo's `fresh_produce` and `home` categories are renamed
生鲜 and 家居, as a Douyin-style platform names them). Every operation is called with its
example request, defined below; replies are kept as the app sent them, except that lists
are cut (or asked for with `limit`), CSV, NDJSON and text to a few lines, and the webhook
signing secret is replaced by a fake of the same shape. An operation `<id>_csv` (the CSV
twin of `<id>`) is called with the parameters of `<id>`, so new twins need no change here.
Ids the server assigns and times of receipt change with every run; the rest stays the same.
"""

import argparse
import base64
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.demo import DemoConfig, generate
from nps_service.keys.service import Scope, create_key
from nps_service.main import create_app
from nps_service.migrate import upgrade
from nps_service.responses.importer import import_answers
from nps_service.responses.schemas import ResponseIn
from nps_service.rollups import fold_all
from nps_service.web.problems import PROBLEM_MEDIA_TYPE
from nps_service.webhooks.dispatcher import dispatch_once

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "nps_service" / "web" / "openapi_examples.json"
CHINESE_CATEGORIES = {"fresh_produce": "生鲜", "home": "家居"}
FAKE_SECRET = "whsec_" + base64.b64encode(b"nps-service example secret 32 by").decode()
DEMO_END = datetime(2026, 12, 1, tzinfo=UTC)
Json = dict[str, Any]

# The example requests. Ids are fixed so that regenerating changes little.
ANSWER: Json = {
    "id": "7f0c2a9e-8d4b-4a51-9a53-2f0e6a1d9b10",
    "respondent_id": "u_123",
    "score": 9,
    "dimensions": {"logistics": 8, "product": 10, "service": 6, "app": 9},
    "comment": "包裹晚到了一天，但面霜很好用",
    "context": {
        "merchant_id": "m_42",
        "category": "beauty",
        "channel": "live_stream",
        "region": "CN-BJ",
        "platform": "ios",
        "touchpoint": "post_delivery",
        "order_id": "o_9",
    },
    "weight": 1.0,
    "properties": {"campaign": "double11", "vip": True},
    "submitted_at": "2026-11-20T10:00:00+08:00",
}
BATCH: Json = {
    "responses": [
        {
            "id": "c3f1d5a2-6b7e-4f08-9d21-5a4e8b9c0d13",
            "respondent_id": "u_100482",
            "score": 3,
            "dimensions": {"logistics": 2, "product": 7},
            "comment": "Parcel arrived crushed and two days late",
            "context": {
                "merchant_id": "m_13",
                "category": "food",
                "channel": "live_stream",
                "region": "CN-SC",
                "platform": "android",
                "touchpoint": "post_delivery",
            },
            "submitted_at": "2026-11-21T20:15:00+08:00",
        },
        {
            "id": "5b9e0c47-2a1d-4e6f-8c3b-7d2f1a0e9b84",
            "respondent_id": "u_231907",
            "score": 10,
            "dimensions": {"app": 9},
            "context": {"channel": "mall", "platform": "mini_program", "touchpoint": "in_app"},
            "submitted_at": "2026-11-21T20:16:30+08:00",
        },
    ]
}
DISPLAY: Json = {
    "id": "2d8c6f1e-4b3a-4e59-a7c0-9f1b2e3d4c5a",
    "respondent_id": "u_123",
    "touchpoint": "post_delivery",
    "context": {"merchant_id": "m_42", "category": "beauty", "channel": "live_stream"},
    "shown_at": "2026-11-20T09:58:12+08:00",
}
DECLINE: Json = {"declined_at": "2026-11-20T09:58:40+08:00"}
RULES: Json = {
    "after_response_days": 90,
    "after_decline_days": 30,
    "after_display_days": 7,
    "sample_rate": 0.25,
    "across_touchpoints": True,
    "touchpoints": {"customer_service": {"after_response_days": 30, "sample_rate": 1.0}},
}
WEBHOOK: Json = {
    "url": "https://crm.example.com/hooks/nps",
    "events": ["response.detractor", "alert.triggered"],
    "filters": {"channel": ["live_stream"]},
    "description": "直播渠道的差评推送到客服工单系统",
}
WEBHOOK_PATCH: Json = {"filters": {"channel": ["live_stream", "short_video"]}}
ALERT: Json = {
    "name": "商家物流 NPS 低于 0",
    "metric": "logistics",
    "group_by": ["merchant_id"],
    "interval": "week",
    "tz": "Asia/Shanghai",
    "condition": {"type": "below", "value": 0},
    "min_n": 30,
}
ALERT_PATCH: Json = {"condition": {"type": "significant_drop", "confidence": 0.99}}
NOVEMBER = {"from": "2026-11-01", "to": "2026-12-01", "tz": "Asia/Shanghai"}


@dataclass
class Recorder:
    """Calls operations and keeps, per operation id: `parameters` (query and path),
    `request` (the body), `content` (media type -> example, for every 2xx status) and
    `status` (status -> media type -> example, where a status answers differently)."""

    client: TestClient
    headers: dict[str, str]
    operations: dict[str, Json] = field(default_factory=dict)
    queries: dict[str, Json] = field(default_factory=dict)

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        path_params: Json | None = None,
        body: Any = None,
        *,
        query: Json | None = None,
        keep: Callable[[Any], Any] = lambda content: content,
        record_query: bool = True,
        optional: bool = False,
    ) -> Any:
        """Call, check for 2xx, record request and (kept part of the) reply; the reply.

        A failing `optional` call is reported on stderr and not recorded."""
        url = path.format(**(path_params or {}))
        reply = self.client.request(method, url, params=query, json=body, headers=self.headers)
        if optional and not reply.is_success:
            print(
                f"not recorded: {operation} {reply.status_code} {reply.text[:200]}", file=sys.stderr
            )
            return None
        assert reply.is_success, (operation, reply.status_code, reply.text[:500])
        entry = self.operations.setdefault(operation, {})
        if record_query and (path_params or query):
            entry["parameters"] = {**(path_params or {}), **(query or {})}
            self.queries[operation] = query or {}
        if body is not None:
            entry["request"] = body
        if reply.status_code == 204:
            return None
        media = reply.headers["content-type"].split(";")[0]
        content = reply.json() if media == "application/json" else reply.text
        example = keep(content)
        known = entry.setdefault("content", {})
        if media not in known:
            known[media] = example
        elif known[media] != example:
            entry.setdefault("status", {})[str(reply.status_code)] = {media: example}
        return content


def masked(body: Json) -> Json:
    return {**body, "secret": FAKE_SECRET} if "secret" in body else body


def first_lines(count: int) -> Callable[[str], str]:
    return lambda text: "".join(text.splitlines(keepends=True)[:count])


def demo_answers(config: DemoConfig) -> Iterator[tuple[int, ResponseIn]]:
    for line, answer in enumerate(generate(config), start=1):
        category = answer["context"]["category"]
        answer["context"]["category"] = CHINESE_CATEGORIES.get(category, category)
        yield line, ResponseIn.model_validate(answer)


@contextmanager
def running_app(folder: Path) -> Iterator[tuple[TestClient, Settings, dict[str, str], str]]:
    """The app on a fresh database with demo answers; (client, settings, admin headers,
    a read-only key)."""
    settings = Settings(
        database_url=f"sqlite:///{folder / 'examples.db'}",
        rollup_interval_seconds=0,
        webhook_interval_seconds=0,
        alert_interval_seconds=0,
        rate_limits="",
        webhook_allow_private=True,  # no DNS here; the test checks the URL resolves publicly
        webhook_retry_seconds=[0.0],
    )
    engine = create_db_engine(settings)
    upgrade(engine)
    import_answers(engine, demo_answers(DemoConfig(count=60_000, seed=7, end=DEMO_END, days=91)))
    fold_all(engine)
    with make_session_factory(engine)() as session:
        _, admin = create_key(session, "examples", [Scope.ADMIN])
        _, read_only = create_key(session, "dashboard", [Scope.READ])
        session.commit()
    engine.dispose()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, settings, {"Authorization": f"Bearer {admin}"}, read_only


def mocked_receiver(failing_answer: str) -> httpx.Client:
    """A receiver that is down (503) for the event of one answer and fine otherwise."""

    def answer(request: httpx.Request) -> httpx.Response:
        data = json.loads(request.content)["data"]
        return httpx.Response(503 if data.get("id") == failing_answer else 204)

    return httpx.Client(transport=httpx.MockTransport(answer))


def dispatch(settings: Settings, failing_answer: str) -> None:
    engine = create_db_engine(settings)
    with ThreadPoolExecutor(2) as pool, mocked_receiver(failing_answer) as client:
        for _ in range(3):  # first attempts, then the retry the schedule allows
            dispatch_once(engine, settings, pool, client)
    engine.dispose()


def record_all(rec: Recorder, settings: Settings, read_key: str) -> None:
    admin = rec.headers
    rec.call("contact_rules_put", "PUT", "/v1/contact-rules", body=RULES)
    rec.call("contact_rules_get", "GET", "/v1/contact-rules")

    display = {"display_id": DISPLAY["id"]}
    rec.call("displays_create", "POST", "/v1/displays", body=DISPLAY)
    rec.call("displays_create", "POST", "/v1/displays", body=DISPLAY)  # 200: a retry
    rec.call("displays_decline", "POST", "/v1/displays/{display_id}/decline", display, DECLINE)
    rec.call("displays_get", "GET", "/v1/displays/{display_id}", display)

    rec.call("responses_create", "POST", "/v1/responses", body=ANSWER)
    rec.call("responses_create", "POST", "/v1/responses", body=ANSWER)  # 200: a retry
    rec.call("responses_get", "GET", "/v1/responses/{response_id}", {"response_id": ANSWER["id"]})
    asked = {"respondent_id": "u_123", "touchpoint": "post_delivery"}
    rec.call("eligibility_get", "GET", "/v1/eligibility", query=asked)

    hook = rec.call("webhooks_create", "POST", "/v1/webhooks", body=WEBHOOK, keep=masked)
    spare = {"url": "https://bi.example.com/nps/alerts", "events": ["alert.triggered"]}
    spare_hook = rec.client.post("/v1/webhooks", headers=admin, json=spare).json()
    alert = rec.call("alerts_create", "POST", "/v1/alerts", body=ALERT)
    spare_alert = {**ALERT, "name": "Weekly overall NPS below 20", "metric": "overall"}
    spare_alert = {**spare_alert, "group_by": [], "condition": {"type": "below", "value": 20}}
    spare_alert = rec.client.post("/v1/alerts", headers=admin, json=spare_alert).json()
    alert_path = {"alert_id": alert["id"]}
    rec.client.post(f"/v1/alerts/{alert['id']}/evaluate?at=2026-11-23", headers=admin)
    evaluate, at = "/v1/alerts/{alert_id}/evaluate", {"at": "2026-11-30"}
    rec.call("alerts_evaluate", "POST", evaluate, alert_path, query=at, keep=few_triggered)
    rec.call("alerts_evaluate", "POST", evaluate, alert_path, query=at, keep=few_triggered)
    events = "/v1/alerts/{alert_id}/events"
    rec.call("alerts_events", "GET", events, alert_path, query={"limit": 1}, keep=few_triggered)
    dispatch(settings, failing_answer=BATCH["responses"][0]["id"])  # the alert's events

    rec.call("responses_create_batch", "POST", "/v1/responses/batch", body=BATCH)
    rec.call("responses_create_batch", "POST", "/v1/responses/batch", body=BATCH)  # 200
    dispatch(settings, failing_answer=BATCH["responses"][0]["id"])  # the detractor's event
    hook_path = {"webhook_id": hook["id"]}
    deliveries = "/v1/webhooks/{webhook_id}/deliveries"
    page = rec.call("webhooks_deliveries", "GET", deliveries, hook_path, query={"limit": 2})
    failed = next(item for item in page["items"] if item["status"] == "failed")
    retry = "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"
    rec.call("webhooks_retry_delivery", "POST", retry, {**hook_path, "delivery_id": failed["id"]})
    rec.call("webhooks_list", "GET", "/v1/webhooks", query={"limit": 2})
    rec.call("webhooks_get", "GET", "/v1/webhooks/{webhook_id}", hook_path)
    rec.call("webhooks_update", "PATCH", "/v1/webhooks/{webhook_id}", hook_path, WEBHOOK_PATCH)
    spare_path = {"webhook_id": spare_hook["id"]}
    rec.call("webhooks_delete", "DELETE", "/v1/webhooks/{webhook_id}", spare_path)

    rec.call("alerts_list", "GET", "/v1/alerts", query={"limit": 2})
    rec.call("alerts_get", "GET", "/v1/alerts/{alert_id}", alert_path)
    rec.call("alerts_update", "PATCH", "/v1/alerts/{alert_id}", alert_path, ALERT_PATCH)
    spare_path = {"alert_id": spare_alert["id"]}
    rec.call("alerts_delete", "DELETE", "/v1/alerts/{alert_id}", spare_path)

    fresh = {**NOVEMBER, "category": ["生鲜"], "limit": 2}
    rec.call("responses_list", "GET", "/v1/responses", query=fresh)
    day: Json = {"from": "2026-11-11", "to": "2026-11-12", "tz": "Asia/Shanghai"}
    day["merchant_id"] = ["m_42"]
    export = "/v1/responses/export"
    rec.call("responses_export", "GET", export, query=day, keep=first_lines(2))
    as_csv = {**day, "format": "csv"}
    rec.call(
        "responses_export", "GET", export, query=as_csv, keep=first_lines(3), record_query=False
    )

    scores: Json = {
        **NOVEMBER,
        "category": ["生鲜"],
        "group_by": ["channel"],
        "sort": "-n",
        "limit": 2,
    }
    rec.call("scores_get", "GET", "/v1/scores", query=scores)
    as_csv = {**scores, "format": "csv"}
    rec.call("scores_get", "GET", "/v1/scores", query=as_csv, record_query=False, optional=True)
    trend = {**NOVEMBER, "category": ["生鲜"], "interval": "week"}
    rec.call("scores_trend", "GET", "/v1/scores/trend", query=trend)
    baseline = {"baseline_from": "2026-10-01", "baseline_to": "2026-11-01"}
    compare = {**NOVEMBER, **baseline, "category": ["生鲜"]}
    rec.call("scores_compare", "GET", "/v1/scores/compare", query=compare)
    rec.call("drivers_get", "GET", "/v1/drivers", query={**NOVEMBER, "category": ["生鲜"]})
    window = {"window_days": 30, "end": "2026-12-01", "tz": "Asia/Shanghai", "min_n": 30}
    ranking = {"category": "生鲜", **window, "sort": "-ci_low", "limit": 2}
    ranked = rec.call("merchants_list", "GET", "/v1/merchants", query=ranking)
    merchant = {"merchant_id": ranked["merchants"][0]["merchant_id"]}
    scorecard = "/v1/merchants/{merchant_id}/scorecard"
    rec.call(
        "merchants_scorecard", "GET", scorecard, merchant, query={**window, "rank_by": "-ci_low"}
    )
    for operation, path in csv_twins(rec.client):
        query = rec.queries[operation.removesuffix("_csv")]
        rec.call(operation, "GET", path, query=query, keep=first_lines(3), optional=True)

    record_problems(rec, settings, read_key)  # before the erasure: the 409 needs the answer
    erase = "/v1/respondents/{respondent_id}"
    rec.call("respondents_erase", "DELETE", erase, {"respondent_id": "u_123"})
    rec.call("audit_list", "GET", "/v1/audit", query={"limit": 2})
    rec.call("ops_healthz", "GET", "/healthz")
    rec.call("ops_readyz", "GET", "/readyz")
    rec.call("ops_metrics", "GET", "/metrics", keep=metrics_excerpt)
    rec.call("widget_script", "GET", "/widget/nps-survey.js", keep=script_excerpt)


def few_triggered(body: Json) -> Json:
    """An evaluation (or a page of them) with its first triggered group only."""
    if "items" in body:
        return {**body, "items": [few_triggered(item) for item in body["items"]]}
    return {**body, "triggered": body["triggered"][:1]}


def csv_twins(client: TestClient) -> list[tuple[str, str]]:
    """(operation id, path) of every `<id>_csv` operation the app serves."""
    document = client.get("/openapi.json").json()
    return [
        (operation["operationId"], path)
        for path, item in document["paths"].items()
        for operation in item.values()
        if operation["operationId"].endswith("_csv")
    ]


def metrics_excerpt(text: str) -> str:
    """Two families of the exposition: answers stored and the pending tail."""
    wanted = ("nps_responses_stored_total ", "nps_pending_answers ")
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if any(name in line for name in wanted))


def script_excerpt(text: str) -> str:
    """The usage part of the leading comment."""
    head = text.splitlines(keepends=True)[:7]
    return "".join(head) + " * ...\n */\n"


def record_problems(rec: Recorder, settings: Settings, read_key: str) -> None:
    """One problem document per error status, from requests that fail that way."""
    client, admin = rec.client, rec.headers
    problems: Json = {}

    def keep(name: str, reply: httpx.Response, status: int) -> None:
        assert reply.status_code == status, (name, reply.status_code, reply.text[:500])
        problems[name] = reply.json()

    json_type = {**admin, "content-type": "application/json"}
    keep("400", client.post("/v1/responses", headers=json_type, content=b'{"score": 9,'), 400)
    keep("401", client.get("/v1/scores"), 401)
    reader = {"Authorization": f"Bearer {read_key}"}
    keep("403", client.get("/v1/webhooks", headers=reader), 403)
    keep("409", client.post("/v1/responses", headers=admin, json={**ANSWER, "score": 7}), 409)
    huge = b" " * (settings.max_body_bytes + 1)
    keep("413", client.post("/v1/responses/batch", headers=json_type, content=huge), 413)
    text = {**admin, "content-type": "text/plain"}
    keep("415", client.post("/v1/responses", headers=text, content=b"score=9"), 415)
    wrong = {**ANSWER, "score": 11, "submitted_at": "2026-11-20 10:00"}
    keep("422", client.post("/v1/responses", headers=admin, json=wrong), 422)
    bad_query = {"tz": "Asia/Beijing", "interval": "hour"}
    keep("422_parameters", client.get("/v1/scores", headers=admin, params=bad_query), 422)
    limited = settings.model_copy(update={"rate_limits": "key: 120/minute"})
    with TestClient(create_app(limited), raise_server_exceptions=False) as strict:
        for _ in range(120):
            strict.get("/v1/contact-rules", headers=admin)
        keep("429", strict.get("/v1/scores", headers=admin), 429)
    rec.operations["_problems"] = problems
    record_not_found(rec)


# Ids that name nothing, for each operation's 404; path parameters by name, or by format.
UNKNOWN = {
    "merchant_id": "m_999999",
    "delivery_id": "msg_3f6c2b1a9d8e4f7a8b5c0d1e2f3a4b5c",
    "uuid": "9b1c4e2a-7d3f-4a8e-b5c6-0f2e1d3c4b5a",
}


def record_not_found(rec: Recorder) -> None:
    """Each operation's own 404: its recorded request with the last path parameter unknown."""
    document = rec.client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            entry = rec.operations.get(operation["operationId"], {})
            named = [p for p in operation.get("parameters", []) if p["in"] == "path"]
            if "404" not in operation["responses"] or not named:
                continue
            last = named[-1]
            unknown = UNKNOWN.get(last["name"]) or UNKNOWN[last["schema"].get("format", "")]
            values = {**entry.get("parameters", {}), last["name"]: unknown}
            kinds = {p["name"]: p["in"] for p in operation["parameters"]}
            query = {name: v for name, v in values.items() if kinds.get(name) == "query"}
            url = path.format(
                **{name: v for name, v in values.items() if kinds.get(name) == "path"}
            )
            body = entry.get("request")
            reply = rec.client.request(method, url, params=query, json=body, headers=rec.headers)
            assert reply.status_code == 404, (operation["operationId"], reply.text[:300])
            entry.setdefault("status", {})["404"] = {PROBLEM_MEDIA_TYPE: reply.json()}


def record() -> Json:
    """Examples by operation id; problem documents by status under `_problems`."""
    with tempfile.TemporaryDirectory() as folder, running_app(Path(folder)) as running:
        client, settings, admin, read_key = running
        recorder = Recorder(client, admin)
        record_all(recorder, settings, read_key)
        return recorder.operations


def write_data(recorded: Json) -> None:
    """The examples file: operations by id, and the shared problem documents."""
    problems = recorded.pop("_problems")
    data = {
        "generated_by": "scripts/openapi_examples.py: do not edit by hand, run it again",
        "operations": dict(sorted(recorded.items())),
        "problems": problems,
    }
    text = json.dumps(data, ensure_ascii=False, indent=1)
    DATA.write_text(text + "\n", encoding="utf-8")


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    write_data(record())
    print(f"wrote {DATA.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
