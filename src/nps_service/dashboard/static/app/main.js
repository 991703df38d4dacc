// The NPS dashboard: plain ES modules, no build step, every file served by the service.
//
// Charting library: Chart.js 4 (MIT, vendored as static/vendor/chart.js-4.6.1/chart.umd.min.js,
// 205 KB minified, 69 KB gzipped). Chosen over Apache ECharts (1.1 MB minified, ~350 KB
// gzipped: five times the weight for features this page does not use: maps, 3D, themes)
// and over uPlot (~50 KB, but time series only: the importance × NPS scatter would have to
// be drawn by hand). Chart.js draws the three kinds of chart the page needs (a line with
// an interval band, a labelled scatter, axes with our own formatting) in one maintained
// library with releases every few months, resizes with its container (phone width), and
// builds no styles or scripts of its own, so the page keeps a strict Content-Security-Policy.
//
// Modules: state.js (the URL fragment, the key), api.js (GET /v1/... with the key),
// format.js (every number's text, once), i18n.js (zh-CN, en), dom.js, summary.js,
// trend.js (trend and change), drivers.js, merchants.js, charts.js (Chart.js), filters.js.
import { ApiError, get } from "./api.js";
import { fill, h } from "./dom.js";
import { renderDrivers } from "./drivers.js";
import { fillTagOptions, renderFilters, tagValues } from "./filters.js";
import { setLanguage, t } from "./i18n.js";
import { rankingControls, renderRanking, renderScorecard } from "./merchants.js";
import { daysBetween, key, readState, scope, writeState, addDays } from "./state.js";
import { renderSummary } from "./summary.js";
import { renderCompare, renderTrend } from "./trend.js";

const $ = (selector) => document.querySelector(selector);
let generation = 0;

function translateStatic() {
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  document.title = t("title");
}

function showKeyForm(message = "") {
  $("#login").hidden = false;
  $("#board").hidden = true;
  $("#sign-out").hidden = true;
  $("#key-error").textContent = message;
  $("#key").focus();
}

function update(changes) {
  const state = { ...readState(), ...changes };
  if (writeState(state)) load();
}

/** Run one section: its spinner, its data, its errors (a 401 asks for the key again). */
async function section(id, task, current) {
  const body = $(`#${id} .body`);
  body.setAttribute("aria-busy", "true");
  try {
    const children = await task();
    if (current !== generation) return;
    fill(body, children);
  } catch (error) {
    if (current !== generation) return;
    if (error instanceof ApiError && error.status === 401) {
      key.clear();
      showKeyForm(t("keyUnknown"));
      return;
    }
    if (error instanceof ApiError && error.status === 403 && id !== "merchants") {
      key.clear();
      showKeyForm(t("keyScope"));
      return;
    }
    const detail = error instanceof ApiError && error.status === 403 ? t("merchantsForbidden") : t("failed", { detail: error.message });
    fill(body, h("p", { className: "error", role: "alert" }, detail));
  } finally {
    body.removeAttribute("aria-busy");
  }
}

async function rankingSection(state, current) {
  const categories = await tagValues(state, "category");
  const mcat = state.mcat || state.category || categories[0] || "";
  const controls = rankingControls({ ...state, mcat }, categories, update);
  if (!mcat) return [controls, h("p", { className: "note" }, t("chooseCategory"))];
  const days = Math.min(366, daysBetween(state.from, state.to));
  const window = { window_days: days, end: addDays(state.to, 1), tz: state.tz, min_n: state.min_n };
  const ranking = await get("v1/merchants", { ...window, category: mcat, sort: state.msort, limit: 20 });
  const children = [controls, ...renderRanking(ranking, state, (id) => update({ card: id }))];
  const card = $("#scorecard");
  if (state.card) {
    const scorecard = await get(`v1/merchants/${encodeURIComponent(state.card)}/scorecard`, { ...window, category: mcat, rank_by: state.msort });
    if (current === generation) {
      fill(card, renderScorecard(scorecard, state, () => update({ card: "" })));
      card.hidden = false;
    }
  } else {
    card.hidden = true;
  }
  return children;
}

async function load() {
  const current = ++generation;
  const state = readState();
  writeState(state, { replace: true });
  setLanguage(state.lang);
  translateStatic();
  if (!key.get()) return showKeyForm();
  $("#login").hidden = true;
  $("#board").hidden = false;
  $("#sign-out").hidden = false;
  document.body.dataset.state = "loading";
  const base = { ...scope(state), min_n: state.min_n };
  renderFilters($("#filters"), state, update);
  $("#metric").value = state.metric;
  const sections = [
    section("summary", async () => renderSummary(await get("v1/scores", base)), current),
    section(
      "trend",
      async () => {
        const query = { ...base, interval: state.interval };
        const [series, trend] = await Promise.all([get("v1/scores", query), get("v1/scores/trend", query)]);
        return renderTrend($("#trend-chart"), series, trend, state);
      },
      current,
    ),
    section("compare", async () => renderCompare(await get("v1/scores/compare", base), state), current),
    section(
      "drivers",
      async () => {
        const drivers = renderDrivers($("#drivers-chart"), await get("v1/drivers", base), state.min_n);
        $("#drivers-chart").parentElement.hidden = !drivers.ok;
        return drivers.body;
      },
      current,
    ),
    section("merchants", () => rankingSection(state, current), current),
  ];
  await Promise.allSettled(sections);
  if (current !== generation) return;
  document.body.dataset.state = "ready";
  performance.mark("nps:rendered");
  fillTagOptions($("#filters"), state);
}

function start() {
  $("#login").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("#key").value.trim();
    $("#key").value = "";
    if (!value) return;
    key.set(value);
    load();
  });
  $("#sign-out").addEventListener("click", () => {
    key.clear();
    generation++;
    showKeyForm();
  });
  $("#language").addEventListener("click", () => update({ lang: readState().lang === "en" ? "zh-CN" : "en" }));
  $("#metric").addEventListener("change", (event) => update({ metric: event.target.value }));
  window.addEventListener("popstate", load);
  window.addEventListener("hashchange", load);
  load();
}

start();
