// Usage and cost: totals per key and per model (bars), per day (a line), and what the same traffic would cost
// on other offerings. Admins and auditors see every key; other roles their own (the admin API decides).
import { h, table, fmt } from "../dom.js";
import { barChart, lineChart } from "../charts.js";

const strings = {
  zh: {
    since: "起始日期", until: "截止日期", show: "显示", metric: "指标", requests: "请求数", tokens: "tokens", cost: "费用",
    by_key: "按密钥", by_model: "按模型", by_day: "按天", costs: "同样流量在其他方案上的费用", own: "只显示当前密钥的用量。",
    none: "此期间没有用量记录。", offering: "方案", kind: "类型", region: "地区", basis: "计价依据", actual: "实际费用",
    day: "日期", errors: "错误", cache_hits: "缓存命中", latency: "平均延迟 (ms)", prompt: "输入 tokens", completion: "输出 tokens",
    day_axis: (a, b) => `第几天（0 = ${a}，最后 = ${b}）`, all_offers: (n) => `全部 ${n} 个方案`,
  },
  en: {
    since: "From", until: "To", show: "Show", metric: "Measure", requests: "requests", tokens: "tokens", cost: "cost",
    by_key: "By key", by_model: "By model", by_day: "By day", costs: "The same traffic on other offerings", own: "Showing this key's own usage.",
    none: "No usage recorded in this period.", offering: "Offering", kind: "Kind", region: "Region", basis: "Priced by", actual: "Actual cost",
    day: "Day", errors: "errors", cache_hits: "cache hits", latency: "mean latency (ms)", prompt: "prompt tokens", completion: "completion tokens",
    day_axis: (a, b) => `day (0 = ${a}, last = ${b})`, all_offers: (n) => `All ${n} offerings`,
  },
};

const measure = { requests: (r) => r.requests, tokens: (r) => r.prompt_tokens + r.completion_tokens, cost: (r) => r.cost };

export default {
  id: "usage",
  title: { zh: "用量与费用", en: "Usage and cost" },
  ops: ["usage.read_own"],
  strings,
  async render(root, ctx) {
    const { t } = ctx;
    const all = ctx.can("usage.read");
    const since = h("input", { type: "date", id: "usage-since" });
    const until = h("input", { type: "date", id: "usage-until" });
    const metric = h("select", { id: "usage-metric" }, Object.keys(measure).map((m) => h("option", { value: m }, t(m))));
    const out = h("div", { id: "usage-out" });
    let names = {};
    if (ctx.can("keys.read")) {
      try { for (const k of await ctx.api("../admin/keys?all=true")) names[k.id] = k.name; } catch { names = {}; }
    }

    async function show() {
      const q = new URLSearchParams();
      if (since.value) q.set("since", since.value);
      if (until.value) q.set("until", until.value);
      const get = (by) => ctx.api(`../admin/usage?by=${by}&${q}`);
      const [byKey, byModel, byDay] = await Promise.all([get("key_id"), get("model"), get("day")]);
      const costs = all ? await ctx.api(`../admin/usage/costs?${q}`) : null;
      const m = metric.value, val = measure[m], cur = byDay.currency;
      const unit = m === "cost" ? ` ${cur}` : "";
      out.replaceChildren();
      if (!byDay.rows.length) { out.append(h("p", { class: "empty" }, t("none"))); return; }
      const bars = (rows, label) => barChart(rows.map((r) => ({ label: label(r), value: val(r) })).sort((a, b) => b.value - a.value), { unit, width: 480 });
      out.append(
        h("div", { class: "cols" },
          h("div", { class: "panel", id: "usage-by-key" }, h("h2", { style: "margin-top:0" }, t("by_key")),
            bars(byKey.rows, (r) => names[r.key_id] || r.key_id || "–")),
          h("div", { class: "panel", id: "usage-by-model" }, h("h2", { style: "margin-top:0" }, t("by_model")),
            bars(byModel.rows, (r) => r.model || "–"))),
        h("div", { class: "panel", id: "usage-by-day" }, h("h2", { style: "margin-top:0" }, t("by_day")),
          lineChart([{ name: t(m), points: byDay.rows.map((r) => [(Date.parse(r.day) - Date.parse(byDay.rows[0].day)) / 86400000, val(r)]) }],
            { width: 1100, height: 240, xLabel: t("day_axis")(byDay.rows[0].day, byDay.rows[byDay.rows.length - 1].day), yLabel: t(m) + unit }),
          table(byDay.rows.slice().reverse(), [
            { label: t("day"), key: "day" }, { label: t("requests"), key: "requests" }, { label: t("errors"), key: "errors" },
            { label: t("cache_hits"), key: "cache_hits" }, { label: t("prompt"), key: "prompt_tokens" },
            { label: t("completion"), key: "completion_tokens" }, { label: `${t("cost")} (${cur})`, key: "cost" },
            { label: t("latency"), key: "mean_latency_ms" }])));
      if (costs) {
        const offers = costs.offerings.slice().sort((a, b) => a.cost - b.cost);
        out.append(h("div", { class: "panel", id: "usage-costs" }, h("h2", { style: "margin-top:0" }, t("costs")),
          h("p", { class: "muted" }, `${t("actual")}: ${fmt(costs.actual_cost)} ${costs.currency} · ${fmt(costs.prompt_tokens)} + ${fmt(costs.completion_tokens)} tokens`),
          barChart(offers.slice(0, 12).map((o) => ({ label: o.offering, value: o.cost })), { unit: ` ${costs.currency}`, width: 1100, barHeight: 18 }),
          h("details", {}, h("summary", {}, t("all_offers")(offers.length)), table(offers, [{ label: t("offering"), key: "offering" }, { label: t("kind"), key: "kind" }, { label: t("region"), key: "region" },
            { label: `${t("cost")} (${costs.currency})`, key: "cost" }, { label: t("basis"), key: "basis" }]))));
      }
    }

    root.append(
      all ? "" : ctx.banner("info", t("own")),
      h("div", { class: "row panel" },
        h("label", {}, t("since"), since), h("label", {}, t("until"), until), h("label", {}, t("metric"), metric),
        h("button", { class: "primary", id: "usage-show", onclick: () => show().catch((e) => out.replaceChildren(ctx.banner("error", e.message))) }, t("show"))),
      out);
    metric.onchange = () => show().catch((e) => out.replaceChildren(ctx.banner("error", e.message)));
    await show();
  },
};
