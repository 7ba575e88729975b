// Datasets: the list, and one dataset: its records (paged, every split), the curation funnel and charts,
// and the rejected records with the operator and reason that dropped each one.
import { table, fmt } from "../dom.js";
import { barChart } from "../charts.js";

const PAGE = 20;

const strings = {
  zh: {
    name: "名称", stage: "生成阶段", rows: "行数", created: "创建时间", lineage: "血缘", curated: "已清洗",
    none: "工作区里还没有数据集。用 `luban data curate` 或 `luban data format` 生成一个。",
    funnel: "清洗漏斗", step: "步骤", in: "输入", out: "输出", dropped: "丢弃", modified: "修改", reasons: "原因",
    no_report: "此数据集没有清洗报告：它由 {stage} 生成，该阶段不记录漏斗。记录和被拒记录仍可在下方查看。",
    records: "样本记录", rejected: "被拒记录", reason: "原因", operator: "算子", source: "来源", text: "文本",
    prev: "上一页", next: "下一页", all_ops: "全部算子", of: "共", lengths: "文本长度分布（字符）",
    by_operator: "按算子统计的被拒记录", found: "算子发现的内容", none_rejected: "没有被拒记录。",
    sources: "源文件", reports: "数据报告", languages: "语言分布", back: "全部数据集", split: "划分", cut: "（已截断）",
  },
  en: {
    name: "Name", stage: "Made by", rows: "Rows", created: "Created", lineage: "Lineage", curated: "curated",
    none: "No datasets in this workspace yet. Make one with `luban data curate` or `luban data format`.",
    funnel: "Curation funnel", step: "Step", in: "In", out: "Out", dropped: "Dropped", modified: "Modified", reasons: "Reasons",
    no_report: "This dataset has no curation report: it was made by {stage}, which records no funnel. Its records and rejected records are below.",
    records: "Sample records", rejected: "Rejected records", reason: "Reason", operator: "Operator", source: "Source", text: "Text",
    prev: "Previous", next: "Next", all_ops: "All operators", of: "of", lengths: "Text length (characters)",
    by_operator: "Rejected records by operator", found: "What the operators found", none_rejected: "No rejected records.",
    sources: "source files", reports: "Data reports", languages: "Languages", back: "All datasets", split: "Split", cut: " (cut)",
  },
};

const enc = encodeURIComponent;

function rowsText(rows) {
  return Object.entries(rows || {}).sort(([a], [b]) => (a === "rejected") - (b === "rejected")).map(([s, n]) => `${s} ${Number(n).toLocaleString()}`).join(" · ");
}

async function list(root, ctx) {
  const { h, t } = ctx;
  const data = await ctx.api("api/datasets");
  if (!data.datasets.length) { root.append(h("p", { class: "empty" }, t("none"))); return; }
  root.append(h("div", { class: "panel" }, table(data.datasets, [
    { label: t("name"), render: (d) => h("a", { href: `#/datasets/${enc(d.name || d.id)}`, class: "dataset-link", "data-name": d.name || "" }, d.name || d.short_id) },
    { label: "id", render: (d) => h("code", {}, d.short_id) },
    { label: t("stage"), render: (d) => h("span", {}, d.stage, " ", d.curated ? h("span", { class: "tag ok" }, t("curated")) : null) },
    { label: t("rows"), render: (d) => rowsText(d.rows) },
    { label: t("created"), render: (d) => new Date(d.created).toLocaleString() },
    { label: t("lineage"), render: (d) => h("a", { href: `#/lineage/${enc(d.id)}` }, t("lineage")) },
  ], { id: "datasets-table" })));
}

function funnelView(ctx, d) {
  const { h, t } = ctx;
  const box = h("div", { class: "panel", id: "funnel" }, h("h2", {}, t("funnel")));
  if (!d.funnel) {
    box.append(h("div", { class: "banner info", id: "no-report" }, t("no_report").replace("{stage}", d.stage)));
    return box;
  }
  const steps = d.funnel;
  const items = [{ label: `${steps[0].name} (${t("in")})`, value: steps[0].in ?? 0, color: "#5b6b7f" },
    ...steps.map((s) => ({ label: s.name, value: s.out ?? 0, color: s.dropped ? "#b4532a" : "#2f6fba" }))];
  const chart = barChart(items, { id: "funnel-chart" });
  chart.style.maxWidth = "760px";
  box.append(chart);
  box.append(table(steps, [
    { label: t("step"), key: "name" }, { label: t("in"), key: "in" }, { label: t("out"), key: "out" },
    { label: t("dropped"), render: (s) => h("span", { class: s.dropped ? "bad" : "" }, fmt(s.dropped)) },
    { label: t("modified"), key: "modified" },
    { label: t("reasons"), render: (s) => Object.entries(s.reasons || {}).map(([r, n]) => `${r} (${n})`).join("; ") || "–" },
  ], { id: "funnel-table" }));
  return box;
}

function chartsView(ctx, d) {
  const { h, t } = ctx;
  const panels = [];
  for (const [split, hist] of Object.entries(d.lengths || {})) {
    if (!hist.bins) continue;
    panels.push(h("div", { class: "panel" }, h("h2", {}, `${t("lengths")} · ${split}`),
      barChart(hist.bins.map((b, i) => ({ label: b, value: hist.counts[i] })), { id: `lengths-${split}`, barHeight: 14 })));
  }
  const byOp = Object.entries(d.rejected_by_operator || {});
  if (byOp.length) {
    panels.push(h("div", { class: "panel" }, h("h2", {}, t("by_operator")),
      barChart(byOp.map(([label, value]) => ({ label, value, color: "#d1495b" })), { id: "rejected-chart" })));
  }
  const found = (d.funnel || []).filter((s) => Object.keys(s.tags || {}).length);
  if (found.length) {
    panels.push(h("div", { class: "panel" }, h("h2", {}, t("found")),
      table(found, [{ label: t("operator"), key: "name" },
        { label: "", render: (s) => Object.entries(s.tags).map(([k, n]) => `${k}: ${n}`).join(", ") }])));
  }
  for (const r of d.reports || []) {
    const langs = Object.entries(r.languages || {});
    if (langs.length) {
      panels.push(h("div", { class: "panel" }, h("h2", {}, `${t("languages")} · ${r.name || r.short_id}`),
        barChart(langs.map(([label, value]) => ({ label, value })), { barHeight: 16 })));
    }
  }
  return panels.length ? h("div", { class: "cols" }, panels) : null;
}

function pager(ctx, data, go) {
  const { h, t } = ctx;
  const end = Math.min(data.offset + data.records.length, data.total);
  return h("div", { class: "row", style: "margin-top:8px" },
    h("button", { class: "prev", disabled: data.offset <= 0, onclick: () => go(Math.max(0, data.offset - PAGE)) }, t("prev")),
    h("span", { class: "muted page-info" }, `${data.total ? data.offset + 1 : 0}–${end} ${t("of")} ${data.total.toLocaleString()}`),
    h("button", { class: "next", disabled: end >= data.total, onclick: () => go(data.offset + PAGE) }, t("next")));
}

function textCell(ctx, r) {
  const { h } = ctx;
  const cut = (r._cut || []).includes("text");
  // a chat record: one line a turn, the role first; any other record without text: its fields as JSON
  const body = r.text != null ? r.text
    : Array.isArray(r.messages) ? r.messages.map((m) => h("div", {}, h("b", {}, `${m.role}: `), String(m.content ?? "")))
      : fmt(Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("source") && k !== "_cut")));
  return h("div", { class: "record-text", style: "white-space:pre-wrap;max-height:9em;overflow:auto;max-width:720px" },
    body, cut ? h("span", { class: "muted" }, ctx.t("cut")) : null);
}

function recordsView(ctx, ref, d) {
  const { h, t } = ctx;
  const splits = Object.keys(d.rows).filter((s) => s !== "rejected");
  const box = h("div", { class: "panel", id: "records" }, h("h2", {}, t("records")));
  if (!splits.length) return null;
  const body = h("div");
  const tabs = h("div", { class: "row", style: "margin-bottom:8px" });
  let split = splits[0];
  const load = async (offset) => {
    const data = await ctx.api(`api/datasets/${enc(ref)}/records?split=${enc(split)}&offset=${offset}&limit=${PAGE}`);
    const extra = data.records.length ? Object.keys(data.records[0]).filter((k) => !["text", "source", "source_line", "source_sha256", "source_format", "meta", "_cut", "messages"].includes(k)).slice(0, 3) : [];
    body.replaceChildren(table(data.records, [
      { label: t("text"), render: (r) => textCell(ctx, r) },
      { label: t("source"), render: (r) => r.source ? h("code", {}, `${r.source}${r.source_line ? ":" + r.source_line : ""}`) : "–" },
      ...extra.map((k) => ({ label: k, key: k })),
    ], { class: "records-table" }), pager(ctx, data, load));
  };
  for (const s of splits) {
    tabs.append(h("button", { class: s === split ? "primary split-tab" : "split-tab", "data-split": s, onclick: (ev) => {
      split = s;
      tabs.querySelectorAll("button").forEach((b) => b.classList.toggle("primary", b === ev.currentTarget));
      load(0);
    } }, `${s} (${Number(d.rows[s]).toLocaleString()})`));
  }
  box.append(tabs, body);
  load(0);
  return box;
}

function rejectedView(ctx, ref, d) {
  const { h, t } = ctx;
  const box = h("div", { class: "panel", id: "rejected" }, h("h2", {}, `${t("rejected")} (${Number(d.rows.rejected || 0).toLocaleString()})`));
  if (!d.rows.rejected) { box.append(h("p", { class: "muted" }, t("none_rejected"))); return box; }
  const body = h("div");
  let operator = "";
  const select = h("select", { id: "rejected-operator", onchange: () => { operator = select.value; load(0); } },
    h("option", { value: "" }, t("all_ops")),
    Object.entries(d.rejected_by_operator || {}).map(([op, n]) => h("option", { value: op }, `${op} (${n})`)));
  const load = async (offset) => {
    const q = `split=rejected&offset=${offset}&limit=${PAGE}${operator ? "&operator=" + enc(operator) : ""}`;
    const data = await ctx.api(`api/datasets/${enc(ref)}/records?${q}`);
    body.replaceChildren(table(data.records, [
      { label: t("operator"), render: (r) => h("span", { class: "tag bad" }, r.operator || "–") },
      { label: t("reason"), render: (r) => h("span", { class: "reason" }, r.reason || "–") },
      { label: t("source"), render: (r) => h("code", {}, `${r.source || "?"}${r.source_line ? ":" + r.source_line : ""}`) },
      { label: t("text"), render: (r) => textCell(ctx, r) },
    ], { class: "rejected-table" }), pager(ctx, data, load));
  };
  box.append(h("div", { class: "row", style: "margin-bottom:8px" }, select), body);
  load(0);
  return box;
}

async function detail(root, ctx, ref) {
  const { h, t } = ctx;
  const d = await ctx.api(`api/datasets/${enc(ref)}`);
  root.append(h("div", { class: "row", style: "margin-bottom:10px" },
    h("a", { href: "#/datasets" }, "← " + t("back")),
    h("h2", { style: "margin:0", id: "dataset-name" }, d.name || d.short_id),
    h("code", {}, d.short_id), h("span", { class: "tag" }, d.stage),
    h("span", { class: "muted" }, rowsText(d.rows)),
    d.sources != null ? h("span", { class: "muted" }, `${d.sources} ${t("sources")}`) : null,
    h("span", { class: "grow" }),
    h("a", { href: `#/lineage/${enc(d.id)}`, id: "lineage-link", class: "btn" }, t("lineage") + " →")));
  root.append(funnelView(ctx, d));
  const charts = chartsView(ctx, d);
  if (charts) root.append(charts);
  const recs = recordsView(ctx, ref, d);
  if (recs) root.append(recs);
  root.append(rejectedView(ctx, ref, d));
}

export default {
  id: "datasets",
  title: { zh: "数据集", en: "Datasets" },
  ops: ["artifacts.read"],
  strings,
  async render(root, ctx) {
    if (ctx.args[0]) return detail(root, ctx, ctx.args[0]);
    return list(root, ctx);
  },
};
