"""The usage report: totals per key, model and day, and what the same traffic costs elsewhere; as data and as
a self-contained HTML page with charts (matplotlib, inline SVG: no CDN, opens offline).

Design choices:
- Reads only the daily totals table (small: keys x models x days), never the per-call rows.
- The cost comparison prices the period's tokens on every commercial API of the catalog and on self-hosted
  GPUs (`usage.compare_costs`), next to what the traffic actually cost through the gateway.
- Key ids are shown with their names when the key store shares the database.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from luban.gateway.providers import Catalog
from luban.gateway.usage import CostRow, UsageStore, compare_costs


@dataclass
class UsageReport:
    since: str | None
    until: str | None
    currency: str
    total: dict[str, Any]
    by_key: list[dict[str, Any]]
    by_model: list[dict[str, Any]]
    by_day: list[dict[str, Any]]
    by_day_model: list[dict[str, Any]]
    costs: list[CostRow]
    tokens_per_second: float
    key_names: dict[str, str] = field(default_factory=dict)

    def key_label(self, kid: str) -> str:
        if not kid:
            return "(no valid key)"
        name = self.key_names.get(kid)
        return f"{name} ({kid})" if name else kid


def build_report(store: UsageStore, catalog: Catalog, *, since: str | None = None, until: str | None = None,
                 currency: str = "USD", tokens_per_second: float = 1000.0, upstreams: dict[str, Any] | None = None,
                 key_names: dict[str, str] | None = None, key: str | None = None,
                 model: str | None = None) -> UsageReport:
    def q(*by: str) -> list[dict[str, Any]]:
        return store.summary(by, since, until, key, model)

    total_rows = q()
    total = total_rows[0] if total_rows and total_rows[0]["requests"] else {
        "requests": 0, "errors": 0, "cache_hits": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0,
        "latency_ms": 0.0, "mean_latency_ms": 0.0}
    costs = compare_costs(int(total["prompt_tokens"]), int(total["completion_tokens"]), catalog, currency,
                          tokens_per_second, upstreams)
    return UsageReport(since=since, until=until, currency=currency, total=total,
                       by_key=sorted(q("key_id"), key=lambda r: -r["cost"]),
                       by_model=sorted(q("model"), key=lambda r: -r["prompt_tokens"] - r["completion_tokens"]),
                       by_day=q("day"), by_day_model=q("day", "model"), costs=costs,
                       tokens_per_second=tokens_per_second, key_names=dict(key_names or {}))


# -- HTML -------------------------------------------------------------------------------------------
def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.find("<svg"):]


def _charts(rep: UsageReport) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: list[tuple[str, str]] = []
    days = [r["day"] for r in rep.by_day]
    models = sorted({r["model"] for r in rep.by_day_model})
    if days:
        fig, ax = plt.subplots(figsize=(8, 3.2))
        bottom = [0.0] * len(days)
        for m in models:
            values = [next((r["prompt_tokens"] + r["completion_tokens"] for r in rep.by_day_model
                            if r["day"] == d and r["model"] == m), 0) for d in days]
            ax.bar(days, values, bottom=bottom, label=m or "(none)")
            bottom = [b + v for b, v in zip(bottom, values)]
        ax.set_ylabel("tokens")
        ax.set_title("Tokens per day, by model")
        ax.legend(fontsize=8, loc="upper left")
        ax.tick_params(axis="x", rotation=45, labelsize=8)
        out.append(("Tokens per day", _svg(fig)))
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(8, 2.6))
        ax.plot(days, [r["cost"] for r in rep.by_day], marker="o")
        ax.set_ylabel(rep.currency)
        ax.set_title("Cost per day")
        ax.tick_params(axis="x", rotation=45, labelsize=8)
        out.append(("Cost per day", _svg(fig)))
        plt.close(fig)
    if rep.by_key:
        top = rep.by_key[:15]
        fig, ax = plt.subplots(figsize=(8, 0.4 * len(top) + 1))
        ax.barh([rep.key_label(r["key_id"]) for r in top][::-1], [r["cost"] for r in top][::-1])
        ax.set_xlabel(rep.currency)
        ax.set_title("Cost per key")
        out.append(("Cost per key", _svg(fig)))
        plt.close(fig)
    if rep.total["requests"]:
        shown = _comparison_rows(rep)
        fig, ax = plt.subplots(figsize=(8, 0.32 * len(shown) + 1))
        colors = ["#d62728" if r.kind == "actual" else "#2ca02c" if r.kind == "self-hosted" else "#1f77b4"
                  for r in shown]
        ax.barh([r.offering for r in shown][::-1], [r.cost for r in shown][::-1], color=colors[::-1])
        ax.set_xlabel(f"{rep.currency} for this period's tokens")
        ax.set_title("The same traffic elsewhere (red: actual; green: self-hosted; blue: APIs)")
        ax.tick_params(axis="y", labelsize=7)
        out.append(("The same traffic elsewhere", _svg(fig)))
        plt.close(fig)
    return out


def _comparison_rows(rep: UsageReport) -> list[CostRow]:
    actual = CostRow(offering="actual (through the gateway)", kind="actual", region="", cost=rep.total["cost"],
                     basis="what the calls cost")
    return sorted([actual, *rep.costs], key=lambda r: r.cost)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _num(row: dict[str, Any], currency: str) -> list[Any]:
    return [f"{row['requests']:,}", f"{row['errors']:,}", f"{row['cache_hits']:,}", f"{row['prompt_tokens']:,}",
            f"{row['completion_tokens']:,}", f"{row['cost']:.4f} {currency}", f"{row['mean_latency_ms']:.1f}"]


NUM_HEADERS = ["requests", "errors", "cache hits", "prompt tokens", "completion tokens", "cost", "mean ms"]


def render_html(rep: UsageReport) -> str:
    """A self-contained page: summary, charts, tables per key, model and day, cost comparison."""
    period = f"{rep.since or 'the beginning'} to {rep.until or 'today'}"
    t = rep.total
    parts = [f"<h1>Gateway usage</h1><p class=meta>{html.escape(period)} (UTC days); generated "
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; costs in {html.escape(rep.currency)}</p>",
             f"<p class=big>{t['requests']:,} requests, {t['prompt_tokens'] + t['completion_tokens']:,} tokens, "
             f"{t['cost']:.4f} {html.escape(rep.currency)}</p>"]
    for title, svg in _charts(rep):
        parts.append(f"<h2>{html.escape(title)}</h2><div class=chart>{svg}</div>")
    parts.append("<h2>Per key</h2>" + _table(["key", *NUM_HEADERS],
                                              [[rep.key_label(r["key_id"]), *_num(r, rep.currency)]
                                               for r in rep.by_key]))
    parts.append("<h2>Per model</h2>" + _table(["model", *NUM_HEADERS],
                                                [[r["model"], *_num(r, rep.currency)] for r in rep.by_model]))
    parts.append("<h2>Per day</h2>" + _table(["day", *NUM_HEADERS],
                                              [[r["day"], *_num(r, rep.currency)] for r in rep.by_day]))
    parts.append(f"<h2>The same traffic elsewhere</h2><p>Self-hosted figures assume "
                 f"{rep.tokens_per_second:g} tokens/s sustained per GPU (measure yours and pass "
                 f"--tokens-per-second); API prices are the catalog's list prices on their date.</p>"
                 + _table(["offering", "kind", "region", f"cost ({rep.currency})", "priced as"],
                          [[r.offering, r.kind, r.region, f"{r.cost:.4f}", r.basis] for r in _comparison_rows(rep)]))
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}"
             "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;"
             "text-align:right;font-size:.9em}td:first-child,th:first-child{text-align:left}"
             ".meta{color:#666}.big{font-size:1.3em}.chart svg{max-width:100%;height:auto}")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>Luban gateway usage</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
