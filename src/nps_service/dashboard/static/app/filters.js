// The filter bar: range, time zone, buckets, minimum answers and every tag. A change is
// applied at once and written to the URL fragment (so the view can be shared).
import { get } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { INTERVALS, TAGS, addDays } from "./state.js";

const LISTED = TAGS.filter((tag) => tag !== "merchant_id"); // merchants: too many to list
const ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Asia/Kolkata", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC"];
const cache = new Map();

/** A tag's values in the range, largest first (one grouped score query, cached). */
export function tagValues(state, tag) {
  const id = `${state.from}|${state.to}|${state.tz}|${tag}`;
  if (!cache.has(id)) {
    const query = { from: state.from, to: addDays(state.to, 1), tz: state.tz, min_n: 1, sort: "-n", group_by: tag };
    const values = get("v1/scores", query).then((scores) => scores.groups.map((group) => group.key[tag]).filter((value) => value !== null));
    values.catch(() => cache.delete(id));
    cache.set(id, values);
  }
  return cache.get(id);
}

/** Fill each tag's list once its values arrive (after the figures: they come first). */
export function fillTagOptions(container, state) {
  for (const tag of LISTED) {
    tagValues(state, tag)
      .then((values) => {
        const select = container.querySelector(`select[name=${tag}]`);
        if (!select) return;
        const choices = state[tag] && !values.includes(state[tag]) ? [state[tag], ...values] : values;
        select.replaceChildren(h("option", { value: "" }, t("all")), ...choices.map((value) => h("option", { value, selected: value === state[tag] }, value)));
      })
      .catch(() => {});
  }
}

function field(name, label, control) {
  return h("label", { className: `field field-${name}` }, h("span", {}, label), control);
}

function tagSelect(tag, state, onChange) {
  const choices = state[tag] ? [state[tag]] : [];
  return h(
    "select",
    { name: tag, onchange: (event) => onChange({ [tag]: event.target.value, ...(tag === "category" ? { mcat: "", card: "" } : {}) }) },
    h("option", { value: "" }, t("all")),
    choices.map((value) => h("option", { value, selected: value === state[tag] }, value)),
  );
}

export function renderFilters(container, state, onChange) {
  const input = (name, props) => h("input", { name, value: state[name], onchange: (event) => event.target.reportValidity() && onChange({ [name]: event.target.value.trim() }), ...props });
  const zones = h("datalist", { id: "zones" }, ZONES.map((zone) => h("option", { value: zone })));
  const fields = [
    field("from", t("from"), input("from", { type: "date", required: true, max: state.to })),
    field("to", t("to"), input("to", { type: "date", required: true, min: state.from })),
    field("tz", t("tz"), input("tz", { type: "text", list: "zones", required: true, autocomplete: "off", spellcheck: false })),
    field("interval", t("interval"), h("select", { name: "interval", onchange: (event) => onChange({ interval: event.target.value }) }, INTERVALS.map((unit) => h("option", { value: unit, selected: unit === state.interval }, t(unit))))),
    field("min_n", t("minN"), input("min_n", { type: "number", min: 1, step: 1, required: true })),
    ...LISTED.map((tag) => field(tag, t(tag), tagSelect(tag, state, onChange))),
    field("merchant_id", t("merchant_id"), input("merchant_id", { type: "search", placeholder: "m_42", autocomplete: "off", spellcheck: false })),
  ];
  container.replaceChildren(zones, ...fields);
}
