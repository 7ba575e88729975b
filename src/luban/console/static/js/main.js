// The console shell: login, language, navigation, the API client and the hash router.
// Each page is an ES module under pages/ (see pages/README.md for what one exports).
import { h, clear } from "./dom.js";
import { PAGES } from "./pages/index.js";

const KEY = "luban.key";
const LANG = "luban.lang";

const COMMON = {
  zh: {
    login: "登录", login_title: "鲁班控制台", login_hint: "使用 API 密钥登录（管理员用 `luban keys create NAME --role admin` 创建）。",
    api_key: "API 密钥", logout: "退出", language: "English", expired: "会话已失效：密钥已过期或被吊销，请重新登录。",
    forbidden: "当前角色无权访问此页面。", loading: "加载中…", retry: "重试", not_found: "没有这个页面。",
    role: "角色", network: "无法连接网关，请检查它是否仍在运行，然后重试。", no_workspace: "此网关没有工作区，无可显示的产物。",
  },
  en: {
    login: "Log in", login_title: "Luban console", login_hint: "Log in with an API key (an admin creates one with `luban keys create NAME --role admin`).",
    api_key: "API key", logout: "Log out", language: "中文", expired: "Your session ended: the key expired or was revoked. Log in again.",
    forbidden: "Your role cannot open this page.", loading: "Loading…", retry: "Retry", not_found: "No such page.",
    role: "Role", network: "Cannot reach the gateway; check that it is still running, then retry.", no_workspace: "This gateway has no workspace, so there are no artifacts to show.",
  },
};

export function pickLang() {
  const saved = localStorage.getItem(LANG);
  if (saved === "zh" || saved === "en") return saved;
  const asked = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  // Chinese first when the browser asks for it anywhere in its list before English
  for (const l of asked) {
    const low = String(l).toLowerCase();
    if (low.startsWith("zh")) return "zh";
    if (low.startsWith("en")) return "en";
  }
  return "en";
}

export class ApiError extends Error {
  constructor(status, message, code) { super(message); this.status = status; this.code = code; }
}

const state = { lang: pickLang(), session: null, notice: null };

export function t(key, strings) {
  const own = strings && strings[state.lang] && strings[state.lang][key];
  return own ?? COMMON[state.lang][key] ?? (strings && strings.en && strings.en[key]) ?? COMMON.en[key] ?? key;
}

export function authHeader() {
  const key = sessionStorage.getItem(KEY);
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** fetch against the gateway with the session's key; JSON in and out; an OpenAI-style error becomes ApiError. */
export async function api(path, { method = "GET", body, headers = {}, raw = false, signal } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method, signal,
      headers: { ...authHeader(), ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, t("network"), "network");
  }
  if (res.status === 401 && state.session) { expire(); throw new ApiError(401, t("expired"), "expired"); }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`, code = "http_" + res.status;
    try { const j = await res.json(); if (j && j.error) { message = j.error.message || message; code = j.error.code || code; } } catch { /* not JSON */ }
    throw new ApiError(res.status, message, code);
  }
  if (raw) return res;
  const type = res.headers.get("content-type") || "";
  return type.includes("json") ? res.json() : res.text();
}

function expire() {
  sessionStorage.removeItem(KEY);
  state.session = null;
  state.notice = t("expired");
  render();
}

export function can(op) { return !!(state.session && state.session.operations.includes(op)); }

export function navigate(hash) { if (location.hash === hash) render(); else location.hash = hash; }

export function banner(kind, text) { return h("div", { class: `banner ${kind}`, role: kind === "error" ? "alert" : "status" }, text); }

export function toast(kind, text, ms = 4000) {
  const el = h("div", { class: "toast" }, banner(kind, text));
  document.body.append(el);
  setTimeout(() => el.remove(), ms);
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { id: parts[0] || "", args: parts.slice(1), query: new URLSearchParams(query) };
}

function loginView(root) {
  const input = h("input", { type: "password", id: "login-key", autocomplete: "off", placeholder: "sk-luban-...", style: "width:100%" });
  const err = h("div");
  if (state.notice) { err.append(banner("error", state.notice)); state.notice = null; }
  const go = async (ev) => {
    ev.preventDefault();
    err.replaceChildren();
    const key = input.value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY, key);
    try {
      state.session = await api("api/session");
      render();
    } catch (e) {
      sessionStorage.removeItem(KEY);
      state.session = null;
      err.append(banner("error", e.message));
    }
  };
  root.append(h("div", { class: "login panel" },
    h("h1", {}, t("login_title")),
    h("p", { class: "muted" }, t("login_hint")),
    err,
    h("form", { onsubmit: go },
      h("label", {}, t("api_key"), input),
      h("div", { class: "row", style: "margin-top:12px" },
        h("button", { class: "primary", type: "submit", id: "login-submit" }, t("login")),
        h("span", { class: "grow" }),
        langButton()))));
  input.focus();
}

function langButton() {
  return h("button", { type: "button", id: "lang-switch", onclick: () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem(LANG, state.lang);
    render();
  } }, t("language"));
}

function visible(page) { return (page.ops || []).every(can); }

let current = null;  // the page on screen, for its cleanup()

export async function render() {
  const app = document.getElementById("app");
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  if (current && current.cleanup) { try { current.cleanup(); } catch { /* a page's cleanup must not stop navigation */ } }
  current = null;
  clear(app);
  if (!state.session) {
    if (sessionStorage.getItem(KEY)) {
      try { state.session = await api("api/session"); } catch (e) { sessionStorage.removeItem(KEY); state.notice = e.status === 401 ? t("expired") : e.message; }
    }
    if (!state.session) { loginView(app); return; }
  }
  const route = parseHash();
  const shown = PAGES.filter((p) => p.nav !== false && visible(p));
  const page = PAGES.find((p) => p.id === route.id) || (route.id ? null : shown[0]);
  const main = h("main", { id: "main" });
  app.append(h("nav", { class: "side" },
    h("div", { class: "brand" }, "鲁班", h("small", {}, "Luban")),
    ...shown.map((p) => h("a", { href: `#/${p.id}`, class: page && p.id === page.id ? "active" : "", "data-page": p.id }, p.title[state.lang])),
    h("div", { class: "foot" },
      h("div", { id: "whoami" }, `${state.session.name} · ${t("role")}: ${state.session.role}`),
      h("div", { class: "row" },
        h("button", { id: "logout", onclick: () => { sessionStorage.removeItem(KEY); state.session = null; location.hash = ""; render(); } }, t("logout")),
        langButton()))), main);
  if (!page) { main.append(banner("error", t("not_found"))); return; }
  document.title = `${page.title[state.lang]} · Luban`;
  if (!visible(page)) { main.append(h("h1", {}, page.title[state.lang]), banner("error", t("forbidden"))); return; }
  current = page;
  const ctx = {
    api, can, navigate, toast, banner, h, lang: state.lang, session: state.session, args: route.args, query: route.query,
    t: (key) => t(key, page.strings),
  };
  main.append(h("h1", {}, page.title[state.lang]));
  const body = h("div", { class: "page", id: `page-${page.id}` });
  main.append(body);
  try {
    await page.render(body, ctx);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    body.append(banner("error", e.message || String(e)), h("button", { onclick: () => render() }, t("retry")));
  }
}

window.addEventListener("hashchange", () => render());
render();
