// Hand-drawn SVG charts (no CDN, no library): a line chart for curves and a bar chart for totals.
import { svg, h } from "./dom.js";

export const COLORS = ["#b4532a", "#2f6fba", "#1f8a4c", "#8a4fb4", "#c9a227", "#5b6b7f", "#d1495b", "#00798c"];

function ticks(lo, hi, n = 5) {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function short(v) {
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e3) return (v / 1e3).toFixed(1) + "k";
  return a && a < 0.01 ? v.toExponential(0) : String(+v.toFixed(3));
}

/** series: [{name, points: [[x, y], ...]}]; returns an <svg class="chart">. */
export function lineChart(series, { width = 640, height = 240, xLabel = "", yLabel = "", id } = {}) {
  const pad = { l: 48, r: 12, t: 12, b: 34 };
  const pts = series.flatMap((s) => s.points);
  const el = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", id });
  if (!pts.length) { el.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "–")); return el; }
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const X = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (y) => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  for (const v of ticks(y0, y1)) {
    el.append(svg("line", { x1: pad.l, x2: width - pad.r, y1: Y(v), y2: Y(v), stroke: "#eef0f3" }),
      svg("text", { x: pad.l - 6, y: Y(v) + 4, "text-anchor": "end" }, short(v)));
  }
  for (const v of ticks(x0, x1, 6)) el.append(svg("text", { x: X(v), y: height - pad.b + 15, "text-anchor": "middle" }, short(v)));
  if (xLabel) el.append(svg("text", { x: width / 2, y: height - 4, "text-anchor": "middle" }, xLabel));
  if (yLabel) el.append(svg("text", { x: 10, y: pad.t + 8 }, yLabel));
  series.forEach((s, i) => {
    const color = s.color || COLORS[i % COLORS.length];
    const d = s.points.map((p, j) => `${j ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join("");
    el.append(svg("path", { d, fill: "none", stroke: color, "stroke-width": 2, "data-series": s.name }));
    if (s.points.length < 40) s.points.forEach((p) => el.append(svg("circle", { cx: X(p[0]), cy: Y(p[1]), r: 2.5, fill: color }, svg("title", {}, `${s.name}: ${p[1]}`))));
  });
  return el;
}

/** items: [{label, value}] (or values: {series: value} with `stack`); horizontal bars, longest first kept in order. */
export function barChart(items, { width = 640, barHeight = 22, unit = "", id } = {}) {
  const pad = { l: 160, r: 70 };
  const height = Math.max(items.length, 1) * (barHeight + 6) + 8;
  const el = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", id });
  const max = Math.max(1e-12, ...items.map((d) => d.value));
  items.forEach((d, i) => {
    const y = 4 + i * (barHeight + 6);
    const w = ((width - pad.l - pad.r) * d.value) / max;
    el.append(svg("text", { x: pad.l - 8, y: y + barHeight * 0.7, "text-anchor": "end" }, String(d.label).slice(0, 28)),
      svg("rect", { x: pad.l, y, width: Math.max(w, 1), height: barHeight, fill: d.color || COLORS[0], rx: 3 }, svg("title", {}, `${d.label}: ${d.value}`)),
      svg("text", { x: pad.l + w + 6, y: y + barHeight * 0.7 }, `${short(d.value)}${unit}`));
  });
  return el;
}

export function legend(series) {
  return h("div", { class: "row muted", style: "font-size:12px" }, series.map((s, i) =>
    h("span", {}, h("span", { style: `display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;background:${s.color || COLORS[i % COLORS.length]}` }), s.name)));
}
