"""The compliance report as Markdown (for the file cabinet) and HTML (for people), from the assessed items."""

from __future__ import annotations

import html
from typing import Any

from luban.compliance.checks import FAIL, PASS, UNKNOWN, Item

MARK = {PASS: "✅ pass", FAIL: "❌ fail", UNKNOWN: "❔ unknown"}
COLOR = {PASS: "#0a7d32", FAIL: "#b3261e", UNKNOWN: "#8a6d00"}


def markdown(title: str, items: list[Item], summary: dict[str, Any]) -> str:
    lines = [f"# {title}", "",
             f"Generated {summary['generated']} by Luban from evidence in this workspace. "
             f"{summary[PASS]} pass, {summary[FAIL]} fail, {summary[UNKNOWN]} unknown. "
             "A self-assessment, not legal advice; thresholds marked [check] in docs/compliance.md await "
             "confirmation against the official texts.", "",
             "| # | requirement | document | clause | status |", "|---|---|---|---|---|"]
    lines += [f"| {n} | {i.title} | {i.document} | {i.clause} | {MARK[i.status]} |" for n, i in enumerate(items, 1)]
    for n, i in enumerate(items, 1):
        lines += ["", f"## {n}. {i.title} — {MARK[i.status]}", f"*{i.document}, {i.clause}* (`{i.id}`)", ""]
        lines += [f"- {e}" for e in i.evidence]
        if i.remedy and i.status != PASS:
            lines += ["", f"**What to do:** {i.remedy}"]
    return "\n".join(lines) + "\n"


def page(title: str, items: list[Item], summary: dict[str, Any]) -> str:
    total = max(len(items), 1)
    bar = "".join(f"<span style='width:{100 * summary[s] / total:.1f}%;background:{COLOR[s]}'></span>"
                  for s in (PASS, FAIL, UNKNOWN))
    rows = []
    for n, i in enumerate(items, 1):
        ev = "".join(f"<li>{html.escape(e)}</li>" for e in i.evidence)
        todo = f"<p class=todo>What to do: {html.escape(i.remedy)}</p>" if i.remedy and i.status != PASS else ""
        rows.append(f"<tr><td>{n}</td><td><b>{html.escape(i.title)}</b><br><small>{html.escape(i.document)}, "
                    f"{html.escape(i.clause)}</small></td><td style='color:{COLOR[i.status]}'>{MARK[i.status]}</td>"
                    f"<td><ul>{ev}</ul>{todo}</td></tr>")
    return f"""<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;max-width:1150px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;width:100%;font-size:14px}}td,th{{border-bottom:1px solid #ddd;padding:8px;text-align:left;
vertical-align:top}}th{{background:#f4f4f4}}ul{{margin:0;padding-left:1.2em}}.todo{{color:#b3261e;margin:.4em 0 0}}
.bar{{display:flex;height:14px;border-radius:7px;overflow:hidden;margin:1em 0}}.bar span{{display:block}}</style>
</head><body><h1>{html.escape(title)}</h1><p>Generated {summary['generated']}: <b>{summary[PASS]}</b> pass,
<b>{summary[FAIL]}</b> fail, <b>{summary[UNKNOWN]}</b> unknown (needs a fact or a measurement). A self-assessment from
evidence Luban recorded, not legal advice.</p><div class=bar>{bar}</div>
<table><tr><th>#</th><th>requirement</th><th>status</th><th>evidence</th></tr>{''.join(rows)}</table></body></html>"""
