"""HTML reports: QA evaluation (a bar chart and the answers side by side) and task evaluation (evaluate.tasks)."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Luban evaluation</title>
<style>body{{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;max-width:1100px;margin:2em auto;
color:#222}}h1{{font-weight:600}}table{{border-collapse:collapse;width:100%;font-size:14px}}td,th{{border-bottom:1px
solid #ddd;padding:6px;text-align:left;vertical-align:top}}th{{background:#f4f4f4}}.good{{color:#0a7d32}}
.bad{{color:#b3261e}}.kpi{{display:inline-block;margin:0 2em 1em 0;font-size:18px}}.kpi b{{font-size:28px;
display:block}}</style></head><body><h1>Held-out QA: {title}</h1>{kpis}<img alt="scores" src="data:image/png;base64,{chart}">
<h2>Answers</h2><table><tr><th>#</th><th>question</th><th>reference</th>{heads}</tr>{rows}</table></body></html>"""


def _chart(results: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    roles = list(results["models"])
    metrics = ["exact_match", "rouge_l"]
    fig, ax = plt.subplots(figsize=(6, 3), dpi=110)
    width = 0.8 / max(len(roles), 1)
    for i, role in enumerate(roles):
        vals = [results["models"][role][m] for m in metrics]
        ax.bar([x + i * width for x in range(len(metrics))], vals, width, label=role)
    ax.set_xticks([x + width * (len(roles) - 1) / 2 for x in range(len(metrics))], ["exact match", "ROUGE-L"])
    ax.set_ylim(0, 1)
    ax.legend()
    ax.spines[["top", "right"]].set_visible(False)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def render_qa_report(results: dict[str, Any]) -> str:
    roles = list(results["models"])
    title = " vs ".join(f"{r} ({results['models'][r]['artifact']['name'] or r})" for r in roles)
    kpis = "".join(f"<div class=kpi>{html.escape(r)}<b>{results['models'][r]['rouge_l']:.3f}</b>ROUGE-L · "
                   f"EM {results['models'][r]['exact_match']:.3f}</div>" for r in roles)
    rows = []
    for i in range(results["questions"]):
        first = results["models"][roles[0]]["items"][i]
        cells = "".join(
            f"<td class={'good' if it['rouge_l'] >= 0.5 else 'bad'}>{html.escape(it['prediction'])}"
            f"<br><small>ROUGE-L {it['rouge_l']:.2f}</small></td>"
            for it in (results["models"][r]["items"][i] for r in roles))
        rows.append(f"<tr><td>{i + 1}</td><td>{html.escape(first['question'])}</td>"
                    f"<td>{html.escape(first['reference'])}</td>{cells}</tr>")
    heads = "".join(f"<th>{html.escape(r)}</th>" for r in roles)
    return PAGE.format(title=html.escape(title), kpis=kpis, chart=_chart(results), heads=heads, rows="".join(rows))


TASKS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Luban evaluation: {title}</title>
<style>body{{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;max-width:1100px;margin:2em auto;
color:#222}}table{{border-collapse:collapse;width:100%;font-size:14px;margin-bottom:1.5em}}td,th{{border-bottom:1px
solid #ddd;padding:5px;text-align:left;vertical-align:top}}th{{background:#f4f4f4}}.good{{color:#0a7d32}}
.bad{{color:#b3261e}}</style></head><body><h1>Evaluation: {title}</h1>{chart}
<h2>Metrics</h2><table><tr><th>task</th><th>kind</th><th>items</th><th>metric</th><th>value</th></tr>{metrics}</table>
{details}</body></html>"""
ITEMS_SHOWN = 50


def _bar_chart(values: dict[str, float], title: str) -> str:
    """A horizontal bar chart of 0..1 scores as an inline PNG (no CDN), or "" when there are none."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = {k: v for k, v in values.items() if 0 <= v <= 1}
    if not shown:
        return ""
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(shown) + 1), dpi=110)
    ax.barh(list(shown), list(shown.values()), color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def render_tasks_report(results: dict[str, Any]) -> str:
    """One page for an evaluate.tasks report: a chart of the 0..1 metrics, every metric, the first items."""
    target = results.get("target")
    title = (target.get("name") or target.get("model") or "model") if isinstance(target, dict) else str(target)
    rows, details = [], []
    for name, t in results["tasks"].items():
        for metric, value in t["metrics"].items():
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(t['kind'])}</td><td>{t['n']}</td>"
                        f"<td>{html.escape(metric)}</td><td>{value:.4g}</td></tr>")
        items = t["items"][:ITEMS_SHOWN]
        if not items:
            continue
        cols = [c for c in items[0] if c not in ("loglikelihoods", "judge")]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(it.get(c)))}</td>" for c in cols) + "</tr>"
                       for it in items)
        more = f"<p>first {ITEMS_SHOWN} of {t['n']} items; all are in results.json</p>" if t["n"] > ITEMS_SHOWN else ""
        details.append(f"<h2>{html.escape(name)}</h2>{more}<table><tr>{head}</tr>{body}</table>")
    chart = _bar_chart({k: v for k, v in results["metrics"].items()}, "scores (0-1)")
    return TASKS_PAGE.format(title=html.escape(str(title)), chart=chart, metrics="".join(rows),
                             details="".join(details))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "" if value is None else str(value)
