// Side-by-side: one prompt to two models at once, both streaming, with time, first token, tokens and speed.
import { addStyle, chatStyle, errorText, metaTags, streamChat } from "./chat.js";

const STRINGS = {
  zh: {
    left: "模型 A", right: "模型 B", prompt: "提示词", prompt_ph: "同一条消息发给两个模型，Ctrl+Enter 发送", system: "系统提示词（两边相同，可选）",
    send: "同时发送", stop: "停止", no_models: "此网关没有可调用的模型（或你的密钥范围内没有）。", temperature: "温度", max_tokens: "最大生成长度",
    speed: "速度", waiting: "等待回答…", finish: "结束", tokens: "令牌", latency: "耗时", ttft: "首字", label: "AIGC 标识", policy: "策略",
    blocked_input: "输入被护栏拦截", blocked_output: "输出被护栏拦截", masked: "已脱敏", flagged: "已标记",
    limited: "超出限额（429）", forbidden: "无权调用（403）", failed: "调用失败", stopped: "已停止：回答不完整。",
    lost: "与网关的连接已断开，回答不完整。网关恢复后可以继续发送。", upstream: "上游模型出错，回答在此中断：",
    network: "无法连接网关：请检查它是否在运行，然后重试。",
  },
  en: {
    left: "Model A", right: "Model B", prompt: "Prompt", prompt_ph: "One message to both models; Ctrl+Enter sends", system: "System prompt (the same for both, optional)",
    send: "Send to both", stop: "Stop", no_models: "This gateway has no model you can call (or none within your key's scopes).", temperature: "Temperature", max_tokens: "Max tokens",
    speed: "speed", waiting: "Waiting for the answer…", finish: "finish", tokens: "tokens", latency: "time", ttft: "first token", label: "AIGC label", policy: "policy",
    blocked_input: "Input blocked by the guard", blocked_output: "Output blocked by the guard", masked: "masked", flagged: "flagged",
    limited: "Limit reached (429)", forbidden: "Not allowed (403)", failed: "The call failed", stopped: "Stopped: the answer is incomplete.",
    lost: "The connection to the gateway was lost; the answer is incomplete. Send again once the gateway is back.", upstream: "The model upstream failed; the answer is cut here: ",
    network: "Cannot reach the gateway; check that it is running, then retry.",
  },
};

const STYLE = `
.cmp-out { height:calc(100vh - 380px); min-height:180px; overflow:auto; }
.cmp-out .text { white-space:pre-wrap; word-break:break-word; }
`;

let controller = null;

export default {
  id: "compare",
  title: { zh: "对比", en: "Side-by-side" },
  ops: ["models.call"],
  strings: STRINGS,
  async render(root, ctx) {
    const { h, t } = ctx;
    addStyle("style-chat", chatStyle);
    addStyle("style-compare", STYLE);
    const names = ((await ctx.api("../v1/models")).data || []).map((m) => m.id);
    if (!names.length) { root.append(ctx.banner("info", t("no_models"))); return; }
    const pick = (id, i) => {
      const s = h("select", { id }, names.map((n) => h("option", { value: n }, n)));
      s.value = names[Math.min(i, names.length - 1)];
      return s;
    };
    const sides = [
      { key: "a", select: pick("cmp-model-a", 0), label: t("left") },
      { key: "b", select: pick("cmp-model-b", 1), label: t("right") },
    ];
    const system = h("input", { id: "cmp-system", style: "width:100%" });
    const prompt = h("textarea", { id: "cmp-prompt", placeholder: t("prompt_ph") });
    const temperature = h("input", { id: "cmp-temperature", type: "number", min: "0", max: "2", step: "0.1", value: "0.7", style: "width:90px" });
    const maxTokens = h("input", { id: "cmp-max-tokens", type: "number", min: "1", max: "32768", value: "256", style: "width:100px" });
    const send = h("button", { class: "primary", id: "cmp-send" }, t("send"));
    const stop = h("button", { id: "cmp-stop", disabled: true }, t("stop"));
    for (const s of sides) {
      s.text = h("div", { class: "text" });
      s.meta = h("div", { class: "meta" });
      s.box = h("div", { class: "panel msg cmp-out", id: `cmp-out-${s.key}` }, s.text, s.meta);
    }
    root.append(
      h("div", { class: "panel" },
        h("div", { class: "row" }, ...sides.map((s) => h("label", {}, s.label, s.select)),
          h("label", {}, t("temperature"), temperature), h("label", {}, t("max_tokens"), maxTokens)),
        h("label", { style: "display:block;margin-top:8px" }, t("system"), system),
        h("label", { style: "display:block;margin-top:8px" }, t("prompt"), prompt),
        h("div", { class: "row", style: "margin-top:6px" }, send, stop)),
      h("div", { class: "cols" }, sides.map((s) => s.box)));

    async function one(s, body, signal) {
      s.box.classList.remove("refused", "lost");
      delete s.box.dataset.done;
      delete s.box.dataset.error;
      s.text.replaceChildren(h("span", { class: "muted" }, t("waiting")));
      s.meta.replaceChildren();
      const r = await streamChat(ctx, { ...body, model: s.select.value }, { signal, onText: (so) => { s.text.textContent = so; } });
      s.text.textContent = r.text;
      if (r.error) {
        s.box.classList.add(r.error.kind === "lost" ? "lost" : "refused");
        s.box.dataset.error = r.error.kind;
        s.text.append(h("div", { class: "note bad" }, errorText(ctx, r.error)));
      }
      const tags = metaTags(ctx, r);
      const n = r.usage && r.usage.completion_tokens;
      if (n && r.ttft !== null && r.ms - r.ttft >= 100) {  // an answer that came in one piece has no speed to show
        tags.push(h("span", { class: "tag", "data-speed": "1" }, `${t("speed")}: ${(n / ((r.ms - r.ttft) / 1000 || 1)).toFixed(1)} tok/s`));
      }
      s.meta.replaceChildren(...tags);
      s.box.dataset.done = "1";
    }

    async function go() {
      const text = prompt.value.trim();
      if (!text || controller) return;
      const messages = [...(system.value.trim() ? [{ role: "system", content: system.value.trim() }] : []), { role: "user", content: text }];
      const body = { messages, temperature: Number(temperature.value), max_tokens: Number(maxTokens.value) };
      controller = new AbortController();
      send.disabled = true;
      stop.disabled = false;
      await Promise.all(sides.map((s) => one(s, body, controller.signal)));
      controller = null;
      send.disabled = false;
      stop.disabled = true;
    }

    send.addEventListener("click", go);
    prompt.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); go(); } });
    stop.addEventListener("click", () => { if (controller) controller.abort(); });
  },
  cleanup() { if (controller) controller.abort(); controller = null; },
};
