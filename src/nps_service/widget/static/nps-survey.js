/**
 * <nps-survey>: the nps-service survey prompt as a web component (an ES module, no framework).
 *
 *   <script type="module" src="https://nps.example.com/widget/nps-survey.js"></script>
 *   <nps-survey endpoint="https://nps.example.com" key="INGEST_KEY" respondent-id="u_123"
 *     touchpoint="post_delivery" merchant-id="m_42" dimensions="logistics product" lang="en">
 *   </nps-survey>
 *
 * Flow: ask /v1/eligibility; if eligible, record a display (POST /v1/displays) and only then
 * show the prompt, so every prompt a person saw is counted. Submit posts the answer with the
 * display's id; Close (or Escape) declines the display.
 *
 * Events, dispatched on the element (they bubble and cross shadow boundaries):
 *   nps-survey:shown      {display_id}
 *   nps-survey:answered   {id, display_id, score}
 *   nps-survey:declined   {display_id}       (at once; the decline is recorded in the background)
 *   nps-survey:ineligible {reason, next_eligible_at}
 *     reason is the service's ("answered_recently", ...) or "unavailable" when the service
 *     could not be asked or the display could not be recorded (network error, non-2xx, missing
 *     attributes). Nothing is rendered then, and nothing is logged above console.debug: a
 *     survey that cannot run must never disturb the page it sits in.
 *
 * Attributes are read once, when the element is first connected.
 * Theming: --nps-accent, --nps-background, --nps-text, --nps-muted, --nps-radius, --nps-font.
 * Only the given endpoint is ever contacted.
 */

const TEXT = {
  "zh-CN": {
    question: "您有多大可能向朋友推荐我们？",
    low: "不太可能",
    high: "非常可能",
    aspects: "为以下方面打分（选填）",
    logistics: "物流",
    product: "商品",
    service: "服务",
    app: "应用",
    comment: "还有什么想告诉我们的吗？（选填）",
    submit: "提交",
    close: "关闭",
    thanks: "谢谢您的反馈！",
    retry: "提交失败，请稍后再试。",
    failed: "抱歉，您的反馈无法提交。",
  },
  en: {
    question: "How likely are you to recommend us to a friend?",
    low: "Not at all likely",
    high: "Extremely likely",
    aspects: "Rate a few aspects (optional)",
    logistics: "Logistics",
    product: "Product",
    service: "Service",
    app: "App",
    comment: "Anything to add? (optional)",
    submit: "Submit",
    close: "Close",
    thanks: "Thank you for your feedback!",
    retry: "Your answer could not be sent. Please try again.",
    failed: "Sorry, your answer could not be sent.",
  },
};

const DIMENSIONS = ["logistics", "product", "service", "app"];
/** Context field → attribute carrying it. */
const CONTEXT = {
  merchant_id: "merchant-id",
  category: "category",
  channel: "channel",
  region: "region",
  platform: "platform",
  order_id: "order-id",
};
const ATTEMPTS = 4;
const BASE_DELAY_MS = 400;
const MAX_DELAY_MS = 8000;

const STYLE = `
:host { display: block; font-family: var(--nps-font, system-ui, sans-serif); }
:host([hidden]), [hidden] { display: none !important; }
.card {
  container-type: inline-size; position: relative; box-sizing: border-box; max-width: 40rem;
  margin: 0 auto; padding: 1rem; border-radius: var(--nps-radius, 12px);
  background: var(--nps-background, #fff); color: var(--nps-text, #1f2328);
  box-shadow: 0 2px 12px rgb(0 0 0 / 0.15); animation: nps-in 180ms ease-out;
}
@keyframes nps-in { from { opacity: 0; transform: translateY(8px); } }
@media (prefers-reduced-motion: reduce) { .card { animation: none; } }
.question { margin: 0 2.5rem 0.75rem 0; font-size: 1.05rem; font-weight: 600; }
.label { display: block; margin: 0.75rem 0 0.35rem; font-size: 0.95rem; }
.hint { margin: 1rem 0 0; color: var(--nps-muted, #59636e); font-size: 0.85rem; }
.scale { display: grid; grid-template-columns: repeat(11, minmax(2rem, 1fr)); gap: 0.25rem; }
@container (max-width: 28rem) { .scale { grid-template-columns: repeat(6, minmax(2rem, 1fr)); } }
.scale button {
  min-height: 2.25rem; min-width: 2rem; padding: 0; border: 1px solid var(--nps-muted, #8c959f);
  border-radius: 6px; background: transparent; color: inherit; font: inherit; cursor: pointer;
}
.scale button:hover { border-color: var(--nps-accent, #0b63ce); }
.scale button[aria-checked="true"] {
  background: var(--nps-accent, #0b63ce); border-color: var(--nps-accent, #0b63ce);
  color: var(--nps-on-accent, #fff); font-weight: 600;
}
.ends { display: flex; justify-content: space-between; gap: 1rem; margin-top: 0.3rem;
  color: var(--nps-muted, #59636e); font-size: 0.8rem; }
textarea { box-sizing: border-box; width: 100%; min-height: 4.5rem; padding: 0.5rem;
  border: 1px solid var(--nps-muted, #8c959f); border-radius: 6px; font: inherit;
  resize: vertical; }
.actions { display: flex; justify-content: flex-end; margin-top: 0.75rem; }
.submit { min-height: 2.5rem; padding: 0 1.5rem; border: 0; border-radius: 6px; font: inherit;
  background: var(--nps-accent, #0b63ce); color: var(--nps-on-accent, #fff); cursor: pointer; }
.submit:disabled { opacity: 0.45; cursor: not-allowed; }
.close { position: absolute; top: 0.5rem; right: 0.5rem; width: 2.25rem; height: 2.25rem;
  border: 0; border-radius: 50%; background: transparent; color: inherit; font-size: 1.4rem;
  line-height: 1; cursor: pointer; }
.error { margin: 0.75rem 0 0; color: var(--nps-error, #b3261e); font-size: 0.9rem; }
.thanks { margin: 0.25rem 2.5rem 0.25rem 0; font-weight: 600; }
button:focus-visible, textarea:focus-visible, .thanks:focus-visible {
  outline: 3px solid var(--nps-accent, #0b63ce); outline-offset: 2px; }
`;

/** Create an element: h("p", {class: "x"}, "text", child). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * fetch with retries for what may pass: network failures, 5xx and 429, with exponential
 * backoff and jitter (Retry-After wins when the server exposes it, capped). The caller
 * sends the same body each time, ids included, so a retry of a request that did arrive
 * is recognised by the service and counted once. Resolves with the last response; rejects
 * only when the last attempt failed on the network.
 */
async function send(url, init, attempts = ATTEMPTS) {
  for (let attempt = 1; ; attempt++) {
    let delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1)) * (0.5 + Math.random());
    try {
      const reply = await fetch(url, init);
      if (reply.ok || (reply.status < 500 && reply.status !== 429) || attempt >= attempts) {
        return reply;
      }
      const after = Number(reply.headers.get("Retry-After"));
      if (after > 0) delay = Math.min(MAX_DELAY_MS, after * 1000);
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
    await sleep(delay);
  }
}

/**
 * A 0–10 WAI-ARIA radio group of buttons: one tab stop (the checked option, else the first);
 * arrows move focus and select, wrapping; Home/End; Space/Enter select (a button's click).
 */
function scale(labelledBy, onChange, describedBy) {
  const group = h("div", { class: "scale", role: "radiogroup", "aria-labelledby": labelledBy });
  if (describedBy) group.setAttribute("aria-describedby", describedBy);
  const radios = [];
  const select = (index, focus) => {
    radios.forEach((radio, i) => {
      radio.setAttribute("aria-checked", String(i === index));
      radio.tabIndex = i === index ? 0 : -1;
    });
    if (focus) radios[index].focus();
    onChange(index);
  };
  for (let n = 0; n <= 10; n++) {
    const radio = h("button", { type: "button", role: "radio", "aria-checked": "false" }, `${n}`);
    radio.tabIndex = n === 0 ? 0 : -1;
    radio.addEventListener("click", () => select(n, false));
    radios.push(radio);
  }
  group.append(...radios);
  group.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return; // the browser's, not ours
    const current = radios.indexOf(event.target);
    const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    let next;
    if (event.key in moves) next = (current + moves[event.key] + 11) % 11;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = 10;
    else return;
    event.preventDefault();
    select(next, true);
  });
  return group;
}

class NpsSurvey extends HTMLElement {
  #root = this.attachShadow({ mode: "open" });
  #started = false;
  #text = TEXT["zh-CN"];
  #displayId = null;
  /** Made once per display: every retry, even one the person starts again, reuses it. */
  #responseId = null;
  #score = null;
  #dimensions = {};
  #busy = false;
  #done = false;
  #ui = null;

  connectedCallback() {
    if (this.#started) return; // moved in the DOM: keep the prompt as it is
    this.#started = true;
    this.#start().catch((error) => this.#unavailable(error));
  }

  get #endpoint() {
    return (this.getAttribute("endpoint") || "").replace(/\/+$/, "");
  }

  /** A CORS request to the service: the page's ingest key, never the page's cookies. */
  #init(method, body, extra = {}) {
    const headers = { Authorization: `Bearer ${this.getAttribute("key")}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return { method, headers, body: payload, mode: "cors", credentials: "omit", ...extra };
  }

  #context() {
    const context = {};
    for (const [field, attribute] of Object.entries(CONTEXT)) {
      const value = this.getAttribute(attribute);
      if (value) context[field] = value;
    }
    return context;
  }

  #emit(name, detail) {
    const init = { detail, bubbles: true, composed: true };
    this.dispatchEvent(new CustomEvent(`nps-survey:${name}`, init));
  }

  #unavailable(why) {
    console.debug("nps-survey: not shown", why);
    this.#root.replaceChildren();
    this.#emit("ineligible", { reason: "unavailable", next_eligible_at: null });
  }

  async #start() {
    const english = (this.getAttribute("lang") || "").toLowerCase().startsWith("en");
    this.#text = english ? TEXT.en : TEXT["zh-CN"];
    const respondent = this.getAttribute("respondent-id");
    const touchpoint = this.getAttribute("touchpoint");
    if (!this.#endpoint || !this.getAttribute("key") || !respondent) {
      return this.#unavailable("endpoint, key and respondent-id are required");
    }
    const query = new URLSearchParams({ respondent_id: respondent });
    if (touchpoint) query.set("touchpoint", touchpoint);
    // One attempt: a person should see the prompt while it is relevant, or not at all.
    const asked = await fetch(`${this.#endpoint}/v1/eligibility?${query}`, this.#init("GET"));
    if (!asked.ok) return this.#unavailable(`eligibility: HTTP ${asked.status}`);
    const answer = await asked.json();
    if (!answer.eligible) {
      const { reason, next_eligible_at } = answer;
      return this.#emit("ineligible", { reason, next_eligible_at });
    }
    if (!this.isConnected) return; // removed meanwhile: nobody would see it
    const display = { id: crypto.randomUUID(), respondent_id: respondent };
    if (touchpoint) display.touchpoint = touchpoint;
    const context = this.#context();
    if (Object.keys(context).length) display.context = context;
    const recorded = await send(`${this.#endpoint}/v1/displays`, this.#init("POST", display));
    if (!recorded.ok) return this.#unavailable(`display: HTTP ${recorded.status}`);
    this.#displayId = display.id;
    this.#render();
    this.#emit("shown", { display_id: this.#displayId });
  }

  #render() {
    const t = this.#text;
    const submit = h("button", { type: "button", class: "submit", disabled: "" }, t.submit);
    const close = h("button", { type: "button", class: "close", "aria-label": t.close }, "×");
    const error = h("p", { class: "error", role: "alert", hidden: "" });
    const comment = h("textarea", { id: "nps-comment", maxlength: "2000", rows: "3" });
    const card = h(
      "section",
      { class: "card", lang: this.#text === TEXT.en ? "en" : "zh-CN", "aria-labelledby": "nps-q" },
      h("p", { id: "nps-q", class: "question" }, t.question),
      scale("nps-q", (score) => this.#choose(score), "nps-ends"),
      h("div", { id: "nps-ends", class: "ends" }, h("span", {}, `0 = ${t.low}`),
        h("span", {}, `10 = ${t.high}`)),
    );
    const wanted = (this.getAttribute("dimensions") || "").split(/\s+/);
    const dimensions = DIMENSIONS.filter((name) => wanted.includes(name));
    if (dimensions.length) card.append(h("p", { class: "hint" }, t.aspects));
    for (const name of dimensions) {
      card.append(
        h("p", { id: `nps-${name}`, class: "label" }, t[name]),
        scale(`nps-${name}`, (value) => (this.#dimensions[name] = value)),
      );
    }
    card.append(
      h("label", { for: "nps-comment", class: "label" }, t.comment),
      comment,
      error,
      h("div", { class: "actions" }, submit),
      close,
    );
    submit.addEventListener("click", () => this.#submit());
    close.addEventListener("click", () => this.#close());
    card.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.#close();
    });
    this.#ui = { card, submit, error, comment };
    this.#root.replaceChildren(h("style", {}, STYLE), card);
  }

  #choose(score) {
    this.#score = score;
    if (!this.#busy && !this.#done) this.#ui.submit.disabled = false;
  }

  /**
   * Post the answer. Never two at once: the button stays disabled while a post is in flight.
   * 409 means this display (or this id) already has a stored answer, so the person has
   * answered: it ends like a success. Other 4xx end the prompt's chance (an error shows,
   * Submit stays disabled); exhausted retries leave Submit enabled to try again, same id.
   */
  async #submit() {
    if (this.#busy || this.#done || this.#score === null) return;
    const { submit, error, comment } = this.#ui;
    this.#busy = true;
    submit.disabled = true;
    error.hidden = true;
    this.#responseId ??= crypto.randomUUID();
    const context = this.#context();
    const touchpoint = this.getAttribute("touchpoint");
    if (touchpoint) context.touchpoint = touchpoint;
    const respondent = this.getAttribute("respondent-id");
    const body = { id: this.#responseId, respondent_id: respondent, score: this.#score };
    if (Object.keys(this.#dimensions).length) body.dimensions = { ...this.#dimensions };
    if (comment.value.trim()) body.comment = comment.value.trim();
    if (Object.keys(context).length) body.context = context;
    body.display_id = this.#displayId;
    let status = 0;
    try {
      status = (await send(`${this.#endpoint}/v1/responses`, this.#init("POST", body))).status;
    } catch (failure) {
      console.debug("nps-survey: answer not sent", failure);
    }
    this.#busy = false;
    if (status === 200 || status === 201 || status === 409) return this.#thank(body.score);
    const final = status >= 400 && status < 500 && status !== 429;
    error.textContent = final ? this.#text.failed : this.#text.retry;
    error.hidden = false;
    submit.disabled = final;
  }

  #thank(score) {
    this.#done = true;
    const thanks = h("p", { class: "thanks", role: "status", tabindex: "-1" }, this.#text.thanks);
    const label = { type: "button", class: "close", "aria-label": this.#text.close };
    const close = h("button", label, "×");
    close.addEventListener("click", () => this.#root.replaceChildren());
    this.#ui.card.replaceChildren(thanks, close);
    thanks.focus();
    this.#emit("answered", { id: this.#responseId, display_id: this.#displayId, score });
  }

  /**
   * Close without answering: hide at once, tell the page, and record the decline in the
   * background (keepalive, so it survives the page being left). Ignored while an answer is
   * in flight: it may already be stored, and a display that was answered cannot be declined.
   */
  #close() {
    if (this.#busy) return;
    this.#root.replaceChildren();
    if (this.#done) return;
    this.#done = true;
    this.#emit("declined", { display_id: this.#displayId });
    const url = `${this.#endpoint}/v1/displays/${encodeURIComponent(this.#displayId)}/decline`;
    send(url, this.#init("POST", {}, { keepalive: true })).then(
      (reply) => reply.ok || console.debug("nps-survey: decline not recorded", reply.status),
      (failure) => console.debug("nps-survey: decline not recorded", failure),
    );
  }
}

if (!customElements.get("nps-survey")) customElements.define("nps-survey", NpsSurvey);
