"""HTML comparison report for QA evaluation: a bar chart and the answers side by side."""

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
