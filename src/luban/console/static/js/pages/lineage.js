// Lineage of any artifact as a layered graph: raw files on the left, the artifact asked about on the right.
// Click an artifact to centre the graph on it; click a raw file to see its path and full SHA-256.
import { svg } from "../dom.js";

const strings = {
  zh: {
    ask: "输入制品名称或 ID：", show: "查看血缘", file: "原始文件", path: "路径", hash: "SHA-256", kind: "类型", stage: "生成阶段",
    created: "创建时间", names: "名称", open: "打开", centre: "以此为中心", hint: "点击制品以它为中心重绘；点击原始文件查看路径与完整哈希。",
    removed: "已删除", no_parents: "此制品没有记录任何来源。", stats: "统计",
  },
  en: {
    ask: "Artifact name or id:", show: "Show lineage", file: "Raw file", path: "Path", hash: "SHA-256", kind: "Kind", stage: "Made by",
    created: "Created", names: "Names", open: "Open", centre: "Centre on it", hint: "Click an artifact to centre the graph on it; click a raw file to see its path and full hash.",
    removed: "removed", no_parents: "This artifact records no parents.", stats: "Stats",
  },
};

const COL = 250, BOX_W = 200, BOX_H = 48, ROW = 60, PAD = 16;
const KIND_COLORS = { dataset: "#2f6fba", model: "#b4532a", report: "#1f8a4c", run: "#8a4fb4", prompt: "#c9a227" };
const enc = encodeURIComponent;

/** Where an artifact's own page is, if the console has one. */
export function pageOf(n) {
  if (n.kind === "dataset") return `#/datasets/${enc(n.id)}`;
  if (n.kind === "report" && n.stage && (n.stage.startsWith("evaluate.") || n.stage === "compress.sweep")) return `#/evals/${enc(n.id)}`;
  return null;
}

function layout(nodes, edges) {
  const layers = new Map();
  for (const n of nodes) { if (!layers.has(n.layer)) layers.set(n.layer, []); layers.get(n.layer).push(n); }
  const depth = Math.max(...nodes.map((n) => n.layer));
  const pos = new Map();
  // top to bottom within a layer by the mean position of what each node feeds (barycentre), layer by layer from the root
  for (let l = 0; l <= depth; l++) {
    const col = layers.get(l) || [];
    const y = (n) => {
      const outs = edges.filter((e) => e.from === n.key && pos.has(e.to)).map((e) => pos.get(e.to).y);
      return outs.length ? outs.reduce((a, b) => a + b, 0) / outs.length : 0;
    };
    col.sort((a, b) => y(a) - y(b) || (a.type === b.type ? String(a.label).localeCompare(String(b.label)) : a.type === "file" ? 1 : -1));
    col.forEach((n, i) => pos.set(n.key, { x: PAD + (depth - l) * COL, y: PAD + i * ROW }));
  }
  const rows = Math.max(...[...layers.values()].map((c) => c.length));
  return { pos, width: PAD * 2 + depth * COL + BOX_W, height: PAD * 2 + (rows - 1) * ROW + BOX_H };
}

function short(text, n) { text = String(text ?? ""); return text.length > n ? "…" + text.slice(-(n - 1)) : text; }

function draw(ctx, data, onFile) {
  const { nodes, edges } = data;
  const { pos, width, height } = layout(nodes, edges);
  const el = svg("svg", { id: "lineage-graph", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", style: "background:#fff;display:block" });
  for (const e of edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + BOX_W, y1 = a.y + BOX_H / 2, x2 = b.x, y2 = b.y + BOX_H / 2, mx = (x1 + x2) / 2;
    el.append(svg("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, fill: "none", stroke: "#c3c9d2", "stroke-width": 1.5 },
      svg("title", {}, e.role)));
  }
  for (const n of nodes) {
    const p = pos.get(n.key);
    const isFile = n.type === "file", missing = n.type === "missing", root = n.key === data.root;
    const color = isFile ? "#667085" : missing ? "#c62828" : KIND_COLORS[n.kind] || "#5b6b7f";
    const g = svg("g", { class: `node ${n.type}${root ? " root" : ""}`, transform: `translate(${p.x},${p.y})`, style: "cursor:pointer",
      "data-key": n.key, "data-id": n.id || "", "data-kind": n.kind || "", "data-label": n.label, "data-sha256": n.sha256 || "" });
    g.append(svg("rect", { width: BOX_W, height: BOX_H, rx: 6, fill: root ? "#fff4ec" : "#fff", stroke: color,
      "stroke-width": root ? 2.5 : 1.5, "stroke-dasharray": isFile || missing ? "4 3" : null }));
    if (isFile) {
      g.append(svg("text", { x: 8, y: 18, "font-size": 12, fill: "#1d2430" }, short(n.path || n.label, 30)),
        svg("text", { x: 8, y: 36, "font-size": 11, fill: "#667085", "font-family": "monospace" }, n.sha256 ? "sha256 " + n.sha256.slice(0, 12) : "…"));
    } else {
      g.append(svg("rect", { width: 5, height: BOX_H, fill: color, rx: 2 }),
        svg("text", { x: 12, y: 15, "font-size": 10.5, fill: color }, missing ? ctx.t("removed") : `${n.kind} · ${short(n.stage, 22)}`),
        svg("text", { x: 12, y: 31, "font-size": 12.5, "font-weight": 600, fill: "#1d2430" }, short(n.label, 26)),
        svg("text", { x: 12, y: 44, "font-size": 10.5, fill: "#667085", "font-family": "monospace" }, n.short_id || ""));
    }
    g.append(svg("title", {}, isFile ? `${n.path}\nsha256 ${n.sha256}` : `${n.kind} ${n.label} ${n.id || ""}`));
    g.addEventListener("click", () => {
      if (isFile) onFile(n);
      else if (!missing && !root) ctx.navigate(`#/lineage/${enc(n.id)}`);
      else onFile(n);
    });
    el.append(g);
  }
  return el;
}

function details(ctx, n) {
  const { h, t } = ctx;
  if (n.type === "file") {
    return h("div", { id: "file-detail" }, h("h2", {}, t("file")),
      h("div", { class: "muted" }, t("path")), h("code", { class: "path", style: "word-break:break-all" }, n.path || n.label),
      h("div", { class: "muted", style: "margin-top:8px" }, t("hash")), h("code", { class: "sha256", style: "word-break:break-all" }, n.sha256 || "–"));
  }
  const open = pageOf(n);
  const stats = Object.entries(n.stats || {}).slice(0, 12);
  return h("div", { id: "artifact-detail" }, h("h2", {}, n.label),
    h("div", {}, h("span", { class: "tag" }, n.kind || "?"), " ", h("code", { style: "word-break:break-all" }, n.id || "")),
    h("table", {}, h("tbody", {},
      h("tr", {}, h("th", {}, t("stage")), h("td", {}, n.stage || "–")),
      h("tr", {}, h("th", {}, t("created")), h("td", {}, n.created ? new Date(n.created).toLocaleString() : "–")),
      h("tr", {}, h("th", {}, t("names")), h("td", {}, (n.names || []).join(", ") || "–")),
      stats.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, String(v)))))),
    open ? h("a", { href: open, class: "btn", id: "open-artifact", style: "display:inline-block;margin-top:8px" }, t("open") + " →") : null);
}

export default {
  id: "lineage",
  title: { zh: "血缘", en: "Lineage" },
  ops: ["artifacts.read"],
  strings,
  async render(root, ctx) {
    const { h, t } = ctx;
    const input = h("input", { id: "lineage-ref", placeholder: "acme-chat", value: ctx.args[0] || "", style: "width:320px" });
    root.append(h("form", { class: "row", style: "margin-bottom:12px", onsubmit: (ev) => {
      ev.preventDefault();
      if (input.value.trim()) ctx.navigate(`#/lineage/${enc(input.value.trim())}`);
    } }, h("label", {}, t("ask")), input, h("button", { class: "primary", type: "submit" }, t("show"))));
    if (!ctx.args[0]) return;
    const data = await ctx.api(`api/lineage/${enc(ctx.args[0])}`);
    const side = h("div", { class: "panel", id: "lineage-side", style: "flex:0 0 300px;max-width:300px;align-self:flex-start" });
    const rootNode = data.nodes.find((n) => n.key === data.root);
    side.append(details(ctx, rootNode));
    const show = (n) => { side.replaceChildren(details(ctx, n)); };
    root.append(h("p", { class: "muted" }, t("hint")));
    if (data.nodes.length === 1) root.append(ctx.banner("info", t("no_parents")));
    root.append(h("div", { class: "row", style: "align-items:flex-start;flex-wrap:nowrap" },
      h("div", { class: "panel grow", style: "overflow:auto;max-height:calc(100vh - 190px);padding:6px" }, draw(ctx, data, show)),
      side));
  },
};
