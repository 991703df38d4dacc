// The view's state lives in the URL fragment (#from=...&tz=...), so a view can be shared and
// bookmarked; the API key never does (it is kept in sessionStorage, see `key` below).

export const TAGS = ["merchant_id", "category", "channel", "region", "platform", "touchpoint"];
export const METRICS = ["overall", "logistics", "product", "service", "app"];
export const DIMENSIONS = METRICS.slice(1);
export const INTERVALS = ["day", "week", "month"];
export const SORTS = ["-ci_low", "-nps", "-n", "-composite"];
const DEFAULTS = {
  tz: "Asia/Shanghai",
  interval: "week",
  metric: "overall",
  lang: "zh-CN",
  min_n: "30",
  msort: "-ci_low",
};
// The default range: the last 90 local days, today included.
export const DEFAULT_DAYS = 90;
const FIELDS = ["from", "to", ...Object.keys(DEFAULTS), ...TAGS, "mcat", "card"];
const KEY_ITEM = "nps-dashboard:key";

/** Today's date (YYYY-MM-DD) in `tz`. */
export function today(tz) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

/** `date` plus `days` days, both YYYY-MM-DD. */
export function addDays(date, days) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to`, both included. */
export function daysBetween(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 864e5) + 1;
}

function validZone(tz) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The state in the fragment, completed with the defaults. */
export function readState() {
  const params = new URLSearchParams(location.hash.slice(1));
  const state = { ...DEFAULTS };
  for (const field of FIELDS) {
    const value = params.get(field);
    if (value) state[field] = value;
  }
  if (!validZone(state.tz)) state.tz = DEFAULTS.tz;
  if (!INTERVALS.includes(state.interval)) state.interval = DEFAULTS.interval;
  if (!METRICS.includes(state.metric)) state.metric = DEFAULTS.metric;
  if (!SORTS.includes(state.msort)) state.msort = DEFAULTS.msort;
  if (!/^[1-9]\d{0,6}$/.test(state.min_n)) state.min_n = DEFAULTS.min_n;
  if (!DATE.test(state.to ?? "")) state.to = today(state.tz);
  if (!DATE.test(state.from ?? "") || state.from > state.to) state.from = addDays(state.to, 1 - DEFAULT_DAYS);
  return state;
}

/** The fragment for `state`: the range and zone always (a shared link shows the same days). */
export function fragment(state) {
  const params = new URLSearchParams();
  for (const field of FIELDS) {
    const value = state[field];
    if (!value) continue;
    if (field in DEFAULTS && value === DEFAULTS[field] && field !== "tz") continue;
    params.set(field, value);
  }
  return `#${params.toString()}`;
}

export function writeState(state, { replace = false } = {}) {
  const next = fragment(state);
  if (next === location.hash) return false;
  if (replace) history.replaceState(null, "", next);
  else history.pushState(null, "", next);
  return true;
}

/** The query every endpoint shares: range (the API's `to` is exclusive), zone, tags. */
export function scope(state) {
  const query = { from: state.from, to: addDays(state.to, 1), tz: state.tz };
  for (const tag of TAGS) if (state[tag]) query[tag] = state[tag];
  return query;
}

export const key = {
  get: () => sessionStorage.getItem(KEY_ITEM),
  set: (value) => sessionStorage.setItem(KEY_ITEM, value),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
};
