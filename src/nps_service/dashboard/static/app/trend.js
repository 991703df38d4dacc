// The trend (buckets with their interval band, and the fitted slope with its significance)
// and the change against the previous period, per metric.
import { trendChart } from "./charts.js";
import { h, figure } from "./dom.js";
import * as fmt from "./format.js";
import { t } from "./i18n.js";
import { METRICS, addDays, daysBetween } from "./state.js";

const pick = (group, metric) => (metric === "overall" ? group.overall : group.dimensions[metric]);

function slopeRow(metric, fit, unit) {
  const cells = fit.slope === null
    ? [h("td", { colSpan: 3 }, t("tooFewBuckets"))]
    : [
        h("td", {}, figure(`trend.${metric}.slope`, fit.slope, `${fmt.slope(fit.slope)} ${t("perBucket", { unit: t(unit) })}`)),
        h("td", {}, fmt.interval(fit.slope_ci_low, fit.slope_ci_high, true)),
        h(
          "td",
          { className: fit.significant ? (fit.slope > 0 ? "up" : "down") : "flat" },
          figure(`trend.${metric}.significant`, fit.significant, fit.significant ? `${t(fit.slope > 0 ? "rising" : "falling")}, ${t("significant")}` : t("notSignificant")),
          " ",
          figure(`trend.${metric}.p_value`, fit.p_value, `(${fmt.pValue(fit.p_value)})`, "muted"),
        ),
      ];
  return h("tr", { dataset: { metric } }, h("th", { scope: "row" }, t(metric)), cells);
}

/** The series table for screen readers (and tests): every bucket's figures. */
function seriesTable(groups, metric, unit) {
  return h(
    "table",
    { className: "visually-hidden", dataset: { series: metric } },
    h("caption", {}, `${t("trend")}: ${t(metric)}`),
    h("tr", {}, ["", "NPS", t("band"), "n"].map((text) => h("th", { scope: "col" }, text))),
    groups.map((group) => {
      const value = pick(group, metric);
      return h(
        "tr",
        { dataset: { bucket: group.key.bucket } },
        h("th", { scope: "row" }, fmt.bucket(group.key.bucket, unit)),
        h("td", {}, figure("series.nps", value.nps, fmt.nps(value.nps))),
        h("td", {}, fmt.interval(value.ci_low, value.ci_high)),
        h("td", {}, figure("series.n", value.n, fmt.count(value.n))),
      );
    }),
  );
}

/** The trend section: the chart of the chosen metric, then every metric's slope. */
export function renderTrend(canvas, series, trend, state) {
  const unit = state.interval;
  trendChart(canvas, series.groups, state.metric, unit);
  const fits = trend.groups[0];
  const rows = fits ? METRICS.map((metric) => slopeRow(metric, pick(fits, metric), unit)) : [];
  return [
    seriesTable(series.groups, state.metric, unit),
    h(
      "div",
      { className: "scroll" },
      h(
        "table",
        { className: "figures" },
        h("tr", {}, [t("trendMetric"), t("slope"), t("interval95", { level: Math.round(trend.query.confidence * 1000) / 10 }), ""].map((text) => h("th", { scope: "col" }, text))),
        rows,
      ),
    ),
  ];
}

function compareRow(metric, change, alpha, prefix) {
  const significant = change.p_value !== null && change.p_value < alpha;
  const direction = change.delta > 0 ? "up" : "down";
  return h(
    "tr",
    { dataset: { metric } },
    h("th", { scope: "row" }, t(metric)),
    h("td", {}, figure(`${prefix}.${metric}.current`, change.current.nps, fmt.nps(change.current.nps)), h("small", {}, ` n = ${fmt.count(change.current.n)}`)),
    h("td", {}, figure(`${prefix}.${metric}.baseline`, change.baseline.nps, fmt.nps(change.baseline.nps)), h("small", {}, ` n = ${fmt.count(change.baseline.n)}`)),
    h(
      "td",
      {},
      figure(`${prefix}.${metric}.delta`, change.delta, fmt.delta(change.delta), significant ? direction : "flat"),
      h("small", {}, ` (${fmt.interval(change.delta_ci_low, change.delta_ci_high, true)})`),
    ),
    h(
      "td",
      { className: significant ? direction : "flat" },
      change.p_value === null
        ? h("span", { className: "muted" }, t("noComparison"))
        : [figure(`${prefix}.${metric}.significant`, significant, significant ? t("significant") : t("notSignificant")), " ", figure(`${prefix}.${metric}.p_value`, change.p_value, `(${fmt.pValue(change.p_value)})`, "muted")],
    ),
  );
}

/** The change of each metric against the period of the same length just before. */
export function renderCompare(compare, state) {
  const group = compare.groups[0];
  if (!group) return [h("p", { className: "note" }, t("noData"))];
  const alpha = 1 - compare.query.confidence;
  const days = daysBetween(state.from, state.to);
  const current = `${state.from} – ${state.to}`;
  const baseline = `${addDays(state.from, -days)} – ${addDays(state.from, -1)}`;
  return [
    h("p", { className: "caption" }, t("changeCaption", { current, baseline })),
    changeTable(group, alpha, "compare"),
  ];
}

/** Each metric's change, marked significant at the level of the request. */
export function changeTable(group, alpha, prefix) {
  return h(
    "div",
    { className: "scroll" },
    h(
      "table",
      { className: "figures" },
      h("tr", {}, ["", t("current"), t("baseline"), `${t("delta")} (${t("deltaInterval")})`, ""].map((text) => h("th", { scope: "col" }, text))),
      METRICS.map((metric) => compareRow(metric, pick(group, metric), alpha, prefix)),
    ),
  );
}
