// Chat playground: any routed model, streamed over SSE from ../v1/chat/completions exactly as an app gets it,
// with the guard's verdicts (X-Luban-Guard header, luban_guard field, content_filter finish) and the AIGC label
// (AIGC header, aigc field, the notice in the text). Exports streamChat/classify/chatStyle for compare.js.

export const chatStyle = `
.chat-grid { display:grid; grid-template-columns:minmax(0,1fr) 290px; gap:14px; align-items:start; }
.chat-log { height:calc(100vh - 290px); min-height:220px; overflow:auto; padding:10px 12px; }
.msg { margin:0 0 12px; }
.msg .who { font-size:12px; color:var(--muted); margin-bottom:2px; }
.msg .text { white-space:pre-wrap; word-break:break-word; padding:8px 11px; border-radius:8px; background:#f1f3f6; display:inline-block; max-width:100%; }
.msg.user .text { background:#fbeee7; }
.msg.refused .text, .msg.lost .text { background:#fdecea; color:#8a1c1c; }
.msg .meta { margin-top:4px; display:flex; gap:6px; flex-wrap:wrap; font-size:12px; color:var(--muted); }
.msg .note { margin-top:4px; font-size:12.5px; }
.chat-side label { display:block; margin-bottom:8px; }
.chat-side label > input, .chat-side label > select, .chat-side label > textarea { width:100%; }
.chat-side label.check { display:flex; gap:6px; align-items:center; }
.chat-side label.check > input { width:auto; margin:0; }
.chat-side textarea { min-height:64px; }
.composer textarea { min-height:58px; }
`;

const STRINGS = {
  zh: {
    model: "模型", system: "系统提示词", system_ph: "（可选）例如：你是鲁班公司的客服助手。", template: "提示词模板", none: "（不使用）",
    latest: "最新", variables: "模板变量", temperature: "温度", max_tokens: "最大生成长度", stream: "流式输出",
    send: "发送", stop: "停止", clear: "新对话", input_ph: "输入消息，Ctrl+Enter 发送", you: "你", assistant: "模型",
    no_models: "此网关没有可调用的模型（或你的密钥范围内没有）。", templates_off: "此网关未启用提示词模板钩子（gateway.yaml 中 hooks: [{use: prompts}]），所选模板不会生效。",
    key_prompt: "你的密钥绑定了模板 {t}，每次调用都会套用。", guard_on: "护栏：策略 {p}", guard_off: "此网关未启用护栏（没有 guard 钩子）：不做审核，也不加 AIGC 标识。",
    finish: "结束", tokens: "令牌", latency: "耗时", ttft: "首字", label: "AIGC 标识", policy: "策略",
    blocked_input: "输入被护栏拦截", blocked_output: "输出被护栏拦截", masked: "已脱敏", flagged: "已标记",
    limited: "超出限额（429）", forbidden: "无权调用（403）", failed: "调用失败", stopped: "已停止：回答不完整。",
    lost: "与网关的连接已断开，回答不完整。网关恢复后可以继续发送。", upstream: "上游模型出错，回答在此中断：",
    network: "无法连接网关：请检查它是否在运行，然后重试。", excluded: "（此轮不计入后续对话历史）",
  },
  en: {
    model: "Model", system: "System prompt", system_ph: "(optional) e.g. You are Acme's support assistant.", template: "Prompt template", none: "(none)",
    latest: "latest", variables: "Template variables", temperature: "Temperature", max_tokens: "Max tokens", stream: "Stream the answer",
    send: "Send", stop: "Stop", clear: "New chat", input_ph: "Type a message; Ctrl+Enter sends", you: "You", assistant: "Model",
    no_models: "This gateway has no model you can call (or none within your key's scopes).", templates_off: "This gateway runs without the prompts hook (hooks: [{use: prompts}] in gateway.yaml): a template chosen here is not applied.",
    key_prompt: "Your key carries the template {t}: it applies to every call.", guard_on: "Guard: policy {p}", guard_off: "This gateway runs without the guard hook: no moderation and no AIGC label.",
    finish: "finish", tokens: "tokens", latency: "time", ttft: "first token", label: "AIGC label", policy: "policy",
    blocked_input: "Input blocked by the guard", blocked_output: "Output blocked by the guard", masked: "masked", flagged: "flagged",
    limited: "Limit reached (429)", forbidden: "Not allowed (403)", failed: "The call failed", stopped: "Stopped: the answer is incomplete.",
    lost: "The connection to the gateway was lost; the answer is incomplete. Send again once the gateway is back.", upstream: "The model upstream failed; the answer is cut here: ",
    network: "Cannot reach the gateway; check that it is running, then retry.", excluded: "(this turn is left out of the conversation's history)",
  },
};

export function addStyle(id, css) {
  if (document.getElementById(id)) return;
  const el = document.createElement("style");
  el.id = id;
  el.textContent = css;
  document.head.append(el);
}

function parseJSON(s) { try { return s ? JSON.parse(s) : null; } catch { return null; } }

/** An error thrown before the answer started (ctx.api's ApiError) -> {kind, status, code, message}. */
export function classify(e) {
  if (e.name === "AbortError") return { kind: "stopped" };
  const base = { status: e.status, code: e.code, message: e.message };
  if (e.status === 0) return { ...base, kind: "network" };
  if (e.code === "content_filter") return { ...base, kind: "blocked_input" };
  if (e.status === 429) return { ...base, kind: "limited" };
  if (e.status === 403) return { ...base, kind: "forbidden" };
  return { ...base, kind: "failed" };
}

/** One chat completion, streamed (or not), read the way an OpenAI client reads it.
 *  Resolves to {text, finish, usage, aigc, guard, ttft, ms, error}; never throws. onText(textSoFar) per delta. */
export async function streamChat(ctx, body, { signal, onText, stream = true } = {}) {
  const out = { text: "", finish: null, usage: null, aigc: null, guard: null, ttft: null, ms: 0, error: null };
  const t0 = performance.now();
  const req = stream ? { ...body, stream: true, stream_options: { include_usage: true } } : { ...body, stream: false };
  let res;
  try {
    res = await ctx.api("../v1/chat/completions", { method: "POST", body: req, raw: true, signal });
  } catch (e) {
    out.error = classify(e);
    out.ms = performance.now() - t0;
    return out;
  }
  out.aigc = parseJSON(res.headers.get("aigc"));
  out.guard = parseJSON(res.headers.get("x-luban-guard"));
  let done = false;
  try {
    if (!stream) {
      const answer = await res.json();
      const choice = (answer.choices || [])[0] || {};
      out.text = (choice.message && choice.message.content) || "";
      out.finish = choice.finish_reason || null;
      out.usage = answer.usage || null;
      out.aigc = answer.aigc || out.aigc;
      out.guard = answer.luban_guard || out.guard;
      out.ttft = performance.now() - t0;
      if (onText) onText(out.text);
      done = true;
    } else {
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buf += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const event = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
          if (!data) continue;
          if (data === "[DONE]") { done = true; continue; }
          const obj = parseJSON(data);
          if (!obj) continue;
          if (obj.error) {
            out.error = { kind: "upstream", message: typeof obj.error === "string" ? obj.error : obj.error.message };
            continue;
          }
          if (obj.aigc && !out.aigc) out.aigc = obj.aigc;
          if (obj.luban_guard) out.guard = obj.luban_guard;
          if (obj.usage) out.usage = obj.usage;
          for (const c of obj.choices || []) {
            const piece = c.delta && c.delta.content;
            if (piece) {
              if (out.ttft === null) out.ttft = performance.now() - t0;
              out.text += piece;
              if (onText) onText(out.text);
            }
            if (c.finish_reason) out.finish = c.finish_reason;
          }
        }
      }
    }
  } catch (e) {
    out.error = e.name === "AbortError" ? { kind: "stopped" } : { kind: "lost" };
  }
  // a stream that ends without [DONE] (the server went away, a proxy cut it) is an incomplete answer
  if (!out.error && !done) out.error = { kind: "lost" };
  out.ms = performance.now() - t0;
  return out;
}

/** Tags for one finished answer: finish, tokens, time, guard verdicts, AIGC label. */
export function metaTags(ctx, r) {
  const { h, t } = ctx;
  const tags = [];
  if (r.finish) tags.push(h("span", { class: r.finish === "content_filter" ? "tag bad" : "tag", "data-finish": r.finish }, `${t("finish")}: ${r.finish}`));
  if (r.usage) tags.push(h("span", { class: "tag", "data-usage": r.usage.completion_tokens }, `${t("tokens")}: ${r.usage.prompt_tokens} + ${r.usage.completion_tokens}`));
  tags.push(h("span", { class: "tag", "data-ms": Math.round(r.ms) }, `${t("latency")}: ${(r.ms / 1000).toFixed(2)} s`));
  if (r.ttft !== null) tags.push(h("span", { class: "tag" }, `${t("ttft")}: ${Math.round(r.ttft)} ms`));
  tags.push(...guardTags(ctx, r.guard));
  if (r.aigc) {
    const lab = Object.entries(r.aigc).map(([k, v]) => `${k}=${v}`).join(", ");
    tags.push(h("span", { class: "tag ok", title: lab, "data-aigc": "1" }, `${t("label")}: ${lab}`));
  }
  return tags;
}

export function guardTags(ctx, guard) {
  if (!guard) return [];
  const { h, t } = ctx;
  const tags = [h("span", { class: "tag", "data-guard": guard.policy }, `${t("policy")}: ${guard.policy}`)];
  for (const v of guard.verdicts || []) {
    const word = v.action === "block" ? t(v.stage === "output" ? "blocked_output" : "blocked_input")
      : v.action === "mask" ? t("masked") : v.action === "flag" ? t("flagged") : v.action;
    tags.push(h("span", { class: v.action === "block" ? "tag bad" : "tag warn", "data-verdict": `${v.stage}:${v.action}` },
      `${v.stage} · ${word} · ${v.category || v.scanner}`));
  }
  return tags;
}

/** What an error means for the user, as one line. */
export function errorText(ctx, err) {
  const { t } = ctx;
  if (err.kind === "lost" || err.kind === "stopped" || err.kind === "network") return t(err.kind);
  if (err.kind === "upstream") return t("upstream") + (err.message || "");
  return `${t(err.kind)}: ${err.message || ""}`;
}

async function loadTemplates(ctx) {
  if (!ctx.can("prompts.read")) return [];
  try { return await ctx.api("../admin/prompts"); } catch { return []; }
}

let controller = null;

export default {
  id: "chat",
  title: { zh: "对话", en: "Chat" },
  ops: ["models.call"],
  strings: STRINGS,
  async render(root, ctx) {
    const { h, t } = ctx;
    addStyle("style-chat", chatStyle);
    const [models, info, templates] = await Promise.all([
      ctx.api("../v1/models"), ctx.api("api/integration/gateway"), loadTemplates(ctx)]);
    const names = (models.data || []).map((m) => m.id);
    if (!names.length) { root.append(ctx.banner("info", t("no_models"))); return; }

    const history = [];  // the messages of the turns that completed, sent with every new turn
    const model = h("select", { id: "chat-model" }, names.map((n) => h("option", { value: n }, n)));
    if (ctx.query.get("model") && names.includes(ctx.query.get("model"))) model.value = ctx.query.get("model");
    const system = h("textarea", { id: "chat-system", placeholder: t("system_ph") });
    const temperature = h("input", { id: "chat-temperature", type: "number", min: "0", max: "2", step: "0.1", value: "0.7" });
    const maxTokens = h("input", { id: "chat-max-tokens", type: "number", min: "1", max: "32768", step: "1", value: "256" });
    const stream = h("input", { id: "chat-stream", type: "checkbox", checked: true });
    const vars = h("div", { id: "chat-vars" });
    const template = h("select", { id: "chat-template", disabled: !info.prompts && !templates.length },
      h("option", { value: "" }, t("none")),
      templates.flatMap((p) => [h("option", { value: p.name }, `${p.name} (${t("latest")} @${p.versions[p.versions.length - 1]})`),
        ...p.versions.slice(0, -1).reverse().map((v) => h("option", { value: `${p.name}@${v}` }, `${p.name}@${v}`))]));
    template.addEventListener("change", async () => {
      vars.replaceChildren();
      if (!template.value) return;
      const one = await ctx.api(`../admin/prompts/${encodeURIComponent(template.value)}`).catch(() => null);
      if (one && one.variables.length) {
        vars.append(h("div", { class: "muted", style: "font-size:12.5px" }, t("variables")),
          ...one.variables.map((v) => h("label", {}, v, h("input", { "data-var": v }))));
      }
    });

    const side = h("div", { class: "panel chat-side" },
      h("label", {}, t("model"), model),
      templates.length || info.key_prompt ? h("label", {}, t("template"), template) : null, vars,
      templates.length && !info.prompts ? h("p", { class: "muted", style: "font-size:12px" }, t("templates_off")) : null,
      info.key_prompt ? h("p", { class: "muted", style: "font-size:12px" }, t("key_prompt").replace("{t}", info.key_prompt)) : null,
      h("label", {}, t("system"), system),
      h("div", { class: "row" }, h("label", { class: "grow" }, t("temperature"), temperature), h("label", { class: "grow" }, t("max_tokens"), maxTokens)),
      h("label", { class: "check" }, stream, t("stream")),
      h("p", { id: "chat-guard", class: "muted", style: "font-size:12px" },
        info.guard ? t("guard_on").replace("{p}", info.guard.policy) : t("guard_off")));

    const log = h("div", { class: "panel chat-log", id: "chat-log", "aria-live": "polite" });
    const input = h("textarea", { id: "chat-input", placeholder: t("input_ph") });
    const send = h("button", { class: "primary", id: "chat-send" }, t("send"));
    const stop = h("button", { id: "chat-stop", disabled: true }, t("stop"));
    const clearBtn = h("button", { id: "chat-clear" }, t("clear"));
    const composer = h("div", { class: "composer" }, input, h("div", { class: "row", style: "margin-top:6px" }, send, stop, h("span", { class: "grow" }), clearBtn));
    root.append(h("div", { class: "chat-grid" }, h("div", {}, log, composer), side));

    const scroll = () => { log.scrollTop = log.scrollHeight; };
    const bubble = (role, text) => {
      const body = h("div", { class: "text" }, text);
      const el = h("div", { class: `msg ${role}` }, h("div", { class: "who" }, role === "user" ? t("you") : `${t("assistant")} · ${model.value}`), body);
      log.append(el);
      scroll();
      return { el, body };
    };

    async function turn() {
      const text = input.value.trim();
      if (!text || controller) return;
      input.value = "";
      bubble("user", text);
      const messages = [...(system.value.trim() ? [{ role: "system", content: system.value.trim() }] : []), ...history,
        { role: "user", content: text }];
      const body = { model: model.value, messages, temperature: Number(temperature.value), max_tokens: Number(maxTokens.value) };
      if (template.value) {
        const variables = {};
        for (const el of vars.querySelectorAll("[data-var]")) if (el.value !== "") variables[el.dataset.var] = el.value;
        body.luban = { prompt: template.value, ...(Object.keys(variables).length ? { variables } : {}) };
      }
      const answer = bubble("assistant", "");
      answer.el.classList.add("streaming");
      answer.body.append(h("span", { class: "spinner" }));
      controller = new AbortController();
      send.disabled = true;
      stop.disabled = false;
      const r = await streamChat(ctx, body, { signal: controller.signal, stream: stream.checked,
        onText: (so) => { answer.body.textContent = so; scroll(); } });
      controller = null;
      send.disabled = false;
      stop.disabled = true;
      answer.el.classList.remove("streaming");
      answer.body.textContent = r.text;
      const complete = !r.error && r.finish && r.finish !== "content_filter";
      if (r.error) {
        answer.el.classList.add(r.error.kind === "lost" ? "lost" : "refused");
        answer.el.dataset.error = r.error.kind;
        if (!r.text) answer.body.textContent = errorText(ctx, r.error);
        else answer.el.append(h("div", { class: "note bad" }, errorText(ctx, r.error)));
      } else if (r.finish === "content_filter") {
        answer.el.classList.add("refused");
        answer.el.dataset.error = "blocked_output";
        answer.el.append(h("div", { class: "note bad" }, t("blocked_output")));
      }
      if (r.error && r.error.kind === "blocked_input") answer.el.append(h("div", { class: "meta" }, h("span", { class: "tag bad", "data-verdict": "input:block" }, t("blocked_input"))));
      else answer.el.append(h("div", { class: "meta" }, metaTags(ctx, r)));
      answer.el.dataset.done = "1";
      if (complete) history.push({ role: "user", content: text }, { role: "assistant", content: r.text });
      else answer.el.append(h("div", { class: "muted note" }, t("excluded")));
      scroll();
      input.focus();
    }

    send.addEventListener("click", turn);
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); turn(); } });
    stop.addEventListener("click", () => { if (controller) controller.abort(); });
    clearBtn.addEventListener("click", () => { if (controller) controller.abort(); history.length = 0; log.replaceChildren(); });
    input.focus();
  },
  cleanup() { if (controller) controller.abort(); controller = null; },
};
