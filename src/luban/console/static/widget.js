// Luban chat widget: one tag on a company's own page gives its visitors a chat window with a model behind the
// gateway, streamed, with the guard's refusals and the AIGC label shown as the gateway sends them.
//
//   <script src="https://GATEWAY/console/widget.js" data-key="sk-luban-..." data-model="MODEL"
//           data-title="Ask us" data-lang="zh|en" data-system="(optional system prompt)"></script>
//
// Design: no dependencies and no build; the gateway's address is taken from this script's own src; everything
// is drawn inside a Shadow DOM under a wrapper that resets every inherited style (`all: initial`), so the
// page's CSS cannot reach the widget and the widget's cannot reach the page. The key must be an app key that lists this page's origin
// (`luban keys create NAME --origin https://shop.example.com`): it is visible to every visitor, so give it a
// narrow model scope and rate limits. Text is only ever set through textContent.
(() => {
  "use strict";
  const me = document.currentScript;
  if (!me || !me.src) return;
  const cfg = me.dataset;
  const base = me.src.replace(/\/console\/widget\.js(?:[?#].*)?$/, "");
  const lang = (cfg.lang || navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
  const T = {
    zh: {
      title: "智能助手", open: "打开对话", close: "关闭", send: "发送", placeholder: "输入问题，Enter 发送",
      hello: "您好！有什么可以帮您？", aigc: "以上内容由人工智能生成", refused: "此回答已被安全策略拦截。",
      origin: "此密钥不允许在本网站（{o}）使用。请网站管理员在网关上为密钥添加此来源。",
      expired: "此聊天窗口的密钥已过期，请联系网站管理员更换。", revoked: "此聊天窗口的密钥已被停用，请联系网站管理员。",
      badkey: "此聊天窗口的密钥无效，请联系网站管理员。", rate: "请求太频繁了，请 {s} 秒后再试。",
      quota: "本服务的用量额度已用完，请稍后再试或联系网站管理员。", gone: "无法连接到服务，请检查网络后重试。",
      cut: "连接中断，回答不完整，请重试。", server: "服务暂时不可用（{s}），请稍后再试。", model: "此聊天窗口未配置可用的模型。",
    },
    en: {
      title: "Assistant", open: "Open chat", close: "Close", send: "Send", placeholder: "Ask a question; Enter sends",
      hello: "Hello! How can I help?", aigc: "AI-generated content", refused: "This answer was stopped by the safety policy.",
      origin: "This chat key may not be used on this site ({o}). The site's admin can add this origin to the key on the gateway.",
      expired: "This chat's key has expired; please tell the site's admin.", revoked: "This chat's key was revoked; please tell the site's admin.",
      badkey: "This chat's key is not valid; please tell the site's admin.", rate: "Too many requests; please try again in {s} s.",
      quota: "This service has used up its quota; try later or tell the site's admin.", gone: "Cannot reach the service; check your connection and retry.",
      cut: "The connection broke; the answer is incomplete. Please retry.", server: "The service is unavailable ({s}); please try later.",
      model: "This chat has no model it may use.",
    },
  }[lang];
  const fill = (s, v) => s.replace(/\{(\w)\}/g, (_, k) => String(v[k] ?? ""));

  const CSS = `
:host { all: initial !important; display: block !important; }
.w { all: initial; display: block; position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 14px/1.5 system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; color: #1f2328; text-align: left; }
* { box-sizing: border-box; }
button { font: inherit; cursor: pointer; border: 0; }
.fab { width: 56px; height: 56px; border-radius: 50%; background: #c2410c; color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid; place-items: center; }
.fab svg { width: 26px; height: 26px; fill: currentColor; }
.panel { position: absolute; right: 0; bottom: 68px; width: min(370px, calc(100vw - 40px)); height: min(540px, calc(100vh - 110px)); background: #fff; border-radius: 12px; box-shadow: 0 10px 40px rgba(0,0,0,.22); display: flex; flex-direction: column; overflow: hidden; }
.panel[hidden] { display: none; }
header { display: flex; align-items: center; justify-content: space-between; padding: 10px 14px; background: #c2410c; color: #fff; font-weight: 600; }
header button { background: transparent; color: #fff; font-size: 20px; line-height: 1; padding: 2px 6px; }
.log { flex: 1; overflow-y: auto; padding: 12px; background: #f7f7f8; }
.msg { margin: 0 0 10px; display: flex; flex-direction: column; align-items: flex-start; }
.msg.user { align-items: flex-end; }
.bubble { max-width: 88%; padding: 8px 11px; border-radius: 10px; background: #fff; border: 1px solid #e5e7eb; white-space: pre-wrap; word-break: break-word; }
.msg.user .bubble { background: #fde7dc; border-color: #f8cdb8; }
.msg.refused .bubble, .msg.error .bubble { background: #fdecea; border-color: #f5c2c0; color: #8a1c1c; }
.tag { margin-top: 3px; font-size: 11.5px; color: #6b7280; }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; background: #fff; }
textarea { flex: 1; resize: none; height: 40px; padding: 8px 10px; border: 1px solid #d1d5db; border-radius: 8px; font: inherit; color: inherit; }
form button { background: #c2410c; color: #fff; border-radius: 8px; padding: 0 14px; }
form button:disabled { opacity: .5; cursor: default; }
`;

  const el = (tag, attrs = {}, ...kids) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    n.append(...kids);
    return n;
  };
  const host = el("div", { id: "luban-chat-widget" });
  const root = host.attachShadow({ mode: "open" });
  const style = el("style");
  style.textContent = CSS;
  const fab = el("button", { class: "fab", part: "button", "aria-label": T.open, title: T.open });
  fab.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  const closeBtn = el("button", { "aria-label": T.close, title: T.close }, "×");
  const log = el("div", { class: "log", role: "log", "aria-live": "polite" });
  const input = el("textarea", { placeholder: T.placeholder, rows: "1", "aria-label": T.placeholder });
  const sendBtn = el("button", { type: "submit" }, T.send);
  const form = el("form", {}, input, sendBtn);
  const panel = el("div", { class: "panel", role: "dialog", "aria-label": cfg.title || T.title },
    el("header", {}, el("span", {}, cfg.title || T.title), closeBtn), log, form);
  panel.hidden = true;
  root.append(style, el("div", { class: "w" }, panel, fab));

  const history = cfg.system ? [{ role: "system", content: cfg.system }] : [];
  let busy = false;

  function bubble(kind, text) {
    const b = el("div", { class: "bubble" }, text);
    const m = el("div", { class: `msg ${kind}` }, b);
    log.append(m);
    log.scrollTop = log.scrollHeight;
    return { m, b };
  }
  function note(m, text) { m.append(el("div", { class: "tag" }, text)); }

  // An error answer (before any text) -> what the visitor should read.
  function explain(status, err, retryAfter) {
    const code = err.code || "";
    if (code === "origin_not_allowed") return fill(T.origin, { o: location.origin });
    if (code === "expired_api_key") return T.expired;
    if (code === "revoked_api_key") return T.revoked;
    if (status === 401) return T.badkey;
    if (code === "insufficient_quota") return T.quota;
    if (status === 429) return fill(T.rate, { s: retryAfter || "60" });
    if (code === "content_filter" && err.message) return err.message; // the guard's refusal, in the asker's language
    if (code === "model_not_found" || code === "model_not_allowed") return T.model;
    if (status >= 500) return fill(T.server, { s: status });
    return err.message || fill(T.server, { s: status });
  }

  async function ask(text) {
    history.push({ role: "user", content: text });
    bubble("user", text);
    const { m, b } = bubble("assistant", "…");
    let answer = "", label = false, finish = null;
    try {
      const r = await fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${cfg.key}` },
        body: JSON.stringify({ model: cfg.model, messages: history, stream: true,
          ...(cfg.maxTokens ? { max_tokens: Number(cfg.maxTokens) } : {}) }),
      });
      if (!r.ok) {
        let err = {};
        try { err = (await r.json()).error || {}; } catch { /* not JSON: keep the status */ }
        throw Object.assign(new Error("refused"), { shown: explain(r.status, err, r.headers.get("Retry-After")),
          refused: err.code === "content_filter" });
      }
      label = r.headers.has("AIGC");
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = "", done = false;
      while (!done) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const event = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("");
          if (!data) continue;
          if (data === "[DONE]") { done = true; break; }
          const obj = JSON.parse(data);
          if (obj.error) throw Object.assign(new Error("cut"), { shown: T.cut, partial: true });
          if (obj.aigc) label = true;
          for (const c of obj.choices || []) {
            if (c.delta && typeof c.delta.content === "string") answer += c.delta.content;
            if (c.finish_reason) finish = c.finish_reason;
          }
          b.textContent = answer || "…";
          log.scrollTop = log.scrollHeight;
        }
      }
      if (!done && !finish) throw Object.assign(new Error("cut"), { shown: T.cut, partial: true });
      if (finish === "content_filter") {
        m.classList.add("refused");
        note(m, T.refused);
        history.pop(); // a refused turn stays out of the conversation
      } else {
        history.push({ role: "assistant", content: answer });
      }
      if (label) note(m, T.aigc);
    } catch (e) {
      history.pop();
      m.classList.add(e.refused ? "refused" : "error");
      // fetch's TypeError (no e.shown): the gateway went away, or the network did
      if (answer) note(m, e.shown || T.cut);
      else b.textContent = e.shown || T.gone;
    }
  }

  fab.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden) {
      if (!log.childElementCount) bubble("assistant", T.hello);
      input.focus();
    }
  });
  closeBtn.addEventListener("click", () => { panel.hidden = true; fab.focus(); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    busy = sendBtn.disabled = true;
    try { await ask(text); } finally { busy = sendBtn.disabled = false; input.focus(); }
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
  });
  const mount = () => document.body.append(host);
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
