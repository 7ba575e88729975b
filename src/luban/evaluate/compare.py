"""Models side by side: quality, safety, size and speed of a base, a tuned model and every variant.

    from luban.evaluate.compare import Candidate, compare, render_comparison
    rows = [Candidate("base", quality=evaluate(base, tasks)["metrics"], perf=measure_local(base)),
            Candidate("tuned-q8", quality=..., safety=safety_results["metrics"], perf=measure_endpoint(...))]
    report = compare(rows)               # JSON data: every candidate's flat metrics, the best per metric
    html = render_comparison(report)     # one page: charts (inline PNG, no CDN) and a table

A candidate's `metrics()` is one flat dict ("acme_qa.exact_match", "safety.refusal", "size_mb", "tokens_per_s",
"ttft_ms", "latency_p50_ms", "peak_rss_mb", "load_s"), which is what `check_gates` reads, so a sweep can gate
each variant with the spec's own gates. What a candidate lacks (no safety report, a GGUF file with no load
time measured) is left out, not zero.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luban.core.artifact import Artifact, Parent
from luban.core.workspace import Workspace
from luban.evaluate.runner import evaluate
from luban.evaluate.speed import dir_size, measure_local

# perf keys, their label and whether lower is better
PERF = {"size_mb": ("file size (MB)", True), "load_s": ("load time (s)", True),
        "tokens_per_s": ("decode tokens/s", False), "ttft_ms": ("time to first token (ms)", True),
        "latency_p50_ms": ("latency p50 (ms)", True), "peak_rss_mb": ("peak memory (MB)", True)}
LOWER_IS_BETTER = {"perplexity", "nll", "bits_per_byte", "over_refusal"}


@dataclass
class Candidate:
    name: str
    quality: dict[str, float] = field(default_factory=dict)  # "task.metric" -> value (evaluate()["metrics"])
    safety: dict[str, float] | None = None  # {"refusal": .., "over_refusal": ..} of a safety report
    perf: dict[str, float] = field(default_factory=dict)  # measure_local / measure_endpoint, plus size_mb
    info: dict[str, Any] = field(default_factory=dict)  # artifact id, backend, parent, quantization, ...

    def metrics(self) -> dict[str, float]:
        out = dict(self.quality)
        out.update({f"safety.{k}": v for k, v in (self.safety or {}).items() if v is not None})
        out.update({k: v for k, v in self.perf.items() if v is not None})
        return out


def lower_is_better(metric: str) -> bool:
    last = metric.rsplit(".", 1)[-1]
    return PERF.get(metric, ("", False))[1] or last in LOWER_IS_BETTER


def compare(candidates: list[Candidate]) -> dict[str, Any]:
    """The comparison as JSON data: each candidate's metrics and info, and which candidate is best at each metric."""
    rows: list[dict[str, Any]] = [{"name": c.name, "metrics": c.metrics(), "info": c.info} for c in candidates]
    names = sorted({k for r in rows for k in r["metrics"]}, key=_order)
    best: dict[str, str] = {}
    for m in names:
        have = [(r["metrics"][m], r["name"]) for r in rows if m in r["metrics"]]
        if len(have) > 1:
            best[m] = (min(have) if lower_is_better(m) else max(have))[1]
    return {"candidates": rows, "metric_names": names, "best": best,
            "metrics": {f"{r['name']}.{k}": v for r in rows for k, v in r["metrics"].items()}}


def _order(metric: str) -> tuple[int, str]:
    return (2 if metric in PERF else 1 if metric.startswith("safety.") else 0, metric)


def _charts(report: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["name"] for r in report["candidates"]]
    quality = [m for m in report["metric_names"] if m not in PERF and
               all(0 <= r["metrics"].get(m, 0) <= 1 for r in report["candidates"])]
    perf = [m for m in PERF if any(m in r["metrics"] for r in report["candidates"])]
    panels = ([("quality and safety (0-1)", quality)] if quality else []) + [(PERF[m][0], [m]) for m in perf]
    if not panels:
        return ""
    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), dpi=100, squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, (title, metrics) in zip(axes.flat, panels):
        width = 0.8 / len(names)
        for i, cand in enumerate(report["candidates"]):
            ax.bar([x + i * width for x in range(len(metrics))], [cand["metrics"].get(m, 0) for m in metrics],
                   width, label=cand["name"])
        ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(metrics))],
                      [m if len(metrics) > 1 else "" for m in metrics], rotation=30 if len(metrics) > 1 else 0,
                      ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    axes.flat[0].legend(fontsize=8)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f'<img alt="comparison charts" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def render_comparison(report: dict[str, Any], title: str = "Model comparison") -> str:
    """One HTML page: the charts and a table (best value of each metric in bold)."""
    names = [r["name"] for r in report["candidates"]]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = []
    for m in report["metric_names"]:
        cells = []
        for r in report["candidates"]:
            v = r["metrics"].get(m)
            text = "–" if v is None else f"{v:.4g}"
            cells.append(f"<td><b>{text}</b></td>" if report["best"].get(m) == r["name"] else f"<td>{text}</td>")
        arrow = "↓" if lower_is_better(m) else "↑"
        body.append(f"<tr><th>{html.escape(PERF.get(m, (m,))[0])} {arrow}</th>{''.join(cells)}</tr>")
    info = "".join(f"<li><b>{html.escape(r['name'])}</b>: {html.escape(', '.join(f'{k}={v}' for k, v in r['info'].items()))}"
                   "</li>" for r in report["candidates"] if r["info"])
    return ("<!doctype html><html><head><meta charset=utf-8><title>" + html.escape(title) + "</title><style>"
            "body{font-family:system-ui,'PingFang SC','Noto Sans CJK SC',sans-serif;max-width:1200px;margin:2em auto;"
            "color:#222}table{border-collapse:collapse;font-size:14px}td,th{border-bottom:1px solid #ddd;"
            "padding:5px 10px;text-align:right}th{text-align:left;font-weight:500}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>{_charts(report)}<h2>All metrics</h2>"
            f"<table><tr><th>metric</th>{head}</tr>{''.join(body)}</table>"
            + (f"<h2>Candidates</h2><ul>{info}</ul>" if info else "") + "</body></html>")


def local_candidate(name: str, model_dir: Path, tasks: list[str | Path], safety: dict[str, float] | None = None,
                    measure: bool = True, batch_size: int = 16, info: dict[str, Any] | None = None) -> Candidate:
    """A model directory evaluated on `tasks` and, with `measure`, timed by `measure_local`."""
    quality = evaluate(model_dir, list(tasks), batch_size=batch_size)["metrics"] if tasks else {}
    perf = measure_local(model_dir) if measure else {"size_mb": dir_size(model_dir) / 2**20}
    return Candidate(name, quality=quality, safety=safety, perf=perf, info=dict(info or {}))


def write_comparison(ws: Workspace, report: dict[str, Any], name: str | None, parents: list[Parent],
                     config: dict[str, Any] | None = None) -> Artifact:
    """The comparison as a report artifact: results.json (the `compare` data) and report.html."""
    with ws.create("report", name, "evaluate.compare", config or {}, parents=parents) as p:
        (p.path / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        (p.path / "report.html").write_text(render_comparison(report), encoding="utf-8")
        p.stats = {"candidates": [r["name"] for r in report["candidates"]], "best": report["best"]}
    assert p.result is not None
    return p.result
