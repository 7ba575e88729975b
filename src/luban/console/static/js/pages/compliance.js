// Compliance: the newest self-assessment (luban.compliance) with each requirement's status, its evidence and
// links to where the evidence lives (lineage, evaluations, guard policy, audit log, the report's files);
// one button runs the assessment again with the workspace's compliance.yaml (or the shipped example).
import { h } from "../dom.js";

const strings = {
  zh: {
    run: "运行评估", running: "正在评估（约半分钟）…", none: "还没有合规报告。点“运行评估”生成一份。", generated: "生成于",
    pass: "通过", fail: "未通过", unknown: "待确认", requirement: "要求", status: "状态", evidence: "证据", todo: "需要做的：",
    files: "报告文件", config: "使用的配置", links: "查看", disclaimer: "依据 Luban 记录的证据做的自评估，不构成法律意见。",
  },
  en: {
    run: "Run the assessment", running: "Assessing (about half a minute)…", none: "No compliance report yet. Run the assessment to make one.", generated: "Generated",
    pass: "pass", fail: "fail", unknown: "unknown", requirement: "Requirement", status: "Status", evidence: "Evidence", todo: "What to do: ",
    files: "Report files", config: "Config used", links: "See", disclaimer: "A self-assessment from evidence Luban recorded, not legal advice.",
  },
};
const TAG = { pass: "ok", fail: "bad", unknown: "warn" };
const COLOR = { pass: "var(--ok)", fail: "var(--bad)", unknown: "var(--warn)" };

function href(link) {
  const ref = encodeURIComponent(link.ref);
  if (link.page === "guard") return `#/guard?policy=${ref}`;
  if (link.page === "audit") return link.ref ? `#/audit?${link.ref}` : "#/audit";
  return `#/${link.page}/${ref}`;
}

async function download(ctx, file) {
  try {
    const res = await ctx.api(file.href, { raw: true });
    const url = URL.createObjectURL(await res.blob());
    const a = h("a", { href: url, download: file.name, style: "display:none" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    ctx.toast("error", e.message);
  }
}

export default {
  id: "compliance",
  title: { zh: "合规", en: "Compliance" },
  ops: ["compliance.read"],
  strings,
  async render(root, ctx) {
    const { t } = ctx;
    const out = h("div", { id: "compliance-report" });
    const notes = h("div");
    const btn = h("button", { class: "primary", id: "compliance-run", onclick: run }, t("run"));

    async function run() {
      btn.disabled = true;
      notes.replaceChildren(h("span", { class: "spinner" }), " ", t("running"));
      try {
        const r = await ctx.api("api/compliance/run", { method: "POST" });
        notes.replaceChildren(h("p", { class: "muted" }, `${t("config")}: `, h("code", {}, r.source)),
          ...r.notes.map((n) => ctx.banner("info", n)));
        show(r.report);
      } catch (e) {
        notes.replaceChildren(ctx.banner("error", e.message));
      } finally {
        btn.disabled = false;
      }
    }

    function show(rep) {
      if (!rep) { out.replaceChildren(h("p", { class: "empty" }, t("none"))); return; }
      const s = rep.summary, total = Math.max(1, s.pass + s.fail + s.unknown);
      out.replaceChildren(
        h("div", { class: "panel" },
          h("div", { class: "row" },
            ["pass", "fail", "unknown"].map((k) => h("span", { class: `tag ${TAG[k]}`, id: `compliance-${k}` }, `${t(k)} ${s[k]}`)),
            h("span", { class: "muted" }, `${t("generated")} ${s.generated} · `,
              h("a", { href: `#/lineage/${encodeURIComponent(rep.id)}`, class: "evidence-link", "data-page": "lineage" }, rep.name || rep.id.slice(0, 12))),
            h("span", { class: "grow" }),
            h("span", { class: "muted" }, t("files") + ":"),
            rep.files.map((f) => h("a", { href: "javascript:void 0", class: "report-file", "data-file": f.name, onclick: () => download(ctx, f) }, f.name))),
          h("div", { style: "display:flex;height:10px;border-radius:5px;overflow:hidden;margin-top:10px" },
            ["pass", "fail", "unknown"].map((k) => h("span", { style: `width:${(100 * s[k]) / total}%;background:${COLOR[k]}` }))),
          h("p", { class: "muted", style: "margin:8px 0 0" }, t("disclaimer"))),
        h("table", { id: "compliance-items" },
          h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, t("requirement")), h("th", {}, t("status")), h("th", {}, t("evidence")))),
          h("tbody", {}, rep.items.map((it, i) => h("tr", { "data-item": it.id },
            h("td", {}, String(i + 1)),
            h("td", { style: "width:30%" }, h("b", {}, it.title), h("div", { class: "muted", style: "font-size:12px" }, `${it.document}, ${it.clause}`)),
            h("td", {}, h("span", { class: `tag ${TAG[it.status]}` }, t(it.status))),
            h("td", {},
              h("ul", { style: "margin:0;padding-left:1.1em" }, it.evidence.map((e) => h("li", {}, e))),
              it.remedy && it.status !== "pass" ? h("div", { class: "bad", style: "font-size:12.5px" }, t("todo"), it.remedy) : "",
              it.links.length ? h("div", { class: "row", style: "gap:8px;font-size:12.5px" }, h("span", { class: "muted" }, t("links") + ":"),
                it.links.map((l) => h("a", { href: href(l), class: "evidence-link", "data-page": l.page }, l.label))) : ""))))));
    }

    root.append(h("div", { class: "row", style: "margin-bottom:10px" }, btn), notes, out);
    show((await ctx.api("api/compliance")).report);
  },
};
