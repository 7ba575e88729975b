// Audit: search the hash-chained records (time, key, action, kind, model, free text), page through them, open
// one, and verify every chain with one button: "chain intact", or the first broken record named and shown.
import { h, table, when } from "../dom.js";

const ACTIONS = ["ok", "blocked", "masked", "flagged", "error", "deploy"];  // calls' outcomes, admin actions
const KINDS = ["", "call", "stage", "admin", "auth"];
const TAG = { ok: "ok", blocked: "bad", error: "bad", masked: "warn", flagged: "warn" };
const WORDS = { zh: { ok: "正常", blocked: "已拦截", masked: "已脱敏", flagged: "已标记", error: "错误", deploy: "部署", call: "调用", stage: "阶段", admin: "管理", auth: "认证" } };

const strings = {
  zh: {
    since: "起始时间", until: "截止时间", key: "密钥 ID", action: "操作/结果", kind: "类型", model: "模型", text: "文本包含",
    search: "搜索", reset: "清空", any: "全部", verify: "校验哈希链", verifying: "正在校验…", intact: "哈希链完整",
    broken: "哈希链已被篡改", records_in: (n, c) => `${n} 条记录，${c} 条链，均已校验。`, empty_log: "审计日志为空，没有可校验的记录。",
    first_broken: "第一条异常记录", show_record: "查看该记录", time: "时间", record: "链:序号", detail: "详情", none: "没有匹配的记录。",
    prev: "上一页", next: "下一页", page: (a, b, n) => `第 ${a}–${b} 条，共 ${n} 条`, close: "关闭", no_store: "此工作区还没有审计数据库。",
  },
  en: {
    since: "From", until: "To", key: "Key id", action: "Action / outcome", kind: "Kind", model: "Model", text: "Text contains",
    search: "Search", reset: "Clear", any: "any", verify: "Verify the chain", verifying: "Verifying…", intact: "Chain intact",
    broken: "Chain broken", records_in: (n, c) => `${n} records in ${c} chains verified.`, empty_log: "The audit log is empty: nothing to verify.",
    first_broken: "First broken record", show_record: "Show the record", time: "Time", record: "Chain:seq", detail: "Detail", none: "No matching records.",
    prev: "Previous", next: "Next", page: (a, b, n) => `${a}–${b} of ${n}`, close: "Close", no_store: "This workspace has no audit database yet.",
  },
};

const PAGE = 50;

export default {
  id: "audit",
  title: { zh: "审计", en: "Audit" },
  ops: ["audit.read"],
  strings,
  async render(root, ctx) {
    const s = strings[ctx.lang];
    const { t } = ctx;
    const word = (w) => (WORDS[ctx.lang] && WORDS[ctx.lang][w]) || w;
    const f = {
      since: h("input", { type: "datetime-local", id: "audit-since" }),
      until: h("input", { type: "datetime-local", id: "audit-until" }),
      key: h("input", { id: "audit-key", style: "width:140px", list: "audit-keys" }),
      action: h("input", { id: "audit-action", list: "audit-actions", style: "width:110px", placeholder: t("any") }),
      kind: h("select", { id: "audit-kind" }, KINDS.map((k) => h("option", { value: k }, k ? word(k) : t("any")))),
      model: h("input", { id: "audit-model", style: "width:120px" }),
      q: h("input", { id: "audit-q", style: "width:160px" }),
    };
    for (const k of ["key", "action", "kind", "model", "q"]) if (ctx.query.get(k)) f[k].value = ctx.query.get(k);
    const keys = h("datalist", { id: "audit-keys" });
    const actions = h("datalist", { id: "audit-actions" }, ACTIONS.map((a) => h("option", { value: a }, word(a))));
    if (ctx.can("keys.read")) ctx.api("../admin/keys?all=true").then((ks) => keys.append(...ks.map((k) => h("option", { value: k.id }, k.name)))).catch(() => {});
    const verifyBox = h("div", { id: "audit-verify-result" });
    const detail = h("div", { id: "audit-detail" });
    const out = h("div", { id: "audit-records" });
    let offset = 0;

    function params() {
      const q = new URLSearchParams();
      for (const k of ["since", "until"]) if (f[k].value) q.set(k, String(new Date(f[k].value).getTime() / 1000));
      for (const k of ["key", "action", "kind", "model", "q"]) if (f[k].value.trim()) q.set(k, f[k].value.trim());
      q.set("offset", String(offset));
      q.set("limit", String(PAGE));
      return q;
    }

    async function search() {
      const r = await ctx.api(`api/audit/records?${params()}`);
      if (r.store === null) { out.replaceChildren(h("p", { class: "empty" }, s.no_store)); return; }
      if (!r.records.length) { out.replaceChildren(h("p", { class: "empty" }, s.none)); return; }
      const last = r.offset + r.records.length;
      out.replaceChildren(
        table(r.records, [
          { label: s.time, render: (x) => when(x.ts) },
          { label: s.record, render: (x) => h("a", { href: "javascript:void 0", class: "mono", onclick: () => open(x.chain, x.seq) }, `${x.chain}:${x.seq}`) },
          { label: s.kind, render: (x) => word(x.kind) },
          { label: s.key, render: (x) => h("span", { class: "mono" }, x.key_id || "–") },
          { label: s.model, render: (x) => x.model || "–" },
          { label: s.action, render: (x) => h("span", { class: `tag ${TAG[x.action] || ""}` }, x.action ? word(x.action) : "–") },
          { label: s.detail, render: (x) => x.stage || (x.kind === "call" || x.kind === "auth" ? `${x.status ?? ""} ${x.route ?? ""} ${x.latency_ms != null ? x.latency_ms + " ms" : ""}` : (x.detail || "")) },
        ], { id: "audit-table" }),
        h("div", { class: "row", style: "margin-top:8px" },
          h("button", { id: "audit-prev", disabled: r.offset === 0, onclick: () => { offset = Math.max(0, offset - PAGE); go(); } }, s.prev),
          h("span", { class: "muted", id: "audit-page" }, s.page(r.offset + 1, last, r.total)),
          h("button", { id: "audit-next", disabled: last >= r.total, onclick: () => { offset += PAGE; go(); } }, s.next)));
    }

    const go = () => search().catch((e) => out.replaceChildren(ctx.banner("error", e.message)));

    async function open(chain, seq) {
      try {
        const rec = await ctx.api(`api/audit/records/${encodeURIComponent(chain)}/${seq}`);
        const { body, ...shown } = rec;
        detail.replaceChildren(h("div", { class: "panel" },
          h("div", { class: "row" }, h("b", { class: "mono" }, `${chain}:${seq}`), h("span", { class: "grow" }),
            h("button", { onclick: () => detail.replaceChildren() }, s.close)),
          h("pre", { id: "audit-record-json" }, JSON.stringify(shown, null, 2))));
        detail.scrollIntoView({ block: "nearest" });
      } catch (e) {
        detail.replaceChildren(ctx.banner("error", e.message));
      }
    }

    async function verify(btn) {
      btn.disabled = true;
      verifyBox.replaceChildren(h("span", { class: "spinner" }), " ", s.verifying);
      try {
        const r = await ctx.api("api/audit/verify", { method: "POST" });
        if (r.empty) verifyBox.replaceChildren(ctx.banner("info", s.empty_log));
        else if (r.ok) verifyBox.replaceChildren(h("div", { class: "banner ok", id: "audit-intact" }, h("b", {}, `✓ ${s.intact}`), " · ", s.records_in(r.records, r.chains.length)));
        else {
          const b = r.broken;
          verifyBox.replaceChildren(h("div", { class: "banner error", id: "audit-broken", role: "alert" },
            h("b", {}, `✗ ${s.broken}`), h("div", {}, `${s.first_broken}: `, h("b", { class: "mono" }, `${b.chain}:${b.seq ?? "?"}`), ` — ${b.problem}`),
            b.seq != null ? h("button", { style: "margin-top:6px", onclick: () => open(b.chain, b.seq) }, s.show_record) : ""));
        }
      } catch (e) {
        verifyBox.replaceChildren(ctx.banner("error", e.message));
      } finally {
        btn.disabled = false;
      }
    }

    const field = (label, input) => h("label", {}, label, input);
    root.append(
      ctx.can("audit.verify") ? h("div", { class: "row", style: "margin-bottom:10px" },
        h("button", { class: "primary", id: "audit-verify", onclick: (ev) => verify(ev.currentTarget) }, s.verify)) : "",
      verifyBox,
      h("form", { class: "panel row", style: "align-items:flex-end", id: "audit-form", onsubmit: (ev) => { ev.preventDefault(); offset = 0; go(); } },
        field(s.since, f.since), field(s.until, f.until), field(s.key, f.key), keys, field(s.action, f.action), actions,
        field(s.kind, f.kind), field(s.model, f.model), field(s.text, f.q),
        h("button", { class: "primary", type: "submit", id: "audit-search" }, s.search),
        h("button", { type: "button", onclick: () => { for (const el of Object.values(f)) el.value = ""; offset = 0; go(); } }, s.reset)),
      detail, out);
    await search();
  },
};
