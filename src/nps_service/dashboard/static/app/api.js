// The same /v1 API every client uses, on the page's own origin, with the pasted key.
import { key } from "./state.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// Relative to the page (…/dashboard), so a deployment under a path prefix works too.
const BASE = new URL(".", document.baseURI);

/** GET `path` with `query` ({name: value | [values]}, empty values left out). */
export async function get(path, query = {}) {
  const url = new URL(path, BASE);
  for (const [name, value] of Object.entries(query)) {
    for (const one of [value].flat()) {
      if (one !== null && one !== undefined && one !== "") url.searchParams.append(name, one);
    }
  }
  const reply = await fetch(url, {
    headers: { Authorization: `Bearer ${key.get()}`, Accept: "application/json" },
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  const body = await reply.json().catch(() => null);
  if (!reply.ok) throw new ApiError(reply.status, body);
  return body;
}
