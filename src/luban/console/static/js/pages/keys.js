// Keys: every key with its status, a form to create one (the secret shown once, with a copy button) and revoke
// with a confirmation. Admins write; auditors read. Talks to the gateway's own admin API (../admin/keys).
import { h, table, fmt, when } from "../dom.js";

const ROLES = ["app", "developer", "auditor", "admin"];
const PERIODS = ["month", "day", "total"];

const strings = {
  zh: {
    create: "创建密钥", name: "名称", role: "角色", scopes: "可用模型（逗号分隔，空 = 全部）", app: "应用",
    rpm: "每分钟请求数", tpm: "每分钟 token 数", budget: "预算", period: "预算周期", expires: "有效期（30d、12h 或 2027-01-31）",
    policy: "安全策略", origins: "允许的网页来源（逗号分隔，供浏览器/挂件使用）", submit: "创建", status: "状态",
    limits: "限额", created: "创建于", expiry: "到期", actions: "操作", revoke: "吊销", confirm: "确认吊销此密钥？",
    yes: "吊销", cancel: "取消", revoked: "已吊销：", secret_once: "新密钥（只显示这一次，请立即复制保存）：",
    copy: "复制", copied: "已复制", copy_failed: "无法访问剪贴板，请手动选择复制。", none: "还没有密钥。",
    readonly: "审计员只能查看密钥（不含密钥本身）。", no_origins: "注意：网关返回的密钥信息中没有 origins 字段，此网关可能尚不支持来源限制。",
    show_all: "显示已吊销和已过期的密钥", models: "模型", origins_col: "来源", active: "有效", expired: "已过期", revoked_s: "已吊销",
  },
  en: {
    create: "Create a key", name: "Name", role: "Role", scopes: "Models (comma-separated; empty = all)", app: "App",
    rpm: "Requests / min", tpm: "Tokens / min", budget: "Budget", period: "Budget period", expires: "Expires (30d, 12h or 2027-01-31)",
    policy: "Guard policy", origins: "Allowed web origins (comma-separated, for browser/widget use)", submit: "Create", status: "Status",
    limits: "Limits", created: "Created", expiry: "Expires", actions: "Actions", revoke: "Revoke", confirm: "Revoke this key?",
    yes: "Revoke", cancel: "Cancel", revoked: "Revoked: ", secret_once: "The new key (shown this once: copy it now):",
    copy: "Copy", copied: "Copied", copy_failed: "No clipboard access here; select the key and copy it by hand.", none: "No keys yet.",
    readonly: "Auditors see keys (never their secrets) and change nothing.", no_origins: "Note: the gateway's answer has no origins field; this gateway may not restrict origins yet.",
    show_all: "Show revoked and expired keys", models: "Models", origins_col: "Origins", active: "active", expired: "expired", revoked_s: "revoked",
  },
};

function list(value) { return value.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean); }

async function copyText(text, ctx) {
  try {
    await navigator.clipboard.writeText(text);
    ctx.toast("ok", ctx.t("copied"));
  } catch {
    ctx.toast("error", ctx.t("copy_failed"));
  }
}

export default {
  id: "keys",
  title: { zh: "密钥", en: "Keys" },
  ops: ["keys.read"],
  strings,
  async render(root, ctx) {
    const { t } = ctx;
    const writer = ctx.can("keys.write");
    const secretBox = h("div", { id: "key-secret" });
    const listBox = h("div", { id: "keys-list" });
    const showAll = h("input", { type: "checkbox", id: "keys-all", checked: true, onchange: () => refresh() });

    async function refresh() {
      const keys = await ctx.api(`../admin/keys?all=${showAll.checked}`);
      const withOrigins = keys.some((k) => "origins" in k);
      const statusTag = (s) => h("span", { class: `tag ${s === "active" ? "ok" : "bad"}` }, t(s === "revoked" ? "revoked_s" : s));
      const cols = [
        { label: t("name"), render: (k) => h("span", {}, h("b", {}, k.name), h("div", { class: "muted mono" }, k.id)) },
        { label: t("role"), key: "role" },
        { label: t("status"), render: (k) => statusTag(k.status) },
        { label: t("models"), render: (k) => (k.scopes.length ? k.scopes.join(", ") : "*") },
        { label: t("app"), key: "app" },
        { label: t("limits"), render: (k) => [k.rpm ? `${k.rpm} rpm` : "", k.tpm ? `${k.tpm} tpm` : "",
          k.budget ? `${fmt(k.budget)}/${k.budget_period}` : ""].filter(Boolean).join(" · ") || "–" },
        { label: t("policy"), key: "policy" },
        ...(withOrigins ? [{ label: t("origins_col"), render: (k) => (k.origins && k.origins.length ? k.origins.join(", ") : "–") }] : []),
        { label: t("expiry"), render: (k) => when(k.expires) },
        ...(writer ? [{ label: t("actions"), render: (k) => (k.status === "active" ? revokeCell(k) : "") }] : []),
      ];
      listBox.replaceChildren(keys.length ? table(keys, cols, { id: "keys-table" }) : h("p", { class: "empty" }, t("none")));
    }

    function revokeCell(k) {
      const cell = h("span", { class: "row" });
      const ask = h("button", { class: "danger", "data-revoke": k.id, onclick: () => cell.replaceChildren(
        h("span", {}, t("confirm")),
        h("button", { class: "danger", "data-confirm": k.id, onclick: async () => {
          try {
            await ctx.api(`../admin/keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
            ctx.toast("ok", t("revoked") + k.name);
            if (secretBox.textContent.includes(k.id)) secretBox.replaceChildren();  // no secret of a dead key on screen
          } catch (e) { ctx.toast("error", e.message); }
          await refresh();
        } }, t("yes")),
        h("button", { onclick: () => cell.replaceChildren(ask) }, t("cancel"))) }, t("revoke"));
      cell.append(ask);
      return cell;
    }

    if (writer) root.append(createForm(ctx, secretBox, refresh));
    else root.append(ctx.banner("info", t("readonly")));
    root.append(secretBox, h("label", { class: "row", style: "margin-bottom:8px" }, showAll, t("show_all")), listBox);
    await refresh();
  },
};

function createForm(ctx, secretBox, refresh) {
  const { t } = ctx;
  const f = {
    name: h("input", { id: "key-name", required: true, maxlength: 200 }),
    role: h("select", { id: "key-role" }, ROLES.map((r) => h("option", { value: r }, r))),
    scopes: h("input", { id: "key-scopes", placeholder: "qwen-*, tiny", style: "width:100%" }),
    app: h("input", { id: "key-app" }),
    rpm: h("input", { id: "key-rpm", type: "number", min: 1, step: 1, style: "width:110px" }),
    tpm: h("input", { id: "key-tpm", type: "number", min: 1, step: 1, style: "width:110px" }),
    budget: h("input", { id: "key-budget", type: "number", min: 0, step: "any", style: "width:110px" }),
    budget_period: h("select", { id: "key-period" }, PERIODS.map((p) => h("option", { value: p }, p))),
    expires: h("input", { id: "key-expires", placeholder: "30d" }),
    policy: h("input", { id: "key-policy", list: "key-policies", placeholder: "default" }),
    origins: h("input", { id: "key-origins", placeholder: "https://app.example.com", style: "width:100%" }),
  };
  const policies = h("datalist", { id: "key-policies" });
  ctx.api("api/guard/policies").then((r) => policies.append(...r.policies.map((p) => h("option", { value: p.path || p.name }, p.name)))).catch(() => {});
  const err = h("div");
  const submit = async (ev) => {
    ev.preventDefault();
    err.replaceChildren();
    const body = { name: f.name.value.trim(), role: f.role.value, budget_period: f.budget_period.value };
    const scopes = list(f.scopes.value);
    if (scopes.length) body.scopes = scopes;
    for (const k of ["app", "expires", "policy"]) if (f[k].value.trim()) body[k] = f[k].value.trim();
    for (const k of ["rpm", "tpm"]) if (f[k].value) body[k] = parseInt(f[k].value, 10);
    if (f.budget.value) body.budget = parseFloat(f.budget.value);
    const origins = list(f.origins.value);
    if (origins.length) body.origins = origins;  // only when filled: older gateways refuse unknown fields
    try {
      const made = await ctx.api("../admin/keys", { method: "POST", body });
      const secret = h("code", { id: "key-secret-value", style: "user-select:all;word-break:break-all" }, made.key);
      secretBox.replaceChildren(h("div", { class: "banner ok" },
        h("div", {}, t("secret_once"), " ", h("b", {}, made.name)),
        h("div", { class: "row", style: "margin-top:6px" }, secret,
          h("button", { id: "key-copy", type: "button", onclick: () => copyText(made.key, ctx) }, t("copy")))),
        origins.length && !("origins" in made) ? ctx.banner("error", t("no_origins")) : "");
      form.reset();
      await refresh();
    } catch (e) {
      err.append(ctx.banner("error", e.message));
    }
  };
  const field = (label, input) => h("label", {}, label, input);
  const form = h("form", { id: "key-form", onsubmit: submit },
    h("div", { class: "row", style: "align-items:flex-end" },
      field(t("name"), f.name), field(t("role"), f.role), field(t("app"), f.app), field(t("expires"), f.expires),
      field(t("policy"), f.policy), policies),
    h("div", { class: "row", style: "align-items:flex-end;margin-top:8px" },
      h("label", { class: "grow" }, t("scopes"), f.scopes),
      h("label", { class: "grow" }, t("origins"), f.origins)),
    h("div", { class: "row", style: "align-items:flex-end;margin-top:8px" },
      field(t("rpm"), f.rpm), field(t("tpm"), f.tpm), field(t("budget"), f.budget), field(t("period"), f.budget_period),
      h("span", { class: "grow" }),
      h("button", { class: "primary", type: "submit", id: "key-create" }, t("submit"))));
  return h("div", { class: "panel" }, h("h2", { style: "margin-top:0" }, t("create")), err, form);
}
