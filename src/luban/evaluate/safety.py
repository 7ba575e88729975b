"""The safety suite: refusal on must-refuse prompts and over-refusal on must-answer prompts (TC260-003 8.3/9.4).

Scores either a served endpoint (any OpenAI-compatible URL: Luban's gateway with its guard policy, vLLM,
a commercial API) or a model artifact answered locally, optionally behind a guard policy applied in the same
order as the gateway (input scan, answer, output scan). Rates per bank, language and risk category.

The banks are the guard's (`must_refuse`, `must_answer`: >= 500 each, Appendix A categories) or any
JSON-lines file with `text`, `lang` and `code`/`category` fields. Whether an answer refused is
`luban.evaluate.refusal.is_refusal`.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import luban.guard
from luban.core.errors import UsageError
from luban.evaluate.refusal import is_refusal

BANK_DIR = Path(luban.guard.__file__).resolve().parent / "banks"
BANKS = ("must_refuse", "must_answer")


@dataclass(frozen=True)
class BankItem:
    id: str
    bank: str
    lang: str
    code: str
    text: str


@dataclass
class Outcome:
    id: str
    bank: str
    lang: str
    code: str
    refused: bool
    answer: str
    finish_reason: str | None = None


def load_bank(name: str | Path, bank: str | None = None, limit: int | None = None) -> list[BankItem]:
    """A bank by name ("must_refuse", "must_answer") or path; each line needs `text`; a bad line is an error."""
    path = BANK_DIR / f"{name}.jsonl" if str(name) in BANKS else Path(name)
    if not path.is_file():
        raise UsageError(f"no test bank {name}", f"use {' or '.join(BANKS)}, or the path of a JSON-lines file")
    label = bank or (str(name) if str(name) in BANKS else path.stem)
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = row["text"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise UsageError(f"{path}:{n}: not a JSON object with a 'text' field", "fix or remove that line") from None
        items.append(BankItem(id=str(row.get("id", f"{label}-{n}")), bank=label, lang=row.get("lang", "en"),
                              code=row.get("code") or row.get("category") or "?", text=text))
    return items[:limit] if limit else items


def balanced(items: list[BankItem], limit: int | None) -> list[BankItem]:
    """At most `limit` items, spread evenly over (language, category) so a sample keeps every risk."""
    if not limit or limit >= len(items):
        return items
    groups: dict[tuple[str, str], list[BankItem]] = {}
    for it in items:
        groups.setdefault((it.lang, it.code), []).append(it)
    out: list[BankItem] = []
    while len(out) < limit:
        for g in groups.values():
            if g and len(out) < limit:
                out.append(g.pop(0))
    return out


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    """Refusal rate of must-refuse and over-refusal of must-answer, overall, per language and per category."""

    def rate(rows: list[Outcome]) -> dict[str, Any]:
        return {"n": len(rows), "refused": sum(o.refused for o in rows),
                "rate": sum(o.refused for o in rows) / len(rows) if rows else None}

    out: dict[str, Any] = {}
    for bank in sorted({o.bank for o in outcomes}):
        rows = [o for o in outcomes if o.bank == bank]
        out[bank] = {**rate(rows),
                     "by_language": {lang: rate([o for o in rows if o.lang == lang])
                                     for lang in sorted({o.lang for o in rows})},
                     "by_category": {code: rate([o for o in rows if o.code == code])
                                     for code in sorted({o.code for o in rows})}}
    metrics: dict[str, Any] = {}
    if "must_refuse" in out:
        metrics["refusal"] = out["must_refuse"]["rate"]
    if "must_answer" in out:
        metrics["over_refusal"] = out["must_answer"]["rate"]
    return {"metrics": metrics, "banks": out}


async def score_endpoint(items: list[BankItem], base_url: str, model: str, api_key: str | None = None,
                         concurrency: int = 8, max_tokens: int = 64, timeout: float = 60.0,
                         on_done: Callable[[int], None] | None = None) -> list[Outcome]:
    """Ask every item at `base_url` (OpenAI-compatible) and decide refusal; an HTTP refusal (400 content
    filter) counts as refused, any other error fails the run with one line."""
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key or os.environ.get("OPENAI_API_KEY") or "none",
                                max_retries=2, timeout=timeout)
    sem = asyncio.Semaphore(concurrency)

    async def one(it: BankItem) -> Outcome:
        async with sem:
            try:
                res = await client.chat.completions.create(
                    model=model, messages=[{"role": "user", "content": it.text}], max_tokens=max_tokens,
                    temperature=0)
            except openai.BadRequestError as err:  # a guard that refuses the request itself
                if err.code in ("content_filter", "content_policy_violation") or "content_filter" in str(err.body):
                    return Outcome(it.id, it.bank, it.lang, it.code, True, str(err), "content_filter")
                raise UsageError(f"{base_url}: {err}", "check the model name and the endpoint") from None
            except openai.APIError as err:
                raise UsageError(f"{base_url} failed on item {it.id}: {err}",
                                 "check that the endpoint is up and the key is valid") from None
        choice = res.choices[0]
        text = choice.message.content or ""
        if on_done:
            on_done(1)
        return Outcome(it.id, it.bank, it.lang, it.code, is_refusal(text, choice.finish_reason), text,
                       choice.finish_reason)

    try:
        return list(await asyncio.gather(*(one(it) for it in items)))
    finally:
        await client.close()


def score_answers(items: list[BankItem], answer: Callable[[list[str]], list[str]],
                  policy: Any | None = None) -> list[Outcome]:
    """Score a local model (`answer`: prompts -> answers), behind `policy` (a luban.guard Policy) when given:
    a blocked prompt or answer is a refusal, as the gateway would send it."""
    outcomes: dict[int, Outcome] = {}
    to_ask: list[int] = []
    for i, it in enumerate(items):
        if policy is not None and policy.scan(it.text, stage="input").blocked:
            outcomes[i] = Outcome(it.id, it.bank, it.lang, it.code, True, "", "content_filter")
        else:
            to_ask.append(i)
    answers = answer([items[i].text for i in to_ask]) if to_ask else []
    for i, text in zip(to_ask, answers):
        it = items[i]
        if policy is not None and policy.scan(text, stage="output").blocked:
            outcomes[i] = Outcome(it.id, it.bank, it.lang, it.code, True, text, "content_filter")
        else:
            outcomes[i] = Outcome(it.id, it.bank, it.lang, it.code, is_refusal(text), text, "stop")
    return [outcomes[i] for i in range(len(items))]


def outcome_rows(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [asdict(o) for o in outcomes]
