// The global NPS and the four dimensions, each with n and its interval, and the response rate.
import { h, figure } from "./dom.js";
import * as fmt from "./format.js";
import { t } from "./i18n.js";
import { DIMENSIONS } from "./state.js";

/** Where a value sits on the -100..100 scale, as a CSS percentage. */
const position = (value) => `${Math.max(0, Math.min(100, (value + 100) / 2))}%`;

/** The interval as a bar on the -100..100 scale: a wide interval is visibly wide. */
export function track(metric) {
  if (metric?.ci_low === null || metric?.ci_low === undefined) return h("div", { className: "track empty", "aria-hidden": "true" });
  const left = position(metric.ci_low);
  const width = `${(metric.ci_high - metric.ci_low) / 2}%`;
  return h(
    "div",
    { className: "track", "aria-hidden": "true" },
    h("span", { className: "zero" }),
    h("span", { className: "range", style: { left, width } }),
    metric.nps === null ? null : h("span", { className: "point", style: { left: position(metric.nps) } }),
  );
}

/** The note under a figure that must not be read as a firm number, or null. */
export function caution(metric, minN) {
  if (!metric || metric.n === 0) return h("p", { className: "note" }, t("noAnswers"));
  if (metric.suppressed) return h("p", { className: "note", dataset: { suppressed: "true" } }, t("suppressed", { min_n: minN, n: fmt.count(metric.n) }));
  if (fmt.isWide(metric)) return h("p", { className: "note wide" }, t("wide"));
  return null;
}

function mix(metric, prefix) {
  if (metric.suppressed || !metric.n) return null;
  const parts = ["promoter", "passive", "detractor"];
  return h(
    "div",
    { className: "mix" },
    h("div", { className: "bar", "aria-hidden": "true" }, parts.map((part) => h("span", { className: part, style: { width: `${metric[`${part}_share`] * 100}%` } }))),
    h("ul", { className: "legend" }, parts.map((part) => h("li", { className: part }, `${t(`${part}s`)} `, figure(`${prefix}.${part}_share`, metric[`${part}_share`], fmt.percent(metric[`${part}_share`]))))),
  );
}

/** One metric's card: NPS, interval, n, the class mix, and a caution when needed. */
export function metricCard(name, metric, query, { big = false } = {}) {
  const uncertain = metric.suppressed || fmt.isWide(metric) || metric.n === 0;
  return h(
    "article",
    { className: `metric${big ? " big" : ""}${uncertain ? " uncertain" : ""}`, dataset: { metric: name } },
    h("h3", {}, t(name)),
    h("p", { className: "score" }, figure(`${name}.nps`, metric.nps, fmt.nps(metric.nps))),
    h(
      "p",
      { className: "ci" },
      `${t("interval95", { level: Math.round(query.confidence * 1000) / 10 })} `,
      figure(`${name}.ci_low`, metric.ci_low, fmt.nps(metric.ci_low)),
      metric.ci_low === null ? null : " – ",
      figure(`${name}.ci_high`, metric.ci_high, metric.ci_low === null ? "" : fmt.nps(metric.ci_high)),
    ),
    track(metric),
    h("p", { className: "n" }, "n = ", figure(`${name}.n`, metric.n, fmt.count(metric.n))),
    mix(metric, name),
    caution(metric, query.min_n),
  );
}

function responseRate(displays) {
  if (!displays) return null;
  if (!displays.shown) return h("article", { className: "metric rate", dataset: { metric: "displays" } }, h("h3", {}, t("responseRate")), h("p", { className: "note" }, t("noDisplays")));
  return h(
    "article",
    { className: "metric rate", dataset: { metric: "displays" } },
    h("h3", {}, t("responseRate")),
    h("p", { className: "score" }, figure("displays.response_rate", displays.response_rate, fmt.percent(displays.response_rate))),
    h(
      "p",
      { className: "n" },
      figure("displays.shown", displays.shown, fmt.count(displays.shown)), " / ",
      figure("displays.answered", displays.answered, fmt.count(displays.answered)), " / ",
      figure("displays.declined", displays.declined, fmt.count(displays.declined)),
    ),
    h("p", { className: "note plain" }, t("responseRateDetail", { shown: fmt.count(displays.shown), answered: fmt.count(displays.answered), declined: fmt.count(displays.declined) })),
  );
}

/** The summary section from one `/v1/scores` response without interval or group_by. */
export function renderSummary(scores) {
  const group = scores.groups[0];
  if (!group) return [h("p", { className: "note" }, t("noData"))];
  return [
    h("div", { className: "headline" }, metricCard("overall", group.overall, scores.query, { big: true }), responseRate(group.displays)),
    h("div", { className: "dimensions" }, DIMENSIONS.map((name) => metricCard(name, group.dimensions[name], scores.query))),
  ];
}
