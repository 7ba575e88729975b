"""Question-answering evaluation: a model (and optionally a baseline) on held-out questions.

Scores exact match and ROUGE-L per question, writes `results.json` and an HTML report with a chart,
and records the model(s) and the question file in lineage. The questions are a JSON-lines file with
`question` and `answer` fields (or a dataset artifact with those columns, role `data`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field

from luban.core.artifact import Artifact, artifact_parent, file_parent
from luban.core.config import InputPath, StageConfig, dump_config
from luban.core.errors import UsageError
from luban.core.hashing import sha256_file
from luban.core.shards import has_split, records
from luban.core.workspace import Workspace
from luban.evaluate.generation import answer_questions
from luban.evaluate.metrics import exact_match, rouge_l
from luban.evaluate.report import render_qa_report


class QAEvalConfig(StageConfig):
    questions: InputPath | None = Field(None, description="JSON-lines file with question/answer fields")
    question_field: str = "question"
    answer_field: str = "answer"
    max_new_tokens: int = Field(48, ge=1, le=4096)
    batch_size: int = Field(16, ge=1)
    limit: int | None = Field(None, ge=1, description="evaluate only the first N questions")
    system_prompt: str | None = None


def question_split(data: Artifact) -> str:
    """The split a dataset's questions come from: `test` when it has one, else `train`."""
    return "test" if has_split(data, "test") else "train"


def load_questions(cfg: QAEvalConfig, data: Artifact | None) -> list[dict[str, str]]:
    rows: list[dict[str, Any]]
    if data is not None:
        rows = records(data, question_split(data))
    elif cfg.questions:
        path = Path(cfg.questions)
        if not path.is_file():
            raise UsageError(f"questions file {path} does not exist", "set `questions:` to a JSON-lines file")
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise UsageError(f"{path}:{n}: not valid JSON ({e.msg})", "fix or remove that line") from None
    else:
        raise UsageError("no questions given", "set `questions:` or pass a dataset as input `data`")
    out = []
    for i, r in enumerate(rows):
        q, a = r.get(cfg.question_field), r.get(cfg.answer_field)
        if not isinstance(q, str) or not isinstance(a, str):
            raise UsageError(f"question {i + 1} lacks string fields '{cfg.question_field}'/'{cfg.answer_field}'")
        out.append({"question": q, "answer": a})
    return out[: cfg.limit] if cfg.limit else out


def score(model_dir: Path, questions: list[dict[str, str]], cfg: QAEvalConfig) -> dict[str, Any]:
    preds = answer_questions(model_dir, [q["question"] for q in questions], cfg.max_new_tokens, cfg.batch_size,
                             cfg.system_prompt)
    items: list[dict[str, Any]] = [{"question": q["question"], "reference": q["answer"], "prediction": p,
              "exact_match": exact_match(p, q["answer"]), "rouge_l": rouge_l(p, q["answer"])}
             for q, p in zip(questions, preds)]
    n = max(len(items), 1)
    return {"exact_match": sum(i["exact_match"] for i in items) / n,
            "rouge_l": sum(i["rouge_l"] for i in items) / n, "items": items}


def evaluate_qa(cfg: QAEvalConfig, ws: Workspace, inputs: dict[str, Artifact] | None = None,
                name: str | None = None) -> Artifact:
    """Score `inputs["model"]` (and `inputs["baseline"]` if given); returns a report artifact."""
    inputs = inputs or {}
    if "model" not in inputs:
        raise UsageError("evaluate.qa needs an input `model`", "add `from: {model: <stage>}` in the spec")
    questions = load_questions(cfg, inputs.get("data"))
    parents = [artifact_parent(a, role) for role, a in inputs.items()]
    if cfg.questions and "data" not in inputs:
        parents.append(file_parent(cfg.portable(cfg.questions), sha256_file(Path(cfg.questions)), role="questions"))
    results: dict[str, Any] = {"questions": len(questions), "models": {}}
    if "data" in inputs:  # say which split was scored: a dataset without `test` is scored on `train`
        results["split"] = question_split(inputs["data"])
    for role in ("baseline", "model"):
        if role in inputs:
            art = inputs[role]
            res = score(art.path, questions, cfg)
            res["artifact"] = {"name": art.name, "id": art.id}
            results["models"][role] = res
    with ws.create("report", name, "evaluate.qa", dump_config(cfg), parents=parents) as p:
        (p.path / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        (p.path / "report.html").write_text(render_qa_report(results), encoding="utf-8")
        p.stats.update({role: {"exact_match": r["exact_match"], "rouge_l": r["rouge_l"]}
                        for role, r in results["models"].items()})
        p.stats["questions"] = len(questions)
        if "split" in results:
            p.stats["split"] = results["split"]
    assert p.result is not None
    return p.result
