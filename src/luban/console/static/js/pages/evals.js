// Evaluations and variants: evaluation, comparison and compression-sweep reports; the metrics of every model
// or variant, gates passed or failed with the reason, the deploy candidate and (admins) the button that deploys it.
import { table, fmt } from "../dom.js";
import { barChart } from "../charts.js";

const strings = {
  zh: {
    none: "还没有评测报告。用 `luban eval run`、`luban eval compare` 或 `luban compress sweep` 生成。",
    name: "名称", type: "类型", stage: "生成阶段", created: "创建时间", candidate: "部署候选", lineage: "血缘",
    sweep: "压缩扫描", compare: "对比", eval: "评测", deployed_now: "当前部署", nothing_deployed: "尚未部署任何模型。",
    serve_hint: "用 `luban serve deployed`（或在 `luban gateway` 后运行 `luban engine deployed`）提供服务；正在运行的服务在下次启动或滚动重启时切换到它。",
    variant: "变体", size: "大小 (MB)", speed: "解码 tokens/s", ppl: "困惑度变化", gates: "门槛", verdict: "结论", metric: "指标",
    deploy: "部署此候选", deploying: "正在部署…", deployed_ok: "已部署 {name}（{id}），审计记录 {chain} #{seq}。",
    admin_only: "只有管理员可以部署（当前角色：{role}）。", no_candidate: "没有变体通过全部门槛：无可部署的候选。",
    already: "此候选已是当前部署。", back: "全部报告", check: "检查门槛", gate_hint: "每行一个门槛，如 acme_ppl.perplexity <= 500",
    passed: "通过", failed: "未通过", candidate_model: "候选模型", best: "最佳", speed_size: "大小与速度", missing: "候选模型已从工作区删除。",
  },
  en: {
    none: "No evaluation reports yet. Make one with `luban eval run`, `luban eval compare` or `luban compress sweep`.",
    name: "Name", type: "Type", stage: "Made by", created: "Created", candidate: "Deploy candidate", lineage: "Lineage",
    sweep: "sweep", compare: "comparison", eval: "evaluation", deployed_now: "Deployed now", nothing_deployed: "No model is deployed yet.",
    serve_hint: "Serve it with `luban serve deployed` (or `luban engine deployed` behind `luban gateway`); a running server switches to it at its next start or rolling restart.",
    variant: "Variant", size: "Size (MB)", speed: "Decode tokens/s", ppl: "Perplexity change", gates: "Gates", verdict: "Verdict", metric: "Metric",
    deploy: "Deploy this candidate", deploying: "Deploying…", deployed_ok: "Deployed {name} ({id}); audit record {chain} #{seq}.",
    admin_only: "Only an admin can deploy (your role: {role}).", no_candidate: "No variant passed every gate: there is no candidate to deploy.",
    already: "This candidate is already deployed.", back: "All reports", check: "Check gates", gate_hint: "One gate a line, e.g. acme_ppl.perplexity <= 500",
    passed: "passed", failed: "failed", candidate_model: "Candidate model", best: "best", speed_size: "Size and speed", missing: "The candidate model was removed from the workspace.",
  },
};

const enc = encodeURIComponent;
const narrow = (el) => { el.style.maxWidth = "760px"; return el; };
const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");

function deployedPanel(ctx, dep) {
  const { h, t } = ctx;
  const box = h("div", { class: "panel", id: "deployed" }, h("h2", {}, t("deployed_now")));
  if (!dep) { box.append(h("p", { class: "muted" }, t("nothing_deployed"))); return box; }
  box.append(h("div", { class: "row" },
    h("b", { class: "deployed-name" }, dep.name || dep.short_id || dep.id), h("code", {}, dep.short_id || ""),
    dep.stage ? h("span", { class: "tag" }, dep.stage) : null,
    dep.id ? h("a", { href: `#/lineage/${enc(dep.id)}` }, t("lineage")) : null),
    h("p", { class: "muted", style: "margin:6px 0 0" }, t("serve_hint")));
  return box;
}

async function list(root, ctx) {
  const { h, t } = ctx;
  const data = await ctx.api("api/evals");
  root.append(deployedPanel(ctx, data.deployed));
  if (!data.reports.length) { root.append(h("p", { class: "empty" }, t("none"))); return; }
  root.append(h("div", { class: "panel" }, table(data.reports, [
    { label: t("name"), render: (r) => h("a", { href: `#/evals/${enc(r.name || r.id)}`, class: "report-link", "data-name": r.name || "" }, r.name || r.short_id) },
    { label: t("type"), render: (r) => h("span", { class: r.type === "sweep" ? "tag warn" : "tag" }, t(r.type)) },
    { label: t("stage"), key: "stage" },
    { label: t("candidate"), render: (r) => r.type === "sweep" ? (r.candidate ? h("b", {}, r.candidate) : h("span", { class: "bad" }, "–")) : (r.candidates || []).join(" · ") || "–" },
    { label: t("created"), render: (r) => new Date(r.created).toLocaleString() },
    { label: t("lineage"), render: (r) => h("a", { href: `#/lineage/${enc(r.id)}` }, t("lineage")) },
  ], { id: "reports-table" })));
}

function gateList(ctx, gates) {
  const { h, t } = ctx;
  return h("ul", { class: "gates", style: "margin:0;padding-left:16px" }, (gates || []).map((g) =>
    h("li", { class: g.passed ? "gate ok" : "gate bad" }, h("b", {}, g.passed ? "✓ " + t("passed") : "✗ " + t("failed")), " ", h("span", { class: "why" }, g.why || g.metric))));
}

function deployPanel(root, ctx, d) {
  const { h, t } = ctx;
  const box = h("div", { class: "panel", id: "candidate" }, h("h2", {}, t("candidate")));
  if (!d.candidate) {
    box.append(ctx.banner(d.candidate_missing ? "error" : "info", d.candidate_missing ? t("missing") : t("no_candidate")));
    return box;
  }
  const c = d.candidate;
  const isDeployed = d.deployed && d.deployed.id === c.id;
  const msg = h("div", { id: "deploy-result" });
  const allowed = ctx.can("deploy");
  const button = h("button", { class: "primary", id: "deploy", disabled: !allowed, title: allowed ? "" : fill(t("admin_only"), { role: ctx.session.role }) }, t("deploy"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    msg.replaceChildren(h("span", { class: "muted" }, h("span", { class: "spinner" }), " ", t("deploying")));
    try {
      const res = await ctx.api("api/evals/deploy", { method: "POST", body: { report: d.id } });
      const dep = res.deployed;
      msg.replaceChildren(ctx.banner("ok", fill(t("deployed_ok"), { name: dep.name || dep.short_id, id: dep.short_id, chain: res.audit.chain, seq: res.audit.seq })),
        h("p", { class: "muted" }, t("serve_hint")));
      root.querySelector("#deployed")?.replaceWith(deployedPanel(ctx, dep));
      box.querySelector("#already-deployed")?.remove();
    } catch (e) {
      msg.replaceChildren(ctx.banner("error", e.message));
    } finally {
      button.disabled = !allowed;
    }
  });
  box.append(h("div", { class: "row" },
    h("span", {}, t("variant"), ": ", h("b", { id: "candidate-variant" }, c.variant)),
    h("span", {}, t("candidate_model"), ": ", h("a", { href: `#/lineage/${enc(c.id)}` }, c.name || c.short_id), " ", h("code", {}, c.short_id)),
    h("span", { class: "grow" }), button),
    h("div", {}, !allowed ? h("p", { class: "muted", id: "deploy-why" }, fill(t("admin_only"), { role: ctx.session.role })) : null,
      isDeployed ? h("p", { class: "ok", id: "already-deployed" }, t("already")) : null), msg);
  return box;
}

function sweepView(root, ctx, d) {
  const { h, t } = ctx;
  root.append(deployPanel(root, ctx, d));
  const rows = d.variants || [];
  root.append(h("div", { class: "panel", id: "variants" }, h("h2", {}, t("gates"), ": ",
    h("code", {}, Object.entries(d.gates || {}).map(([k, v]) => `${k} ${v}`).join(", ") || "–")),
  table(rows, [
    { label: t("variant"), render: (r) => h("span", {}, r.name === (d.candidate && d.candidate.variant) ? h("b", {}, "★ " + r.name) : r.name,
      r.model ? h("div", {}, h("a", { href: `#/lineage/${enc(r.model.id)}`, class: "muted" }, r.model.short_id)) : null) },
    { label: t("size"), render: (r) => fmt(r.metrics.size_mb) },
    { label: t("speed"), render: (r) => fmt(r.metrics.tokens_per_s) },
    { label: t("ppl"), render: (r) => r.metrics.perplexity_delta_pct != null ? `${r.metrics.perplexity_delta_pct >= 0 ? "+" : ""}${fmt(r.metrics.perplexity_delta_pct)}%` : "–" },
    { label: t("gates"), render: (r) => gateList(ctx, r.gates) },
    { label: t("verdict"), render: (r) => h("span", { class: r.passed ? "" : "bad" }, r.verdict) },
  ], { id: "variants-table" })));
  const charts = [h("div", { class: "panel" }, h("h2", {}, t("size")),
    barChart(rows.map((r) => ({ label: r.name, value: r.metrics.size_mb || 0, color: r.passed ? "#2f6fba" : "#d1495b" })), { id: "size-chart", unit: " MB" }))];
  if (rows.some((r) => r.metrics.tokens_per_s)) {
    charts.push(h("div", { class: "panel" }, h("h2", {}, t("speed")),
      barChart(rows.map((r) => ({ label: r.name, value: r.metrics.tokens_per_s || 0, color: "#1f8a4c" })), { id: "speed-chart" })));
  }
  root.append(h("div", { class: "cols" }, charts));
}

function compareView(root, ctx, d) {
  const { h, t } = ctx;
  const names = d.candidates.map((c) => c.name);
  const rows = d.metric_names.map((m) => ({ metric: m, ...Object.fromEntries(d.candidates.map((c) => [c.name, c.metrics[m]])) }));
  root.append(h("div", { class: "panel", id: "metrics" }, table(rows, [
    { label: t("metric"), render: (r) => `${r.metric} ${d.lower_is_better[r.metric] ? "↓" : "↑"}` },
    ...names.map((n) => ({ label: n, render: (r) => d.best[r.metric] === n ? h("b", { title: t("best") }, fmt(r[n])) : fmt(r[n]) })),
  ], { id: "metrics-table" }),
  h("div", { class: "row muted", style: "margin-top:8px" }, d.candidates.filter((c) => c.info && c.info.artifact).map((c) =>
    h("span", {}, `${c.name}: `, h("a", { href: `#/lineage/${enc(c.info.artifact)}` }, c.info.artifact))))));
  if (d.candidates.some((c) => c.metrics.size_mb != null)) {
    root.append(h("div", { class: "panel" }, h("h2", {}, t("speed_size")),
      narrow(barChart(d.candidates.map((c) => ({ label: c.name, value: c.metrics.size_mb || 0 })), { unit: " MB", id: "size-chart" }))));
  }
}

function evalView(root, ctx, d) {
  const { h, t } = ctx;
  const rows = Object.entries(d.metrics || {}).map(([metric, value]) => ({ metric, value }));
  root.append(h("div", { class: "panel", id: "metrics" }, table(rows, [{ label: t("metric"), key: "metric" }, { label: "", key: "value" }], { id: "metrics-table" })));
}

function gateChecker(root, ctx, d) {
  const { h, t } = ctx;
  const area = h("textarea", { id: "gate-input", placeholder: t("gate_hint"), rows: 3 });
  const out = h("div", { id: "gate-results" });
  const check = async () => {
    const gates = {};
    for (const line of area.value.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const m = line.match(/^([A-Za-z0-9_.\-]+)\s*:?\s*((?:>=|<=|==|!=|>|<).*)$/);
      if (!m) { out.replaceChildren(ctx.banner("error", `${t("gate_hint")}: "${line}"`)); return; }
      gates[m[1]] = m[2].trim();
    }
    if (!Object.keys(gates).length) return;
    try {
      const res = await ctx.api(`api/evals/${enc(d.id)}/gates`, { method: "POST", body: { gates } });
      out.replaceChildren(table(Object.entries(res.gates).map(([name, gs]) => ({ name, gs })), [
        { label: t("name"), key: "name" }, { label: t("gates"), render: (r) => gateList(ctx, r.gs) }]));
    } catch (e) { out.replaceChildren(ctx.banner("error", e.message)); }
  };
  root.append(h("div", { class: "panel", id: "gate-check" }, h("h2", {}, t("check")), area,
    h("div", { class: "row", style: "margin:6px 0" }, h("button", { id: "gate-run", onclick: check }, t("check"))), out));
}

async function detail(root, ctx, ref) {
  const { h, t } = ctx;
  const d = await ctx.api(`api/evals/${enc(ref)}`);
  root.append(h("div", { class: "row", style: "margin-bottom:10px" },
    h("a", { href: "#/evals" }, "← " + t("back")),
    h("h2", { style: "margin:0", id: "report-name" }, d.name || d.short_id), h("code", {}, d.short_id),
    h("span", { class: "tag" }, t(d.type)), h("span", { class: "muted" }, d.stage),
    h("span", { class: "grow" }), h("a", { href: `#/lineage/${enc(d.id)}`, class: "btn", id: "lineage-link" }, t("lineage") + " →")));
  if (d.type === "sweep") { root.append(deployedPanel(ctx, d.deployed)); sweepView(root, ctx, d); }
  else if (d.type === "compare") compareView(root, ctx, d);
  else evalView(root, ctx, d);
  if (d.type !== "sweep") gateChecker(root, ctx, d);
}

export default {
  id: "evals",
  title: { zh: "评测与变体", en: "Evaluations" },
  ops: ["artifacts.read"],
  strings,
  async render(root, ctx) {
    if (ctx.args[0]) return detail(root, ctx, ctx.args[0]);
    return list(root, ctx);
  },
};
