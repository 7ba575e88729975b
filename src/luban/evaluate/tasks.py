"""Evaluation tasks: a YAML file names its kind, its data and how to prompt and score it.

    task: acme_qa                       # its name in reports (and in gates: acme_qa.exact_match)
    kind: generate                      # generate | multiple_choice | perplexity | judge | "module:Class"
    data: acme_qa.jsonl                 # JSON lines, JSON or CSV, relative to this file
    prompt: "问题：{question}\\n回答："   # Python format fields from each item
    target: "{answer}"
    metrics: [exact_match, f1, rouge_l, bleu]

Design choices:
- A task is plain data (`Task`, pydantic, unknown keys refused with the closest valid one); the kind is a
  scorer class found through the one `Registry`, so a team's own kind is one small class and `kind:
  mypkg.evals:MyKind`, with no change to Luban.
- Items are read once and checked before any model is loaded: a missing field, a multiple-choice answer
  that is not among its choices or a prompt naming a field the items lack is a one-line error with the item.
- Multiple choice reads C-Eval (`id,question,A,B,C,D,answer`), CMMLU (`Question,A,B,C,D,Answer`) and
  MMLU (no header: question, four choices, answer letter) CSV files as downloaded, and JSON lines with a
  `choices` list and an `answer` given as a letter, an index or the choice's text.
"""

from __future__ import annotations

import csv
import json
import string
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from luban.core.config import build_config, read_yaml
from luban.core.errors import UsageError

LETTERS = string.ascii_uppercase
Metric = Literal["exact_match", "f1", "rouge_l", "bleu"]
GENERATE_METRICS: tuple[Metric, ...] = ("exact_match", "f1", "rouge_l", "bleu")


class JudgeSpec(BaseModel):
    """An OpenAI-compatible endpoint that grades answers (see `luban.evaluate.judge`)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    model: str
    api_key_env: str | None = Field(None, description="environment variable holding the judge's API key")
    template: str | None = Field(None, description="judge prompt with {question} {reference} {answer} {scale}")
    scale: int = Field(10, ge=1, le=100, description="the judge scores 1..scale; reported as score/scale")
    max_tokens: int = Field(256, ge=1)
    timeout: float = Field(60.0, gt=0)


class Task(BaseModel):
    """One evaluation task, as written in its YAML file."""

    model_config = ConfigDict(extra="forbid")

    task: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", description="name, also the prefix of its metrics")
    kind: str = Field(description="generate | multiple_choice | perplexity | judge | module:Class")
    description: str = ""
    data: str | None = Field(None, description="items file (JSON lines, JSON list or CSV), relative to the YAML")
    split: str | None = Field(None, description="split of a dataset artifact given as the stage's `data` input")
    limit: int | None = Field(None, ge=1, description="score only the first N items")
    prompt: str = Field("{question}", description="prompt template: Python format fields from each item")
    system: str | None = Field(None, description="system message (chat prompts)")
    chat: bool = Field(True, description="prompt through the model's chat template (generate, judge)")
    target: str = Field("{answer}", description="reference template (generate, judge)")
    metrics: list[Metric] = Field(default_factory=lambda: list(GENERATE_METRICS))
    max_new_tokens: int = Field(64, ge=1, le=8192)
    stop: list[str] = Field(default_factory=list, description="cut each answer at the first of these strings")
    # multiple choice
    format: Literal["auto", "jsonl", "ceval", "cmmlu", "mmlu"] = "auto"
    choice_style: Literal["letter", "text"] = Field(
        "letter", description="score the answer letter (C-Eval/MMLU style) or each choice's full text")
    # perplexity
    text_field: str = "text"
    max_length: int = Field(1024, ge=8, description="tokens per window (longer texts are cut)")
    # judge
    judge: JudgeSpec | None = None
    batch_size: int | None = Field(None, ge=1, description="overrides the run's batch size for this task")
    # where the file was read from: data paths are relative to it
    source: str | None = Field(None, exclude=True)

    def data_path(self) -> Path | None:
        if self.data is None:
            return None
        path = Path(self.data).expanduser()
        if not path.is_absolute() and self.source:
            path = Path(self.source).parent / path
        return path


def load_task(path: str | Path) -> Task:
    """Read and validate a task YAML file; a missing or unknown field is a one-line ConfigError."""
    from luban.evaluate.kinds import KINDS

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no task file {path}", "give the path of a task YAML (templates: examples/eval/)")
    data = read_yaml(path)
    task = build_config(Task, {**data, "source": str(path.resolve())}, source=str(path))
    KINDS.check(task.kind)
    if task.kind == "judge" and task.judge is None:
        raise UsageError(f"{path}: a judge task needs `judge: {{url: ..., model: ...}}`",
                         "name the OpenAI-compatible endpoint that grades the answers")
    return task


def read_rows(path: Path, fmt: str = "auto") -> list[dict[str, Any]]:
    """Items of a JSON-lines, JSON (a list) or CSV file; C-Eval / CMMLU / MMLU CSVs come back as
    {question, choices, answer} rows."""
    if not path.is_file():
        raise UsageError(f"task data {path} does not exist", "set `data:` to a file next to the task YAML")
    if path.suffix.lower() == ".csv" or fmt in ("ceval", "cmmlu", "mmlu"):
        return _read_choice_csv(path, fmt)
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as e:
            raise UsageError(f"{path}: not valid JSON ({e.msg})", "fix the file") from None
        if not isinstance(rows, list):
            raise UsageError(f"{path}: a JSON task file holds a list of items", "write [{...}, {...}]")
        return rows
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise UsageError(f"{path}:{n}: not valid JSON ({e.msg})", "fix or remove that line") from None
        if not isinstance(row, dict):
            raise UsageError(f"{path}:{n}: an item is a JSON object", "write one {...} per line")
        rows.append(row)
    return rows


def _read_choice_csv(path: Path, fmt: str) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        table = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    if not table:
        return []
    header = [h.strip().lower() for h in table[0]]
    if fmt == "mmlu" or "question" not in header:  # MMLU's files have no header
        return [{"id": str(i), "question": r[0], "choices": r[1:-1], "answer": r[-1].strip()}
                for i, r in enumerate(table, 1)]
    q = header.index("question")
    letters = [i for i, h in enumerate(header) if len(h) == 1 and h.upper() in LETTERS]
    if "answer" not in header or not letters:
        raise UsageError(f"{path}: a multiple-choice CSV needs columns question, A, B, ... and answer",
                         f"its header is: {', '.join(table[0])}")
    a = header.index("answer")
    ident = header.index("id") if "id" in header else None
    out = []
    for n, r in enumerate(table[1:], 2):
        if len(r) < len(header):
            raise UsageError(f"{path}:{n}: {len(r)} columns, the header has {len(header)}", "fix that row")
        out.append({"id": r[ident] if ident is not None else str(n - 1), "question": r[q],
                    "choices": [r[i] for i in letters], "answer": r[a].strip()})
    return out


def fill(template: str, item: dict[str, Any], where: str) -> str:
    """`template` with the item's fields; a field the item lacks is an error naming it and the item."""
    try:
        return template.format(**item)
    except KeyError as e:
        raise UsageError(f"{where}: the template names {{{e.args[0]}}} but the item has no such field",
                         f"its fields are: {', '.join(sorted(item))}") from None
    except (IndexError, ValueError) as e:
        raise UsageError(f"{where}: cannot fill the template ({e})", "double literal braces as {{ and }}") from None


def answer_index(item: dict[str, Any], where: str) -> int:
    """The index of a multiple-choice item's answer among its choices: a letter, an index or the text."""
    choices = item.get("choices")
    if not isinstance(choices, list) or len(choices) < 2:
        raise UsageError(f"{where}: a multiple-choice item needs a list of at least 2 `choices`",
                         "write choices: [..] (or columns A, B, ... in a CSV)")
    ans = item.get("answer")
    if isinstance(ans, bool) or ans is None:
        raise UsageError(f"{where}: a multiple-choice item needs an `answer`",
                         "give the answer as a letter (B), an index (1) or the choice's text")
    if isinstance(ans, int):
        idx = ans
    elif isinstance(ans, str) and len(ans.strip()) == 1 and ans.strip().upper() in LETTERS:
        idx = LETTERS.index(ans.strip().upper())
    elif isinstance(ans, str) and ans in choices:
        idx = choices.index(ans)
    else:
        idx = -1
    if not 0 <= idx < len(choices):
        valid = ", ".join(LETTERS[: len(choices)])
        raise UsageError(f"{where}: answer {ans!r} is not among its {len(choices)} choices",
                         f"use one of {valid}, an index 0-{len(choices) - 1} or a choice's exact text")
    return idx
