// Small DOM helpers: elements are built with properties, never from HTML strings, so no
// text from the API can become markup.
import { raw } from "./format.js";

// Attributes whose DOM property cannot be assigned (e.g. `input.list` is read-only).
const READ_ONLY = new Set(["list", "form"]);

/** `h("p", {className: "x", dataset: {a: "1"}}, "text", child)`. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "style") Object.assign(element.style, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name in element && !READ_ONLY.has(name)) element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** A figure: its text as formatted, its raw API value in `data-value` (tests read it). */
export function figure(name, value, text, className = "") {
  return h("span", { className: `figure ${className}`.trim(), dataset: { figure: name, value: raw(value) } }, text);
}

/** Replace a section's body. */
export function fill(container, ...children) {
  container.replaceChildren(...children.flat().filter(Boolean));
}
