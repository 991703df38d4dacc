/**
 * Drives every operation of openapi.yaml once through openapi-fetch and the types that
 * openapi-typescript generated from it (generated/schema.d.ts).
 *
 *   node generated/js/typescript/drive.js BASE_URL ADMIN_KEY
 *   (or NPS_BASE_URL and NPS_API_KEY in the environment)
 *
 * Prints one line per call: `<operationId> <METHOD> <path template> <status>`, and exits
 * non-zero on the first unexpected status or body. The webhook retry needs a delivery:
 * the driver receives webhooks itself on 127.0.0.1, so the server must allow private
 * targets (NPS_WEBHOOK_ALLOW_PRIVATE=true); without one it expects the documented 404.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "../generated/schema.js";

type Schemas = components["schemas"];

class DriveError extends Error {}

const baseUrl = process.argv[2] ?? process.env.NPS_BASE_URL ?? "";
const apiKey = process.argv[3] ?? process.env.NPS_API_KEY ?? "";
if (baseUrl === "" || apiKey === "") {
  console.error("usage: drive.js BASE_URL ADMIN_KEY (or NPS_BASE_URL and NPS_API_KEY)");
  process.exit(2);
}

// Which operation the next request belongs to, and what the server answered, as seen by
// openapi-fetch itself (schemaPath is the path template it was called with).
let currentOperation = "";
const trace: Middleware = {
  onResponse({ request, response, schemaPath }) {
    console.log(`${currentOperation} ${request.method} ${schemaPath} ${response.status}`);
    return undefined;
  },
};

const client = createClient<paths>({
  baseUrl,
  headers: { Authorization: `Bearer ${apiKey}` },
});
client.use(trace);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Result<D, E> {
  data?: D;
  error?: E;
  response: Response;
}

function fail(message: string): never {
  throw new DriveError(message);
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) fail(message);
}

/**
 * Send a request; a 503 is sent again after its Retry-After (at most 3 tries), as the
 * document says. Every try is printed.
 */
async function send<D, E>(operation: string, request: () => Promise<Result<D, E>>): Promise<Result<D, E>> {
  currentOperation = operation;
  for (let attempt = 1; ; attempt++) {
    const result = await request();
    if (result.response.status !== 503 || attempt === 3) return result;
    const wait = Number(result.response.headers.get("retry-after") ?? "1");
    await sleep(1000 * Math.min(Number.isFinite(wait) ? wait : 1, 5));
  }
}

/** Run one operation; its status must be one of `expected` and, for a body, present. */
async function call<D, E>(
  operation: string,
  expected: readonly number[],
  request: () => Promise<Result<D, E>>,
): Promise<D> {
  const { data, error, response } = await send(operation, request);
  if (!expected.includes(response.status)) {
    fail(`${operation}: status ${response.status}, expected ${expected.join("/")}: ${JSON.stringify(error)}`);
  }
  if (data === undefined) fail(`${operation}: no body`);
  return data;
}

/** An operation without a response body (204), or whose documented error is expected. */
async function callStatus<D, E>(
  operation: string,
  expected: readonly number[],
  request: () => Promise<Result<D, E>>,
): Promise<number> {
  const { error, response } = await send(operation, request);
  if (!expected.includes(response.status)) {
    fail(`${operation}: status ${response.status}, expected ${expected.join("/")}: ${JSON.stringify(error)}`);
  }
  return response.status;
}

function csvRows(operation: string, text: string): number {
  const lines = text.split(/\r?\n/).filter((line) => line !== "");
  const head = JSON.stringify(text.slice(0, 200));
  check(lines.length >= 2, `${operation}: expected a CSV header and rows, got ${head}`);
  return lines.length - 1;
}

/** Receives webhooks on 127.0.0.1 and answers 204. */
async function startReceiver(): Promise<{ url: string; received: string[]; close: () => void }> {
  const received: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const id = request.headers["webhook-id"];
    received.push(typeof id === "string" ? id : "");
    request.resume();
    request.on("end", () => {
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address: AddressInfo | string | null = server.address();
  check(address !== null && typeof address !== "string", "receiver has no port");
  return { url: `http://127.0.0.1:${address.port}/hooks`, received, close: () => server.close() };
}

async function main(): Promise<void> {
  const run = randomUUID().slice(0, 8);
  const category = `ts-${run}`;
  const merchants = [`ts-${run}-m1`, `ts-${run}-m2`];
  const hookChannel = `ts-${run}-hook`;
  const respondent = `ts-${run}-r1`;
  const days = 20;
  const now = Date.now();

  // Ops.
  const health = await call("ops_healthz", [200], () => client.GET("/healthz"));
  check(health.status === "ok", `ops_healthz: ${health.status}`);
  const ready = await call("ops_readyz", [200], () => client.GET("/readyz"));
  check(ready.database === "ok", `ops_readyz: ${ready.database}`);

  // A webhook for this run's single hook-channel answer, received here.
  const receiver = await startReceiver();
  const webhook: Schemas["WebhookCreated"] = await call("webhooks_create", [201], () =>
    client.POST("/v1/webhooks", {
      body: {
        url: receiver.url,
        events: ["response.created"],
        filters: { channel: [hookChannel] },
        description: "drive.ts",
      },
    }),
  );
  check(webhook.secret.startsWith("whsec_"), "webhooks_create: no secret");

  // Answers.
  const firstId = randomUUID();
  const created = await call("responses_create", [201], () =>
    client.POST("/v1/responses", {
      body: {
        id: firstId,
        respondent_id: respondent,
        score: 9,
        dimensions: { logistics: 8, product: 9, service: 10, app: 7 },
        comment: "fast delivery",
        context: { merchant_id: merchants[0], category, channel: hookChannel },
        properties: { order_total: 42.5, first_order: true },
      },
    }),
  );
  check(created.id === firstId && created.score === 9, "responses_create: wrong echo");

  const batch: Schemas["ResponseIn"][] = [];
  for (let i = 0; i < 240; i++) {
    const score = (i * 7) % 11;
    batch.push({
      respondent_id: `ts-${run}-b${i}`,
      score,
      dimensions: { logistics: (score + i) % 11, product: score, service: (score * 3) % 11, app: i % 11 },
      context: { merchant_id: merchants[i % 2], category, channel: "web", region: "eu" },
      submitted_at: new Date(now - ((i % days) * 86_400_000 + 3_600_000)).toISOString(),
    });
  }
  const stored = await call("responses_create_batch", [201], () =>
    client.POST("/v1/responses/batch", { body: { responses: batch } }),
  );
  check(stored.created === batch.length && stored.ids.length === batch.length, "batch: count");
  const total = batch.length + 1;

  const one = await call("responses_get", [200], () =>
    client.GET("/v1/responses/{response_id}", { params: { path: { response_id: firstId } } }),
  );
  check(one.context.merchant_id === merchants[0], "responses_get: context");
  const page = await call("responses_list", [200], () =>
    client.GET("/v1/responses", { params: { query: { category: [category], limit: 50 } } }),
  );
  check(page.items.length === 50 && page.next_cursor !== null, "responses_list: page");

  // The export, read chunk by chunk from the stream: never the whole body at once.
  currentOperation = "responses_export";
  const exported = await client.GET("/v1/responses/export", {
    params: { query: { category: [category], format: "ndjson" } },
    parseAs: "stream",
  });
  check(exported.response.status === 200, `responses_export: status ${exported.response.status}`);
  const stream = exported.data;
  check(stream !== undefined && stream !== null, "responses_export: no stream");
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let lines = 0;
  let chunks = 0;
  let tail = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks += 1;
    const text = tail + decoder.decode(value, { stream: true });
    const parts = text.split("\n");
    tail = parts.pop() ?? "";
    for (const part of parts) {
      if (part === "") continue;
      const row: unknown = JSON.parse(part);
      check(typeof row === "object" && row !== null && "score" in row, "responses_export: bad line");
      lines += 1;
    }
  }
  check(tail + decoder.decode() === "", "responses_export: unterminated last line");
  check(lines === total, `responses_export: ${lines} lines, expected ${total} (${chunks} chunks)`);

  // Displays, declines, eligibility, contact rules.
  const display = await call("displays_create", [201], () =>
    client.POST("/v1/displays", {
      body: { respondent_id: `ts-${run}-d1`, touchpoint: "checkout", context: { category } },
    }),
  );
  const shown = await call("displays_get", [200], () =>
    client.GET("/v1/displays/{display_id}", { params: { path: { display_id: display.id } } }),
  );
  check(shown.touchpoint === "checkout" && shown.declined_at === null, "displays_get: fields");
  const declined = await call("displays_decline", [200], () =>
    client.POST("/v1/displays/{display_id}/decline", {
      params: { path: { display_id: display.id } },
      body: {},
    }),
  );
  check(declined.declined_at !== null, "displays_decline: not declined");
  const eligibility = await call("eligibility_get", [200], () =>
    client.GET("/v1/eligibility", {
      params: { query: { respondent_id: `ts-${run}-d1`, touchpoint: "checkout" } },
    }),
  );
  check(!eligibility.eligible && eligibility.next_eligible_at !== null, "eligibility_get: eligible");
  const rules = await call("contact_rules_get", [200], () => client.GET("/v1/contact-rules"));
  const putRules = await call("contact_rules_put", [200], () =>
    client.PUT("/v1/contact-rules", {
      body: {
        after_response_days: rules.after_response_days,
        after_decline_days: rules.after_decline_days,
        after_display_days: rules.after_display_days,
        sample_rate: rules.sample_rate,
        across_touchpoints: rules.across_touchpoints,
        touchpoints: rules.touchpoints,
      },
    }),
  );
  check(putRules.sample_rate === rules.sample_rate, "contact_rules_put: changed");

  // Scores, as JSON and as CSV.
  const scores = await call("scores_get", [200], () =>
    client.GET("/v1/scores", { params: { query: { category: [category] } } }),
  );
  const overall = scores.groups[0]?.overall;
  check(overall !== undefined && overall.n === total && overall.nps !== null, "scores_get: overall");
  const byMerchant = await call("scores_get", [200], () =>
    client.GET("/v1/scores", {
      params: { query: { category: [category], group_by: ["merchant_id"], sort: "-nps" } },
    }),
  );
  check(byMerchant.groups.length === 2, "scores_get: groups");
  const scoresCsv = await call("scores_get_csv", [200], () =>
    client.GET("/v1/scores.csv", {
      params: { query: { category: [category], group_by: ["merchant_id"] } },
      parseAs: "text",
    }),
  );
  check(csvRows("scores_get_csv", scoresCsv) === 2, "scores_get_csv: rows");

  const trend = await call("scores_trend", [200], () =>
    client.GET("/v1/scores/trend", { params: { query: { category: [category], interval: "day" } } }),
  );
  check(trend.groups.length === 1 && trend.groups[0]?.overall.buckets !== undefined, "scores_trend: groups");
  const trendCsv = await call("scores_trend_csv", [200], () =>
    client.GET("/v1/scores/trend.csv", {
      params: { query: { category: [category], interval: "day" } },
      parseAs: "text",
    }),
  );
  csvRows("scores_trend_csv", trendCsv);

  const day = (offset: number) => new Date(now - offset * 86_400_000).toISOString().slice(0, 10);
  const compareQuery = {
    category: [category],
    from: day(7),
    to: day(-1),
    baseline_from: day(days + 1),
    baseline_to: day(7),
  };
  const compare = await call("scores_compare", [200], () =>
    client.GET("/v1/scores/compare", { params: { query: compareQuery } }),
  );
  check(compare.groups.length === 1, "scores_compare: groups");
  const compareCsv = await call("scores_compare_csv", [200], () =>
    client.GET("/v1/scores/compare.csv", { params: { query: compareQuery }, parseAs: "text" }),
  );
  csvRows("scores_compare_csv", compareCsv);

  const drivers = await call("drivers_get", [200], () =>
    client.GET("/v1/drivers", { params: { query: { category: [category] } } }),
  );
  const driverGroup = drivers.groups[0];
  check(driverGroup !== undefined && driverGroup.n === total, "drivers_get: group");
  check(driverGroup.dimensions.logistics.n === total, "drivers_get: logistics");
  const driversCsv = await call("drivers_get_csv", [200], () =>
    client.GET("/v1/drivers.csv", { params: { query: { category: [category] } }, parseAs: "text" }),
  );
  csvRows("drivers_get_csv", driversCsv);

  // Merchants.
  const ranked = await call("merchants_list", [200], () =>
    client.GET("/v1/merchants", { params: { query: { category, window_days: 30, min_n: 1 } } }),
  );
  check(ranked.merchants.length === 2, `merchants_list: ${ranked.merchants.length} merchants`);
  const merchantsCsv = await call("merchants_list_csv", [200], () =>
    client.GET("/v1/merchants.csv", {
      params: { query: { category, window_days: 30, min_n: 1 } },
      parseAs: "text",
    }),
  );
  check(csvRows("merchants_list_csv", merchantsCsv) === 2, "merchants_list_csv: rows");
  const merchantId = merchants[1] ?? fail("no merchant");
  const scorecard = await call("merchants_scorecard", [200], () =>
    client.GET("/v1/merchants/{merchant_id}/scorecard", {
      params: { path: { merchant_id: merchantId }, query: { category, window_days: 30, min_n: 1 } },
    }),
  );
  check(scorecard.merchant_id === merchantId && scorecard.overall.n > 0, "merchants_scorecard: body");

  // Webhooks: the hook-channel answer above became one delivery; send it again.
  const hooks = await call("webhooks_list", [200], () =>
    client.GET("/v1/webhooks", { params: { query: { limit: 100 } } }),
  );
  check(hooks.items.some((hook) => hook.id === webhook.id), "webhooks_list: missing");
  const hookPath = { webhook_id: webhook.id };
  const hook = await call("webhooks_get", [200], () =>
    client.GET("/v1/webhooks/{webhook_id}", { params: { path: hookPath } }),
  );
  check(hook.url === receiver.url, "webhooks_get: url");
  const updated = await call("webhooks_update", [200], () =>
    client.PATCH("/v1/webhooks/{webhook_id}", {
      params: { path: hookPath },
      body: { description: "drive.ts, updated" },
    }),
  );
  check(updated.description === "drive.ts, updated", "webhooks_update: description");
  let deliveries: Schemas["DeliveryOut"][] = [];
  for (let attempt = 0; attempt < 60 && deliveries.length === 0; attempt++) {
    if (attempt > 0) await sleep(500);
    const found = await call("webhooks_deliveries", [200], () =>
      client.GET("/v1/webhooks/{webhook_id}/deliveries", { params: { path: hookPath } }),
    );
    deliveries = found.items;
  }
  const delivery = deliveries[0];
  if (delivery !== undefined) {
    const retried = await call("webhooks_retry_delivery", [200], () =>
      client.POST("/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", {
        params: { path: { webhook_id: webhook.id, delivery_id: delivery.id } },
      }),
    );
    check(retried.id === delivery.id && retried.attempts === 0, "webhooks_retry_delivery: body");
    for (let waited = 0; !receiver.received.includes(delivery.id); waited += 200) {
      check(waited < 20_000, `webhooks_retry_delivery: ${delivery.id} never reached the receiver`);
      await sleep(200);
    }
  } else {
    // No dispatcher reached a delivery: the documented answer for an unknown one.
    await callStatus("webhooks_retry_delivery", [404], () =>
      client.POST("/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", {
        params: { path: { webhook_id: webhook.id, delivery_id: "msg_none" } },
      }),
    );
  }
  await callStatus("webhooks_delete", [204], () =>
    client.DELETE("/v1/webhooks/{webhook_id}", { params: { path: hookPath } }),
  );
  receiver.close();

  // Alerts.
  const alert = await call("alerts_create", [201], () =>
    client.POST("/v1/alerts", {
      body: {
        name: `drive.ts ${run}`,
        metric: "overall",
        filters: { category: [category] },
        group_by: [],
        interval: "day",
        tz: "UTC",
        condition: { type: "below", value: 100 },
        min_n: 1,
        enabled: true,
      },
    }),
  );
  const alertPath = { alert_id: alert.id };
  const alerts = await call("alerts_list", [200], () => client.GET("/v1/alerts"));
  check(alerts.items.some((item) => item.id === alert.id), "alerts_list: missing");
  const gotAlert = await call("alerts_get", [200], () =>
    client.GET("/v1/alerts/{alert_id}", { params: { path: alertPath } }),
  );
  check(gotAlert.condition.type === "below", "alerts_get: condition");
  const renamed = await call("alerts_update", [200], () =>
    client.PATCH("/v1/alerts/{alert_id}", {
      params: { path: alertPath },
      body: { name: `drive.ts ${run} renamed` },
    }),
  );
  check(renamed.name.endsWith("renamed"), "alerts_update: name");
  const evaluation = await call("alerts_evaluate", [200, 201], () =>
    client.POST("/v1/alerts/{alert_id}/evaluate", {
      params: { path: alertPath, query: { at: new Date(now).toISOString() } },
    }),
  );
  check(evaluation.alert_id === alert.id, "alerts_evaluate: alert id");
  const events = await call("alerts_events", [200], () =>
    client.GET("/v1/alerts/{alert_id}/events", { params: { path: alertPath } }),
  );
  check(events.items.length >= 1, "alerts_events: none");
  await callStatus("alerts_delete", [204], () =>
    client.DELETE("/v1/alerts/{alert_id}", { params: { path: alertPath } }),
  );

  // Privacy and audit.
  const erased = await call("respondents_erase", [200], () =>
    client.DELETE("/v1/respondents/{respondent_id}", { params: { path: { respondent_id: respondent } } }),
  );
  check(erased.responses_erased === 1, `respondents_erase: ${erased.responses_erased}`);
  const audit = await call("audit_list", [200], () =>
    client.GET("/v1/audit", { params: { query: { limit: 20 } } }),
  );
  check(audit.items.length > 0, "audit_list: empty");

  // Plain-text operations.
  const metrics = await call("ops_metrics", [200], () => client.GET("/metrics", { parseAs: "text" }));
  check(metrics.includes("nps_http_requests_total"), "ops_metrics: counters");
  const widget = await call("widget_script", [200], () =>
    client.GET("/widget/nps-survey.js", { parseAs: "text" }),
  );
  check(widget.includes("nps-survey"), "widget_script: module");
}

main().catch((error: unknown) => {
  console.error(error instanceof DriveError ? `FAILED ${error.message}` : error);
  process.exit(1);
});
