// Key drivers: importance (Johnson's relative weight, share of R²) against each dimension's
// NPS, and the order in which to improve them.
import { driversChart } from "./charts.js";
import { h, figure } from "./dom.js";
import * as fmt from "./format.js";
import { t } from "./i18n.js";
import { DIMENSIONS } from "./state.js";

export function renderDrivers(canvas, drivers, minN) {
  const group = drivers.groups[0];
  if (!group) return { ok: false, body: [h("p", { className: "note" }, t("noData"))] };
  if (group.suppressed) return { ok: false, body: [h("p", { className: "note" }, t("suppressed", { min_n: minN, n: fmt.count(group.n) }))] };
  if (!group.fitted) return { ok: false, body: [h("p", { className: "note" }, t("notFitted", { reason: group.reason ?? "" }))] };
  const rows = DIMENSIONS.map((name) => {
    const dimension = group.dimensions[name];
    return { name, label: t(name), share: dimension.relative_weight_share, nps: dimension.nps, priority: dimension.priority, dimension };
  });
  driversChart(canvas, rows, group.overall?.nps);
  const ordered = group.priority.map((name) => rows.find((row) => row.name === name));
  return {
    ok: true,
    body: [
      h("p", { className: "caption" }, t("driversCaption")),
      h("p", { className: "caption" }, figure("drivers.r_squared", group.r_squared, t("rSquared", { value: fmt.decimal(group.r_squared, 3), n: fmt.count(group.n) }))),
      h("h3", {}, t("priority")),
      h(
        "ol",
        { className: "priority", dataset: { figure: "drivers.priority", value: group.priority.join(",") } },
        ordered.map((row) =>
          h(
            "li",
            { dataset: { dimension: row.name } },
            h("strong", {}, row.label),
            " ",
            t("importance"), " ", figure(`drivers.${row.name}.relative_weight_share`, row.share, fmt.percent(row.share)),
            " · NPS ", figure(`drivers.${row.name}.nps`, row.nps, fmt.nps(row.nps)),
            row.dimension.score?.suppressed ? h("small", { className: "note" }, ` ${t("suppressed", { min_n: minN, n: fmt.count(row.dimension.score.n) })}`) : null,
          ),
        ),
      ),
    ],
  };
}
