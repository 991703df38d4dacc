// A category's merchants ranked (by the interval's lower bound by default, so three
// promoters never top hundreds of answers) and, on a click, one merchant's scorecard.
import { h, figure } from "./dom.js";
import * as fmt from "./format.js";
import { t } from "./i18n.js";
import { SORTS, DIMENSIONS, addDays } from "./state.js";
import { metricCard, track } from "./summary.js";
import { changeTable } from "./trend.js";

const SORT_LABELS = { "-ci_low": "sortCiLow", "-nps": "sortNps", "-n": "sortN", "-composite": "sortComposite" };

/** The ranking's own controls: which category, and the order. */
export function rankingControls(state, categories, onChange) {
  const category = h(
    "select",
    { name: "mcat", onchange: (event) => onChange({ mcat: event.target.value, card: "" }) },
    categories.map((name) => h("option", { value: name, selected: name === state.mcat }, name)),
  );
  const sort = h(
    "select",
    { name: "msort", onchange: (event) => onChange({ msort: event.target.value }) },
    SORTS.map((value) => h("option", { value, selected: value === state.msort }, t(SORT_LABELS[value]))),
  );
  return h("div", { className: "controls" }, h("label", {}, t("rankCategory"), category), h("label", {}, t("sortBy"), sort));
}

export function renderRanking(ranking, state, onOpen) {
  const query = ranking.query;
  const rows = ranking.merchants.map((merchant) =>
    h(
      "tr",
      { dataset: { merchant: merchant.merchant_id }, className: merchant.merchant_id === state.card ? "selected" : "" },
      h("td", {}, figure(`merchant.${merchant.merchant_id}.rank`, merchant.rank, String(merchant.rank))),
      h(
        "th",
        { scope: "row" },
        h("button", { type: "button", className: "link", "aria-label": t("openScorecard", { id: merchant.merchant_id }), onclick: () => onOpen(merchant.merchant_id) }, merchant.merchant_id),
      ),
      h("td", { className: fmt.isWide(merchant.overall) ? "uncertain" : "" }, figure(`merchant.${merchant.merchant_id}.nps`, merchant.overall.nps, fmt.nps(merchant.overall.nps))),
      h(
        "td",
        { className: "interval-cell" },
        figure(`merchant.${merchant.merchant_id}.ci_low`, merchant.overall.ci_low, fmt.nps(merchant.overall.ci_low)),
        " – ",
        figure(`merchant.${merchant.merchant_id}.ci_high`, merchant.overall.ci_high, fmt.nps(merchant.overall.ci_high)),
        track(merchant.overall),
      ),
      h("td", {}, figure(`merchant.${merchant.merchant_id}.n`, merchant.overall.n, fmt.count(merchant.overall.n))),
      h("td", {}, figure(`merchant.${merchant.merchant_id}.composite`, merchant.composite, fmt.nps(merchant.composite))),
    ),
  );
  return [
    h("p", { className: "caption" }, figure("merchants.ranked", query.merchants_ranked, t("rankedOf", { count: fmt.count(query.merchants_ranked) })), " · ", t("windowNote", { from: addDays(state.to, 1 - query.window_days), to: state.to, days: query.window_days })),
    h(
      "div",
      { className: "scroll" },
      h(
        "table",
        { className: "figures ranking" },
        h("tr", {}, [t("rank"), t("merchant_id"), "NPS", t("interval95", { level: Math.round(query.confidence * 1000) / 10 }), "n", t("composite")].map((text) => h("th", { scope: "col" }, text))),
        rows,
      ),
    ),
  ];
}

export function renderScorecard(card, state, onClose) {
  const rank = card.rank;
  const query = { confidence: card.query?.confidence ?? 0.95, min_n: rank.min_n };
  const standing = rank.percentile === null
    ? h("p", { className: "note" }, t("belowMinN", { min_n: rank.min_n }))
    : h(
        "p",
        { className: "standing" },
        figure("scorecard.rank.position", rank.position, t("rankPosition", { position: rank.position, of: rank.of })),
        " · ",
        figure("scorecard.rank.percentile", rank.percentile, t("percentile", { value: fmt.percentile(rank.percentile) })),
      );
  return [
    h(
      "header",
      { className: "card-head" },
      h("h3", {}, `${t("scorecard")}: `, figure("scorecard.merchant_id", card.merchant_id, card.merchant_id), ` · ${card.category ?? ""}`),
      h("button", { type: "button", className: "secondary", onclick: onClose }, t("close")),
    ),
    standing,
    h("p", { className: "caption" }, `${t("composite")} `, figure("scorecard.composite", card.composite.score, fmt.nps(card.composite.score)), ` (${fmt.delta(card.composite.delta)} ${t("vsBaseline", { days: card.baseline_window.days })})`),
    h("div", { className: "dimensions five" }, metricCard("overall", card.overall, query), DIMENSIONS.map((name) => metricCard(name, card.dimensions[name], query))),
    h("h3", {}, t("change")),
    changeTable(card.change, 1 - query.confidence, "scorecard.change"),
  ];
}
