"""Task kinds: how a task's items become prompts and scores. One small class each, found through `KINDS`.

A kind has `check(task, items)` (validate every item before a model is loaded) and `score(task, items,
target) -> TaskResult`. A team's own kind is a class with those two methods, named as `kind: module:Class`.

- generate: greedy answers scored by exact match, token F1, ROUGE-L (per item, averaged) and corpus BLEU;
- multiple_choice: the choice with the highest log-likelihood wins (`acc`), and the highest per character
  (`acc_norm`, lm-evaluation-harness's length normalisation);
- perplexity: exp of the mean token negative log-likelihood over all texts, and bits per byte (comparable
  across tokenizers);
- judge: answers graded by an LLM judge (`luban.evaluate.judge`), mean score / scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from luban.core.errors import UsageError
from luban.core.registry import Registry
from luban.evaluate.judge import grade
from luban.evaluate.metrics import corpus_bleu, exact_match, rouge_l, token_f1
from luban.evaluate.targets import Prompt, Target
from luban.evaluate.tasks import LETTERS, Task, answer_index, fill


@dataclass
class TaskResult:
    metrics: dict[str, float]
    items: list[dict[str, Any]] = field(default_factory=list)


class Kind(Protocol):
    def check(self, task: Task, items: list[dict[str, Any]]) -> None: ...

    def score(self, task: Task, items: list[dict[str, Any]], target: Target) -> TaskResult: ...


def _where(task: Task, i: int, item: dict[str, Any]) -> str:
    return f"task {task.task}, item {item.get('id', i + 1)}"


def _prompt(task: Task, item: dict[str, Any], where: str) -> Prompt:
    text = fill(task.prompt, item, where)
    if not task.chat:
        return text
    msgs = [{"role": "system", "content": task.system}] if task.system else []
    return [*msgs, {"role": "user", "content": text}]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


class Generate:
    def check(self, task: Task, items: list[dict[str, Any]]) -> None:
        for i, it in enumerate(items):
            _prompt(task, it, _where(task, i, it))
            fill(task.target, it, _where(task, i, it))

    def score(self, task: Task, items: list[dict[str, Any]], target: Target) -> TaskResult:
        prompts = [_prompt(task, it, _where(task, i, it)) for i, it in enumerate(items)]
        refs = [fill(task.target, it, "") for it in items]
        preds = target.generate(prompts, task.max_new_tokens, task.stop)
        rows = []
        for it, p, ref, pred in zip(items, prompts, refs, preds):
            row: dict[str, Any] = {"id": it.get("id"), "prompt": p if isinstance(p, str) else p[-1]["content"],
                                   "reference": ref, "prediction": pred}
            if "exact_match" in task.metrics:
                row["exact_match"] = exact_match(pred, ref)
            if "f1" in task.metrics:
                row["f1"] = token_f1(pred, ref)
            if "rouge_l" in task.metrics:
                row["rouge_l"] = rouge_l(pred, ref)
            rows.append(row)
        metrics: dict[str, float] = {m: _mean([r[m] for r in rows]) for m in task.metrics if m != "bleu"}
        if "bleu" in task.metrics:
            metrics["bleu"] = corpus_bleu(preds, refs)
        return TaskResult(metrics, rows)


class MultipleChoice:
    def check(self, task: Task, items: list[dict[str, Any]]) -> None:
        for i, it in enumerate(items):
            where = _where(task, i, it)
            answer_index(it, where)
            fill(task.prompt, _with_choices(it), where)

    def score(self, task: Task, items: list[dict[str, Any]], target: Target) -> TaskResult:
        pairs: list[tuple[str, str]] = []
        spans: list[tuple[int, int, list[str]]] = []
        for it in items:
            context = fill(task.prompt, _with_choices(it), "")
            conts = [f" {LETTERS[j]}" if task.choice_style == "letter" else f" {c}"
                     for j, c in enumerate(it["choices"])]
            spans.append((len(pairs), len(conts), conts))
            pairs.extend((context, c) for c in conts)
        lls = target.loglikelihood(pairs)
        rows = []
        for i, (it, (start, n, conts)) in enumerate(zip(items, spans)):
            ll = lls[start:start + n]
            gold = answer_index(it, _where(task, i, it))
            pick = max(range(n), key=lambda j: ll[j])
            pick_norm = max(range(n), key=lambda j: ll[j] / max(len(conts[j]), 1))
            rows.append({"id": it.get("id"), "question": it["question"], "answer": LETTERS[gold],
                         "pred": LETTERS[pick], "acc": float(pick == gold), "acc_norm": float(pick_norm == gold),
                         "loglikelihoods": ll})
        return TaskResult({"acc": _mean([r["acc"] for r in rows]), "acc_norm": _mean([r["acc_norm"] for r in rows])},
                          rows)


def _with_choices(item: dict[str, Any]) -> dict[str, Any]:
    """The item plus `{choices_block}` ("A. ...\\nB. ...") and one field per letter, for prompt templates."""
    choices = item.get("choices") or []
    block = "\n".join(f"{LETTERS[j]}. {c}" for j, c in enumerate(choices))
    return {**{LETTERS[j]: c for j, c in enumerate(choices)}, **item, "choices_block": block}


class Perplexity:
    def check(self, task: Task, items: list[dict[str, Any]]) -> None:
        for i, it in enumerate(items):
            if not isinstance(it.get(task.text_field), str):
                raise UsageError(f"{_where(task, i, it)}: no text field '{task.text_field}'",
                                 f"set `text_field:` to one of: {', '.join(sorted(it))}")

    def score(self, task: Task, items: list[dict[str, Any]], target: Target) -> TaskResult:
        texts = [it[task.text_field] for it in items if it[task.text_field].strip()]
        scored = target.token_nll(texts, task.max_length)
        nll = sum(s for s, _ in scored)
        n_tokens = sum(n for _, n in scored)
        if n_tokens == 0:
            raise UsageError(f"task {task.task}: no tokens to score", "give texts that are not empty")
        n_bytes = sum(len(t.encode("utf-8")) for t in texts)
        rows = [{"text": t[:200], "nll": s, "tokens": n} for t, (s, n) in zip(texts, scored)]
        return TaskResult({"perplexity": math.exp(nll / n_tokens), "nll": nll / n_tokens,
                           "bits_per_byte": nll / n_bytes / math.log(2), "tokens": float(n_tokens)}, rows)


class Judge:
    def check(self, task: Task, items: list[dict[str, Any]]) -> None:
        Generate().check(task, items)

    def score(self, task: Task, items: list[dict[str, Any]], target: Target) -> TaskResult:
        assert task.judge is not None  # load_task refuses a judge task without one
        answered = Generate().score(task.model_copy(update={"metrics": []}), items, target)
        triples = [(fill(task.prompt, it, ""), r["reference"], r["prediction"])
                   for it, r in zip(items, answered.items)]
        verdicts = grade(task.judge, triples)
        for r, v in zip(answered.items, verdicts):
            r["judge_score"] = v.score
            r["judge"] = v.explanation
        return TaskResult({"judge_score": _mean([v.normalized for v in verdicts]),
                           "judge_raw": _mean([v.score for v in verdicts])}, answered.items)


KINDS: Registry[type[Kind]] = Registry("evaluation task kind", {
    "generate": Generate, "multiple_choice": MultipleChoice, "perplexity": Perplexity, "judge": Judge,
})
