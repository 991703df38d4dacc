// Chart.js (vendored, loaded as a classic script before the modules: `globalThis.Chart`).
// Charts are drawn without animation (figures appear at once, screenshots are stable) and
// every number in a tooltip or tick goes through format.js like the rest of the page.
import * as fmt from "./format.js";
import { t } from "./i18n.js";

const Chart = globalThis.Chart;
const COLOURS = { line: "#2563eb", band: "rgba(37, 99, 235, 0.16)", grid: "#e5e7eb", text: "#374151", point: "#dc2626" };
const DAY = 864e5;
const live = new WeakMap();

/** A bucket's first day (YYYY-MM-DD) as a number of days, so buckets keep their real spacing. */
const dayNumber = (text) => Date.parse(`${text}T00:00:00Z`) / DAY;
const dayText = (number) => new Date(number * DAY).toISOString().slice(0, 10);

function replace(canvas, config) {
  live.get(canvas)?.destroy();
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = COLOURS.text;
  const chart = new Chart(canvas, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } });
  live.set(canvas, chart);
  return chart;
}

/** The NPS of each bucket as a line, its interval as a band (suppressed buckets are gaps). */
export function trendChart(canvas, groups, metric, unit) {
  const points = groups.map((group) => {
    const value = metric === "overall" ? group.overall : group.dimensions[metric];
    return { x: dayNumber(group.key.bucket), value };
  });
  const series = (field) => points.map(({ x, value }) => ({ x, y: value[field] }));
  const every = Math.max(1, Math.ceil(points.length / 8));
  return replace(canvas, {
    type: "line",
    data: {
      datasets: [
        { label: t("band"), data: series("ci_high"), borderWidth: 0, pointRadius: 0, fill: "+1", backgroundColor: COLOURS.band },
        { label: t("band"), data: series("ci_low"), borderWidth: 0, pointRadius: 0, fill: false },
        { label: t(metric), data: series("nps"), borderColor: COLOURS.line, backgroundColor: COLOURS.line, pointRadius: points.length > 60 ? 0 : 2.5, borderWidth: 2 },
      ],
    },
    options: {
      parsing: false,
      spanGaps: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { display: false },
        tooltip: {
          filter: (item) => item.datasetIndex === 2,
          callbacks: {
            title: (items) => fmt.bucket(dayText(items[0].parsed.x), unit),
            label: (item) => {
              const value = points[item.dataIndex].value;
              return [`NPS ${fmt.nps(value.nps)}`, `${fmt.interval(value.ci_low, value.ci_high)}`, `n = ${fmt.count(value.n)}`];
            },
          },
        },
      },
      scales: {
        x: {
          type: "linear",
          grid: { color: COLOURS.grid },
          afterBuildTicks: (scale) => {
            scale.ticks = points.filter((_, index) => index % every === 0).map(({ x }) => ({ value: x }));
          },
          ticks: { callback: (value) => fmt.bucket(dayText(value), unit), maxRotation: 0, autoSkip: true },
        },
        y: { suggestedMin: 0, suggestedMax: 60, grid: { color: COLOURS.grid }, ticks: { callback: (value) => fmt.nps(value) } },
      },
    },
  });
}

/** Labels each point with its dimension's name, and draws the equal-importance line. */
const annotate = {
  id: "npsDriverLabels",
  afterDatasetsDraw(chart, _args, options) {
    const { ctx, chartArea, scales } = chart;
    ctx.save();
    ctx.strokeStyle = "#9ca3af";
    ctx.setLineDash([4, 4]);
    const x = scales.x.getPixelForValue(options.equalShare);
    ctx.beginPath();
    ctx.moveTo(x, chartArea.top);
    ctx.lineTo(x, chartArea.bottom);
    ctx.stroke();
    if (options.overall !== null) {
      const y = scales.y.getPixelForValue(options.overall);
      ctx.beginPath();
      ctx.moveTo(chartArea.left, y);
      ctx.lineTo(chartArea.right, y);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.fillStyle = COLOURS.text;
    ctx.font = `12px ${Chart.defaults.font.family}`;
    chart.getDatasetMeta(0).data.forEach((element, index) => {
      ctx.fillText(options.labels[index], element.x + 8, element.y - 6);
    });
    ctx.fillStyle = COLOURS.point;
    ctx.textAlign = "right";
    ctx.fillText(options.fixFirst, chartArea.right - 4, chartArea.bottom - 6);
    ctx.restore();
  },
};

/** Importance (share of R², in %) across, the dimension's NPS up. */
export function driversChart(canvas, rows, overallNps) {
  const data = rows.map((row) => ({ x: row.share * 100, y: row.nps }));
  const ys = data.map((point) => point.y).filter((y) => y !== null);
  return replace(canvas, {
    type: "scatter",
    data: { datasets: [{ data, pointRadius: 7, pointHoverRadius: 8, backgroundColor: rows.map((row) => (row.priority === 1 ? COLOURS.point : COLOURS.line)) }] },
    options: {
      parsing: false,
      plugins: {
        legend: { display: false },
        npsDriverLabels: { labels: rows.map((row) => row.label), equalShare: 100 / Math.max(1, rows.length), overall: overallNps ?? null, fixFirst: t("fixFirst") },
        tooltip: { callbacks: { label: (item) => `${rows[item.dataIndex].label}: ${t("importance")} ${fmt.percent(rows[item.dataIndex].share)}, NPS ${fmt.nps(rows[item.dataIndex].nps)}` } },
      },
      scales: {
        x: { min: 0, suggestedMax: 60, title: { display: true, text: t("importance") }, ticks: { callback: (value) => fmt.percent(value / 100) }, grid: { color: COLOURS.grid } },
        y: { suggestedMin: Math.min(0, ...ys) - 10, suggestedMax: Math.max(...ys, overallNps ?? 0) + 10, title: { display: true, text: "NPS" }, ticks: { callback: (value) => fmt.nps(value) }, grid: { color: COLOURS.grid } },
      },
    },
    plugins: [annotate],
  });
}
