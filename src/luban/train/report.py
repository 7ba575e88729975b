"""The training report: loss and learning-rate curves as PNG in one self-contained HTML page.

Written into the model artifact's `run/` folder next to `metrics.jsonl`, so `luban show MODEL` can point at it
and the curves stay with the weights they describe.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from luban.train.tracking import read_metrics

CURVES = (("loss", "training loss"), ("learning_rate", "learning rate"))


def write_report(run_dir: Path, title: str, summary: dict[str, Any]) -> Path:
    """Plot the curves found in `run_dir/metrics.jsonl`; returns the path of `report.html`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(run_dir)
    images = []
    for key, label in CURVES:
        points = [(r["step"], r[key]) for r in rows if key in r]
        if not points:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="." if len(points) < 40 else None)
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(run_dir / f"{key}.png")
        plt.close(fig)
        images.append((f"{key}.png", label))
    cells = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                    for k, v in summary.items())
    imgs = "".join(f'<figure><img src="{f}" alt="{html.escape(label)}"><figcaption>{html.escape(label)}'
                   "</figcaption></figure>" for f, label in images)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}th{text-align:left;padding-right:"
            "1em}figure{display:inline-block;margin:0 1em 1em 0}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><table>{cells}</table>{imgs or '<p>no metrics were logged</p>'}"
            "</body></html>")
    out = run_dir / "report.html"
    out.write_text(page, encoding="utf-8")
    return out
