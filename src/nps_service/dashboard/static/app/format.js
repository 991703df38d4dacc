// The one place numbers become text. Values arrive unrounded from the API and are rounded
// here, once, for display; the raw value travels alongside in a `data-value` attribute.
import { language } from "./i18n.js";

export const DASH = "—";
// An interval wider than this many NPS points is flagged as wide (±10 around the score).
export const WIDE_INTERVAL = 20;

const formatters = new Map();
function numberFormat(options) {
  const key = language() + JSON.stringify(options);
  if (!formatters.has(key)) formatters.set(key, new Intl.NumberFormat(language(), options));
  return formatters.get(key);
}

function missing(value) {
  return value === null || value === undefined || Number.isNaN(value);
}

/** An NPS on the -100..100 scale, one decimal: "34.9", "-15.4". */
export function nps(value) {
  if (missing(value)) return DASH;
  return numberFormat({ minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value);
}

/** A change in NPS points, always signed: "+1.2", "-4.0". */
export function delta(value) {
  if (missing(value)) return DASH;
  return numberFormat({ minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: "exceptZero" }).format(value);
}

/** An interval "23.6 – 45.4" (signed with `signed`). */
export function interval(low, high, signed = false) {
  if (missing(low) || missing(high)) return DASH;
  const one = signed ? delta : nps;
  return `${one(low)} – ${one(high)}`;
}

/** A count with grouping: "30,000". */
export function count(value) {
  if (missing(value)) return DASH;
  return numberFormat({ maximumFractionDigits: 0 }).format(value);
}

/** A share in 0..1 as a percentage: "46.8%". */
export function percent(value) {
  if (missing(value)) return DASH;
  return numberFormat({ style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value);
}

/** A percentile in 0..100: "78". */
export function percentile(value) {
  if (missing(value)) return DASH;
  return numberFormat({ maximumFractionDigits: 0 }).format(value);
}

/** A p value: "p < 0.001", "p = 0.047". */
export function pValue(value) {
  if (missing(value)) return DASH;
  if (value < 0.001) return "p < 0.001";
  return `p = ${numberFormat({ minimumFractionDigits: 3, maximumFractionDigits: 3 }).format(value)}`;
}

/** A plain number with `digits` decimals (R², composite scores). */
export function decimal(value, digits = 2) {
  if (missing(value)) return DASH;
  return numberFormat({ minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/** A slope in points per bucket: "+0.04". */
export function slope(value) {
  if (missing(value)) return DASH;
  return numberFormat({ minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: "exceptZero" }).format(value);
}

/** A local date "YYYY-MM-DD" (a bucket's first day) as the interval reads it. */
export function bucket(text, unit) {
  const [year, month, day] = text.split("-").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  const options = unit === "month" ? { year: "numeric", month: "short" } : { month: "short", day: "numeric" };
  return new Intl.DateTimeFormat(language(), { ...options, timeZone: "UTC" }).format(date);
}

/** Whether an interval is too wide to read its centre as a firm figure. */
export function isWide(metric) {
  return !missing(metric?.ci_low) && !missing(metric?.ci_high) && metric.ci_high - metric.ci_low > WIDE_INTERVAL;
}

/** The raw value for a `data-value` attribute: exactly what the API sent. */
export function raw(value) {
  return missing(value) ? "" : String(value);
}
