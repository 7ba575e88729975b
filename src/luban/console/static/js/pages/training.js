// Training: a form for `luban train` (recipe, base model, dataset, method, the key numbers, output name) with the
// advisor's memory and time estimate before anything starts; the runs with their status, a live loss curve, the
// log's tail, Stop and Resume. Runs live in the workspace, so a reload or a gateway restart still lists them.
import { h, table, fmt, when } from "../dom.js";
import { lineChart } from "../charts.js";

const POLL_MS = 1500;

const strings = {
  zh: {
    new_run: "新建训练", recipe: "训练方式", model: "基座模型", data: "数据集", method: "方法", name: "输出模型名称",
    lr: "学习率", epochs: "轮数（epochs）", max_steps: "最多步数（-1 = 按轮数）", batch_size: "批大小", grad_accum: "梯度累积",
    max_seq_length: "序列长度（token）", lora_rank: "LoRA 秩", save_steps: "每 N 步保存检查点", logging_steps: "每 N 步记录",
    memory_gib: "显存/内存预算（GiB，空 = 本机）", gradient_checkpointing: "梯度检查点（省显存、稍慢）",
    full: "全参数", lora: "LoRA", qlora: "QLoRA（4 位基座，需 CUDA）",
    estimate: "资源估算", estimating: "估算中…", fits: "可以运行", will_not_fit: "无法运行", total: "合计", weights: "权重",
    gradients: "梯度", optimizer: "优化器状态", activations: "激活值", overhead: "运行时开销", per_device: "每个设备（GiB）",
    device: "设备", budget: "预算", time: "预计时间", no_time: "顾问只估算 GPU 上的时间", params: "参数 / 可训练",
    start: "开始训练", starting: "启动中…", started: "训练已开始：", runs: "训练记录", none: "还没有训练记录。",
    status: "状态", step: "步数", loss: "损失", created: "开始于", open: "查看", output: "输出",
    running: "运行中", finished: "已完成", failed: "失败", stopped: "已停止",
    stop: "停止", resume: "继续训练", stop_sent: "已发送停止信号，正在保存并退出…", resumed: "已从最近的检查点继续。",
    log: "日志（末尾）", curve: "损失曲线", lr_now: "当前学习率", stopped_at: "停止于第 {n} 步", checkpoints: "检查点",
    artifact: "输出模型", no_models: "工作区里还没有模型。请先用 `luban train` 或流水线生成一个基座模型。",
    no_data: "工作区里还没有数据集（见“数据”页）。", failed_hint: "进程已退出且未完成；请查看下方日志。",
    need_name: "请填写输出模型名称。", back: "返回列表", attempts: "次数", fix_first: "请先修正表单中的问题。",
  },
  en: {
    new_run: "New training run", recipe: "Recipe", model: "Base model", data: "Dataset", method: "Method", name: "Output model name",
    lr: "Learning rate", epochs: "Epochs", max_steps: "Max steps (-1 = by epochs)", batch_size: "Batch size", grad_accum: "Gradient accumulation",
    max_seq_length: "Sequence length (tokens)", lora_rank: "LoRA rank", save_steps: "Checkpoint every N steps", logging_steps: "Log every N steps",
    memory_gib: "Memory budget (GiB, empty = this machine)", gradient_checkpointing: "Gradient checkpointing (less memory, slower)",
    full: "Full weights", lora: "LoRA", qlora: "QLoRA (4-bit base, needs CUDA)",
    estimate: "Estimate", estimating: "Estimating…", fits: "Fits", will_not_fit: "Will not fit", total: "Total", weights: "Weights",
    gradients: "Gradients", optimizer: "Optimizer states", activations: "Activations", overhead: "Runtime overhead", per_device: "Per device (GiB)",
    device: "Device", budget: "Budget", time: "Time", no_time: "the advisor times GPU runs only", params: "Parameters / trainable",
    start: "Start training", starting: "Starting…", started: "Training started: ", runs: "Runs", none: "No training runs yet.",
    status: "Status", step: "Step", loss: "Loss", created: "Started", open: "Open", output: "Output",
    running: "running", finished: "finished", failed: "failed", stopped: "stopped",
    stop: "Stop", resume: "Resume", stop_sent: "Stop sent: the run saves nothing half-made and exits…", resumed: "Resumed from the last checkpoint.",
    log: "Log (tail)", curve: "Loss curve", lr_now: "Learning rate now", stopped_at: "stopped at step {n}", checkpoints: "Checkpoints",
    artifact: "Output model", no_models: "The workspace has no model yet; make a base model with `luban train` or a pipeline first.",
    no_data: "The workspace has no dataset yet (see the Datasets page).", failed_hint: "The process ended without finishing; see the log below.",
    need_name: "Give the output model a name.", back: "Back to the list", attempts: "Attempts", fix_first: "Fix the form first.",
  },
};

const NUMBERS = [["lr", "any"], ["epochs", "any"], ["max_steps", "1"], ["batch_size", "1"], ["grad_accum", "1"],
  ["max_seq_length", "1"], ["lora_rank", "1"], ["save_steps", "1"], ["logging_steps", "1"]];
const STATUS_TAG = { running: "warn", finished: "ok", failed: "bad", stopped: "" };

let timers = [];

function statusTag(t, status) { return h("span", { class: `tag ${STATUS_TAG[status] ?? ""}`, "data-status": status }, t(status)); }

function seconds(s) {
  if (s === null || s === undefined) return null;
  if (s < 1) return "< 1 s";
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export default {
  id: "training",
  title: { zh: "训练", en: "Training" },
  ops: ["artifacts.write"],
  strings,
  cleanup() { timers.forEach(clearTimeout); timers = []; },

  async render(root, ctx) {
    const { t } = ctx;
    this.cleanup();
    const runId = ctx.args[0];
    const opts = await ctx.api("api/runs/options");
    if (runId) { await detail(root, ctx, runId); return; }

    // -- the form --------------------------------------------------------------------------
    const d = opts.defaults;
    const fields = {};
    const select = (name, items) => (fields[name] = h("select", { name, id: `f-${name}` }, items.map(([v, label]) => h("option", { value: v }, label))));
    const number = (name, step) => (fields[name] = h("input", { type: "number", name, id: `f-${name}`, step, value: d[name], style: "width:100%" }));
    select("recipe", opts.recipes.map((r) => [r.name, `${r.name} — ${r.summary.replace(/ -> model$/, "")}`]));
    fields.recipe.value = opts.recipes.some((r) => r.name === d.recipe) ? d.recipe : (opts.recipes[0] || {}).name;
    select("model", opts.models.map((m) => [m.ref, m.label]));
    select("data", opts.datasets.map((x) => [x.ref, x.rows ? `${x.label} (${x.rows})` : x.label]));
    fields.method = h("select", { name: "method", id: "f-method" });
    NUMBERS.forEach(([n, step]) => number(n, step));
    fields.name = h("input", { name: "name", id: "f-name", placeholder: "my-model-v1", autocomplete: "off", style: "width:100%" });
    fields.memory_gib = h("input", { type: "number", name: "memory_gib", id: "f-memory_gib", step: "any", min: "0", placeholder: `${opts.device.memory_gib}`, style: "width:100%" });
    fields.gradient_checkpointing = h("input", { type: "checkbox", name: "gradient_checkpointing", id: "f-gradient_checkpointing" });

    const methods = () => {
      const r = opts.recipes.find((x) => x.name === fields.recipe.value);
      const keep = fields.method.value || d.method;
      fields.method.replaceChildren(...(r ? r.methods : []).map((m) => h("option", { value: m }, t(m))));
      if (r && r.methods.includes(keep)) fields.method.value = keep;
    };
    methods();

    const label = (name, el) => h("label", { "data-field": name }, t(name), el);
    const estimateBox = h("div", { id: "run-estimate" }, h("p", { class: "muted" }, t("estimating")));
    const errorBox = h("div", { id: "run-form-error" });
    const start = h("button", { class: "primary", id: "start-run", type: "submit", disabled: true }, t("start"));
    let verdict = null;

    const form = h("form", { id: "run-form", onsubmit: (ev) => { ev.preventDefault(); submit(); } },
      (!opts.models.length ? ctx.banner("info", t("no_models")) : null),
      (!opts.datasets.length ? ctx.banner("info", t("no_data")) : null),
      h("div", { style: "display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:8px 12px" },
        label("recipe", fields.recipe), label("model", fields.model), label("data", fields.data),
        label("method", fields.method), label("lora_rank", fields.lora_rank), label("name", fields.name),
        label("lr", fields.lr), label("epochs", fields.epochs), label("max_steps", fields.max_steps),
        label("batch_size", fields.batch_size), label("grad_accum", fields.grad_accum), label("max_seq_length", fields.max_seq_length),
        label("save_steps", fields.save_steps), label("logging_steps", fields.logging_steps), label("memory_gib", fields.memory_gib)),
      h("label", { class: "row", style: "margin-top:8px", "data-field": "gradient_checkpointing" }, fields.gradient_checkpointing, t("gradient_checkpointing")));

    for (const el of [fields.recipe, fields.model, fields.data, fields.method]) el.style.width = "100%";  // the grid sizes them

    function body() {
      const out = { recipe: fields.recipe.value, model: fields.model.value, data: fields.data.value, method: fields.method.value,
        name: fields.name.value.trim(), gradient_checkpointing: fields.gradient_checkpointing.checked };
      for (const [n] of NUMBERS) out[n] = fields[n].value === "" ? d[n] : Number(fields[n].value);
      out.memory_gib = fields.memory_gib.value === "" ? null : Number(fields.memory_gib.value);
      return out;
    }

    function mark(code) {
      form.querySelectorAll("[data-field]").forEach((el) => el.classList.remove("bad"));
      const field = code && code.startsWith("invalid_") ? code.slice(8) : null;
      const el = field && form.querySelector(`[data-field="${field}"]`);
      if (el) el.classList.add("bad");
    }

    let seq = 0;
    async function estimate() {
      const mine = ++seq;
      fields.lora_rank.disabled = fields.method.value === "full";
      estimateBox.replaceChildren(h("p", { class: "muted" }, h("span", { class: "spinner" }), " ", t("estimating")));
      start.disabled = true;
      try {
        const e = await ctx.api("api/runs/estimate", { method: "POST", body: body() });
        if (mine !== seq) return;
        verdict = e;
        mark(null);
        estimateBox.replaceChildren(showEstimate(e));
        start.disabled = !e.fits;
      } catch (err) {
        if (mine !== seq) return;
        verdict = null;
        mark(err.code);
        estimateBox.replaceChildren(h("div", { class: "banner error", id: "estimate-refusal", role: "alert" }, err.message));
      }
    }

    function showEstimate(e) {
      const refusal = e.fits ? null : h("div", { class: "banner error", id: "estimate-refusal", role: "alert" }, refusalText(e));
      if (!e.estimate) return h("div", {}, refusal);
      const rows = ["weights", "gradients", "optimizer", "activations", "overhead"].map((k) => h("tr", {}, h("td", {}, t(k)), h("td", { class: "mono" }, e.estimate[k].toFixed(3))));
      return h("div", {},
        h("p", { id: "estimate-verdict", class: e.fits ? "ok" : "bad", "data-fits": String(e.fits) },
          h("b", {}, e.fits ? `✓ ${t("fits")}` : `✗ ${t("will_not_fit")}`), ` · ${e.estimate.total.toFixed(2)} / ${e.memory_gib} GiB`),
        refusal,
        h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, t("per_device")))),
          h("tbody", {}, rows, h("tr", {}, h("td", {}, h("b", {}, t("total"))), h("td", { class: "mono", id: "estimate-total" }, h("b", {}, e.estimate.total.toFixed(3)))))),
        h("p", { class: "muted", style: "margin:6px 0 0" },
          `${t("device")}: ${e.device.name} · ${t("budget")}: ${e.memory_gib} GiB · ${t("params")}: ${fmt(e.params)} / ${fmt(e.trainable)}`),
        h("p", { class: "muted", style: "margin:2px 0 0", id: "estimate-time" }, `${t("time")}: ${seconds(e.seconds) ?? "– (" + t("no_time") + ")"}`));
    }

    // the server's reason is English; in Chinese the same numbers are said in Chinese (the advisor's steps stay as they are)
    function refusalText(e) {
      if (ctx.lang !== "zh" || !e.estimate) return e.reason;
      const base = `无法运行：此方案每个设备需要 ${e.estimate.total.toFixed(2)} GiB，${e.device.name} 只有 ${Number(e.memory_gib).toFixed(2)} GiB`;
      return base + (e.advice.length ? `；顾问建议：${e.advice.join("；然后 ")}` : "；顾问尝试的调整都放不下：请换更小的模型、序列长度或批大小") + "。";
    }

    async function submit() {
      errorBox.replaceChildren();
      const b = body();
      if (!b.name) { errorBox.append(ctx.banner("error", t("need_name"))); mark("invalid_name"); return; }
      if (!verdict || !verdict.fits) { errorBox.append(ctx.banner("error", t("fix_first"))); return; }
      start.disabled = true;
      start.textContent = t("starting");
      try {
        const rec = await ctx.api("api/runs", { method: "POST", body: b });
        ctx.toast("ok", t("started") + rec.name);
        ctx.navigate(`#/training/${rec.id}`);
      } catch (err) {
        mark(err.code);
        errorBox.append(h("div", { class: "banner error", id: "start-refusal", role: "alert" }, err.message));
        start.disabled = false;
        start.textContent = t("start");
      }
    }

    let debounce = null;
    const changed = () => { clearTimeout(debounce); debounce = setTimeout(estimate, 350); timers.push(debounce); };
    fields.recipe.addEventListener("change", () => { methods(); changed(); });
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);

    const runsBox = h("div", { id: "runs-list" });
    root.append(
      h("div", { style: "display:grid;grid-template-columns:minmax(0,3fr) minmax(280px,2fr);gap:14px;align-items:start" },
        h("div", { class: "panel" }, h("h2", { style: "margin-top:0" }, t("new_run")), form, errorBox),
        h("div", { class: "panel" }, h("h2", { style: "margin-top:0" }, t("estimate")), estimateBox,
          h("div", { class: "row", style: "margin-top:10px" }, start))),
      h("h2", {}, t("runs")), runsBox);
    start.addEventListener("click", (ev) => { ev.preventDefault(); submit(); });

    async function refresh() {
      try {
        const { runs } = await ctx.api("api/runs");
        runsBox.replaceChildren(runs.length ? runTable(ctx, runs) : h("p", { class: "empty" }, t("none")));
        if (runs.some((r) => r.status === "running")) timers.push(setTimeout(refresh, POLL_MS * 2));
      } catch (err) {
        runsBox.replaceChildren(ctx.banner("error", err.message));
      }
    }
    await Promise.all([estimate(), refresh()]);
  },
};

function runTable(ctx, runs) {
  const { t } = ctx;
  return table(runs, [
    { label: t("name"), render: (r) => h("a", { href: `#/training/${r.id}`, "data-run": r.id }, h("b", {}, r.name)) },
    { label: t("recipe"), render: (r) => `${r.recipe}${r.method ? " · " + r.method : ""}` },
    { label: t("model"), key: "model" },
    { label: t("data"), key: "data" },
    { label: t("status"), render: (r) => statusTag(t, r.status) },
    { label: t("step"), key: "step" },
    { label: t("loss"), key: "loss" },
    { label: t("created"), render: (r) => when(r.created) },
  ], { id: "runs-table" });
}

// -- one run: status, curve, log, Stop / Resume ---------------------------------------------
async function detail(root, ctx, runId) {
  const { t } = ctx;
  const head = h("div", { class: "row", id: "run-head" });
  const chartBox = h("div", { id: "run-chart" });
  const info = h("div", { class: "muted", id: "run-info" });
  const logBox = h("pre", { id: "run-log", style: "max-height:220px;margin:0" });
  const msg = h("div", { id: "run-message" });
  root.append(
    h("p", {}, h("a", { href: "#/training" }, "← " + t("back"))),
    h("div", { class: "panel" }, head, msg),
    h("div", { style: "display:grid;grid-template-columns:minmax(0,3fr) minmax(260px,2fr);gap:14px;align-items:start" },
      h("div", { class: "panel" }, h("h2", { style: "margin-top:0" }, t("curve")), chartBox, info),
      h("div", { class: "panel" }, h("h2", { style: "margin-top:0" }, t("log")), logBox)));

  let busy = false;
  async function act(what) {
    busy = true;
    msg.replaceChildren();
    try {
      await ctx.api(`api/runs/${encodeURIComponent(runId)}/${what}`, { method: "POST" });
      msg.append(ctx.banner("info", t(what === "stop" ? "stop_sent" : "resumed")));
    } catch (err) {
      msg.append(h("div", { class: "banner error", role: "alert" }, err.message));
    }
    busy = false;
    poll(false);
  }

  async function poll(again = true) {
    let r;
    try {
      r = await ctx.api(`api/runs/${encodeURIComponent(runId)}`);
    } catch (err) {
      head.replaceChildren(ctx.banner("error", err.message));
      return;
    }
    const stop = h("button", { class: "danger", id: "stop-run", disabled: r.status !== "running" || busy || r.stop_requested, onclick: () => act("stop") }, t("stop"));
    const resume = h("button", { id: "resume-run", disabled: !["stopped", "failed"].includes(r.status) || !r.checkpoints.length || busy, onclick: () => act("resume") }, t("resume"));
    head.replaceChildren(
      h("h2", { style: "margin:0" }, r.name), statusTag(t, r.status),
      h("span", { class: "muted" }, `${r.recipe}${r.method ? " · " + r.method : ""} · ${r.model} + ${r.data} · ${t("attempts")}: ${r.attempts}`),
      h("span", { class: "grow" }), stop, resume);
    if (r.status === "failed" && !msg.querySelector(".banner.error")) msg.replaceChildren(ctx.banner("error", t("failed_hint")));
    const pts = r.points.map((p) => [p.step, p.loss]);
    chartBox.replaceChildren(lineChart([{ name: t("loss"), points: pts }], { id: "loss-chart", xLabel: t("step"), yLabel: t("loss"), height: 220 }));
    const last = r.points[r.points.length - 1];
    info.replaceChildren(
      h("span", { id: "run-step", "data-step": last ? last.step : "" }, `${t("step")}: ${last ? last.step : "–"}`),
      last ? ` · ${t("loss")}: ${fmt(last.loss)}` : "",
      last && last.lr !== null && last.lr !== undefined ? ` · ${t("lr_now")}: ${Number(last.lr).toExponential(2)}` : "",
      r.stopped_at_step ? ` · ${t("stopped_at").replace("{n}", r.stopped_at_step)}` : "",
      r.checkpoints.length ? ` · ${t("checkpoints")}: ${r.checkpoints.map((c) => c.replace("checkpoint-", "")).join(", ")}` : "",
      r.artifact ? h("div", { id: "run-artifact", class: "ok" }, `${t("artifact")}: ${r.artifact.name} (${r.artifact.id.slice(0, 12)}) · ${fmt(r.artifact.steps)} ${t("step")} · ${t("loss")} ${fmt(r.artifact.final_loss)}`) : "");
    const atEnd = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 4;
    logBox.textContent = r.log || "–";
    if (atEnd) logBox.scrollTop = logBox.scrollHeight;
    if (again) timers.push(setTimeout(() => poll(true), r.status === "running" ? POLL_MS : POLL_MS * 4));
  }
  await poll(true);
}
