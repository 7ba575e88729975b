"""HTML rendering of a data report: one self-contained page, charts as inline SVG (matplotlib)."""

from __future__ import annotations

import io
from typing import Any

from jinja2 import Environment

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data report {{ s.dataset.name or s.dataset.id[:12] }}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
.num{text-align:right}.muted{color:#666}pre{white-space:pre-wrap;margin:0;font-size:12px}</style></head><body>
<h1>Data report: {{ s.dataset.name or s.dataset.id[:12] }}</h1>
<p class="muted">dataset {{ s.dataset.id }} · {{ s.sources }} source files · {{ s.records_in }} records in ·
<b>{{ s.train }}</b> kept · {{ s.rejected }} rejected</p>
<h2>Funnel</h2>
<table><tr><th>operator</th><th class="num">in</th><th class="num">out</th><th class="num">dropped</th>
<th class="num">modified</th><th>reasons</th><th>found</th></tr>
{% for op in s.funnel %}<tr><td>{{ op.name }}</td><td class="num">{{ op.get('in', '') }}</td>
<td class="num">{{ op.get('out', '') }}</td><td class="num">{{ op.get('dropped', '') }}</td>
<td class="num">{{ op.get('modified', '') }}</td>
<td>{% for r, n in op.get('reasons', {}).items() %}{{ r }}: {{ n }}<br>{% endfor %}</td>
<td>{% for r, n in op.get('tags', {}).items() %}{{ r }}: {{ n }}<br>{% endfor %}</td></tr>{% endfor %}
</table>
{{ funnel_svg | safe }}
<h2>Lengths (characters)</h2>{{ length_svg | safe }}
<h2>Languages</h2>
<table><tr><th>language</th><th class="num">records</th></tr>
{% for k, v in s.languages.items() %}<tr><td>{{ k }}</td><td class="num">{{ v }}</td></tr>{% endfor %}</table>
<h2>What the operators found</h2>
<p class="muted">Counts each operator reported: PII per type, lexicon hits per category, records per language,
duplicate clusters, ...</p>
{% for f in s.found %}<h3>{{ f.operator }}</h3>
<table><tr><th>found</th><th class="num">count</th></tr>
{% for k, v in f.counts.items() %}<tr><td>{{ k }}</td><td class="num">{{ v }}</td></tr>{% endfor %}</table>
{% else %}<p>nothing reported</p>{% endfor %}
<h2>Duplicate clusters (largest first)</h2>
{% for c in s.duplicate_clusters %}<table><tr><th>kept: {{ c.kept }} ({{ c.size }} in cluster)</th></tr>
<tr><td><pre>{{ c.kept_text }}</pre></td></tr>
{% for d in c.duplicates %}<tr><td class="muted">{{ d.operator }} · {{ d.where }}<pre>{{ d.text }}</pre></td></tr>
{% endfor %}</table>{% else %}<p>no duplicates removed</p>{% endfor %}
</body></html>
"""


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    return text[text.find("<svg"):]


def funnel_chart(summary: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ops = [op for op in summary["funnel"] if "out" in op]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(ops) + 1))
    ax.barh([op["name"] for op in ops][::-1], [op["out"] for op in ops][::-1], color="#4c78a8")
    ax.set_xlabel("records after the step")
    return _svg(fig)


def length_chart(summary: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3))
    bins = summary["lengths"]["train"]["bins"]
    xs = range(len(bins))
    ax.bar([x - 0.2 for x in xs], summary["lengths"]["train"]["counts"], width=0.4, label="train")
    ax.bar([x + 0.2 for x in xs], summary["lengths"]["rejected"]["counts"], width=0.4, label="rejected")
    ax.set_xticks(list(xs), bins, rotation=30, fontsize=8)
    ax.legend()
    return _svg(fig)


def render(summary: dict[str, Any]) -> str:
    env = Environment(autoescape=True)
    return env.from_string(TEMPLATE).render(s=summary, funnel_svg=funnel_chart(summary),
                                            length_svg=length_chart(summary))
