"""The sweep: build every variant of a model, measure each the same way, and name the deploy candidate.

    - name: acme-sweep
      use: compress.sweep
      from: acme-chat
      with: {variants: [torch-int8, onnx-int8, gguf-q8_0, gguf-q4_K_M, prune], prefer: size,
             tasks: [eval/qa.yaml], gates: {perplexity_delta_pct: "<= 2", acme_qa.exact_match: ">= 0.8"}}

The candidate is the smallest variant (`prefer: size`, by bytes on disk) or the fastest (`prefer: speed`,
by one-stream decode tokens/s) that passes every gate; the parent itself competes too. The report artifact
(results.json, report.html) holds one row per variant with the reason each other variant lost, and the
candidate's model artifact is tagged `<sweep name>-candidate`, so a serving spec can name it by reference.

Design choices:
- This module builds and measures (size, perplexity and drift against the parent, speed in a child
  process); scoring the evaluation tasks and reading the gates belong to the evaluate layer, which
  compress may not import. The `compress.sweep` stage (in `luban.stages`) hands both in as functions.
- Tasks run on the variants transformers loads (the parent, torch int8, pruned). A GGUF or ONNX variant
  is scored on its perplexity drift and speed; a gate on a task metric it lacks counts as a miss with
  that reason, never as a pass.
- No variant passing is an error after the report is written: the run stops there, with the table.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from luban.compress.prune import PruneConfig, prune_stage
from luban.compress.quantize import METHODS, QuantizeConfig, dir_bytes, quantize_stage
from luban.compress.speed import measure
from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import InputPath, StageConfig, WorkPath, dump_config
from luban.core.errors import LubanError, UsageError
from luban.core.workspace import Workspace

# "task.metric" -> value for a model directory (the evaluate layer's `evaluate(...)["metrics"]`)
TaskScorer = Callable[[Any], dict[str, float]]
# metrics -> one {"metric", "passed", "why"} per gate; raises UsageError for a metric the dict lacks
GateChecker = Callable[[dict[str, float]], list[dict[str, Any]]]


class SweepConfig(StageConfig):
    variants: list[str] = Field(default_factory=lambda: ["torch-int8", "onnx-int8", "gguf-q8_0", "gguf-q4_K_M"],
                                description=f"methods: {', '.join(METHODS)} or prune", min_length=1)
    prefer: Literal["size", "speed"] = Field("size", description="pick the smallest or the fastest passing variant")
    tasks: list[InputPath] = Field(default_factory=list, description="evaluation task YAML files")
    gates: dict[str, str | float] = Field(default_factory=dict, description='e.g. {perplexity_delta_pct: "<= 2"}')
    include_parent: bool = Field(True, description="the unmodified parent competes too")
    measure_speed: bool = Field(True, description="time each variant at one stream (a child process each)")
    new_tokens: int = Field(32, ge=2, description="tokens decoded per speed run")
    drop_layers: int = Field(1, ge=0, description="for the prune variant")
    mlp_keep: float = Field(1.0, gt=0, le=1, description="for the prune variant")
    texts: list[str] | None = Field(None, description="texts for the perplexity comparison (default: built in)")
    llama_cpp_dir: WorkPath | None = None


def _check_variants(cfg: SweepConfig) -> None:
    for v in cfg.variants:
        if v != "prune" and v not in METHODS:
            raise UsageError(f"unknown sweep variant '{v}'", f"variants: {', '.join(METHODS)}, prune")


def build_variant(cfg: SweepConfig, ws: Workspace, src: Artifact, variant: str, name: str | None) -> Artifact:
    if variant == "prune":
        extra = {"texts": cfg.texts} if cfg.texts else {}
        return prune_stage(PruneConfig(drop_layers=cfg.drop_layers, mlp_keep=cfg.mlp_keep, **extra), ws,
                           {"model": src}, name=name)
    return quantize_stage(QuantizeConfig(method=variant, llama_cpp_dir=cfg.llama_cpp_dir),  # type: ignore[arg-type]
                          ws, {"model": src}, name=name)


def variant_metrics(cfg: SweepConfig, art: Artifact, is_parent: bool, tasks: TaskScorer | None) -> dict[str, Any]:
    stats = art.manifest.stats
    size = dir_bytes(art.path)
    m: dict[str, Any] = {"size_mb": size / 2**20}
    if is_parent:
        m.update(perplexity_delta_pct=0.0, kl_from_parent=0.0, top1_agreement=1.0)
    else:
        m.update({k: stats[k] for k in ("perplexity", "perplexity_delta_pct", "kl_from_parent", "top1_agreement")
                  if k in stats})
    if cfg.measure_speed:
        m.update({k: v for k, v in measure(art.path, new_tokens=cfg.new_tokens, runs=2).items() if k != "prompt_tokens"})
    loads_in_torch = (art.path / "config.json").is_file() and not list(art.path.glob("*.gguf")) \
        and not (art.path / "model.onnx").is_file()
    if tasks is not None and cfg.tasks and loads_in_torch:
        m.update(tasks(art.path))
    return m


def verdicts(rows: list[dict[str, Any]], prefer: str) -> dict[str, Any] | None:
    """Pick the candidate among rows that passed, and write each row's `verdict` (why it won or lost)."""
    passing = [r for r in rows if r["passed"]]
    key = (lambda r: r["metrics"]["size_mb"]) if prefer == "size" else (lambda r: -r["metrics"]["tokens_per_s"])
    best = min(passing, key=key) if passing else None
    for r in rows:
        if r is best:
            r["verdict"] = f"candidate: the {'smallest' if prefer == 'size' else 'fastest'} variant that passes every gate"
        elif not r["passed"]:
            r["verdict"] = "failed: " + "; ".join(g["why"] for g in r["gates"] if not g["passed"])
        elif prefer == "size":
            assert best is not None
            r["verdict"] = (f"passed, but larger: {r['metrics']['size_mb']:.2f} MB vs "
                            f"{best['metrics']['size_mb']:.2f} MB")
        else:
            assert best is not None
            r["verdict"] = (f"passed, but slower: {r['metrics']['tokens_per_s']:.1f} vs "
                            f"{best['metrics']['tokens_per_s']:.1f} tokens/s")
    return best


def render(results: dict[str, Any]) -> str:
    """The sweep table as one HTML page (inline bars for size and speed, no scripts)."""
    rows = results["variants"]
    top = max(r["metrics"]["size_mb"] for r in rows) or 1.0
    body = []
    for r in rows:
        m = r["metrics"]
        bar = f'<div style="background:#4a7;height:10px;width:{200 * m["size_mb"] / top:.0f}px"></div>'
        speed = f"{m['tokens_per_s']:.1f}" if "tokens_per_s" in m else "-"
        bold = ' style="font-weight:bold"' if r["name"] == results["candidate"] else ""
        body.append(f"<tr{bold}>"
                    f"<td>{html.escape(r['name'])}</td><td>{m['size_mb']:.2f} {bar}</td><td>{speed}</td>"
                    f"<td>{m.get('perplexity_delta_pct', float('nan')):+.2f}%</td>"
                    f"<td>{html.escape(r['verdict'])}</td></tr>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Compression sweep</title><style>"
            "body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;border-bottom:1px solid #ddd}</style>"
            f"</head><body><h1>Compression sweep</h1><p>Candidate: <b>{html.escape(str(results['candidate']))}</b>"
            f" (prefer {results['prefer']})</p><table><tr><th>variant</th><th>size (MB)</th><th>decode tokens/s</th>"
            f"<th>perplexity vs parent</th><th>verdict</th></tr>{''.join(body)}</table></body></html>")


def sweep(cfg: SweepConfig, ws: Workspace, inputs: dict[str, Artifact], name: str | None = None, *,
          tasks: TaskScorer | None = None, gates: GateChecker | None = None) -> Artifact:
    """Build, measure and judge every variant; returns the report artifact. See the module docstring."""
    _check_variants(cfg)
    if cfg.tasks and tasks is None:
        raise UsageError("this sweep names tasks but was given no task scorer", "run it as the compress.sweep stage")
    if cfg.gates and gates is None:
        raise UsageError("this sweep names gates but was given no gate checker", "run it as the compress.sweep stage")
    src = inputs["model"]
    built: list[tuple[str, Artifact]] = [("parent", src)] if cfg.include_parent else []
    for v in cfg.variants:
        built.append((v, build_variant(cfg, ws, src, v, f"{name}-{v}" if name else None)))
    rows: list[dict[str, Any]] = []
    for label, art in built:
        metrics = variant_metrics(cfg, art, art.id == src.id, tasks)
        try:
            outcome = gates(metrics) if gates else []
        except UsageError as err:  # a gate on a metric this variant lacks: a miss, with the reason
            outcome = [{"metric": "?", "passed": False, "why": f"{err.message} (tasks run on transformers "
                                                                f"variants only)"}]
        rows.append({"name": label, "artifact": art.id, "metrics": metrics, "gates": outcome,
                     "passed": all(g["passed"] for g in outcome)})
    best = verdicts(rows, cfg.prefer)
    results = {"prefer": cfg.prefer, "candidate": best["name"] if best else None,
               "candidate_artifact": best["artifact"] if best else None, "variants": rows,
               "metrics": {f"{r['name']}.{k}": v for r in rows for k, v in r["metrics"].items()}}
    parents = [artifact_parent(src, "source")] + [artifact_parent(a, f"variant:{lbl}") for lbl, a in built
                                                   if a.id != src.id]
    with ws.create("report", name, "compress.sweep", dump_config(cfg), parents=parents) as p:
        (p.path / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        (p.path / "report.html").write_text(render(results), encoding="utf-8")
        p.stats.update(candidate=results["candidate"], variants=len(rows), passed=sum(r["passed"] for r in rows))
    assert p.result is not None
    if best is None:
        raise LubanError(f"no variant passes every gate (report: {p.result.name or p.result.short_id})",
                         "loosen a gate or add a milder variant (gguf-q8_0, torch-int8)")
    if name:
        ws.tag(f"{name}-candidate", dict(built)[best["name"]])
    return p.result
