"""LLM-as-judge: another model grades each answer through any OpenAI-compatible endpoint.

Design choices:
- The default prompt (MT-Bench's single-answer grading, with a reference answer, in Chinese and English)
  asks for a verdict in a fixed form, `[[score]]`; `parse_score` also reads `Score: 8`, `评分：8`, `8/10`
  and JSON `{"score": 8}`, and refuses anything else: a verdict we cannot read is an error with the
  judge's words, never a silent zero.
- A judge that is down, refuses the key or answers out of range fails the run with one line: a quality
  gate must not pass or fail on a grader that did not grade.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass

from luban.core.errors import UsageError
from luban.evaluate.tasks import JudgeSpec

DEFAULT_TEMPLATE = """Please act as an impartial judge and evaluate the quality of the response provided by an AI \
assistant to the user question below, against the reference answer. Be as objective as possible; judge \
correctness first, then helpfulness. Answer in the question's language is expected.
请作为公正的评审，对照参考答案评价下面 AI 助手对用户问题的回答，首先看是否正确，其次看是否有帮助。

[Question / 问题]
{question}

[Reference answer / 参考答案]
{reference}

[Assistant's answer / 助手的回答]
{answer}

Give a short explanation, then your verdict on a scale of 1 to {scale} strictly in this format: [[score]], \
for example [[{example}]]. 先简要说明理由，再严格按 [[分数]] 的格式给出 1 到 {scale} 的评分。"""

_PATTERNS = [
    re.compile(r"\[\[\s*(\d+(?:\.\d+)?)\s*\]\]"),
    re.compile(r"(?:score|rating|评分|分数|得分)\s*[:：是为]?\s*(\d+(?:\.\d+)?)", re.IGNORECASE),
    re.compile(r"(\d+(?:\.\d+)?)\s*/\s*\d+"),
]


@dataclass(frozen=True)
class Verdict:
    score: float  # on the judge's scale, 1..scale
    normalized: float  # score / scale, 0..1
    explanation: str


class JudgeError(UsageError):
    """The judge could not be reached or its verdict could not be read."""


def judge_prompt(spec: JudgeSpec, question: str, reference: str, answer: str) -> str:
    template = spec.template or DEFAULT_TEMPLATE
    try:
        return template.format(question=question, reference=reference, answer=answer, scale=spec.scale,
                               example=max(1, spec.scale * 7 // 10))
    except (KeyError, IndexError, ValueError) as e:
        raise UsageError(f"judge template: cannot fill it ({e!r})",
                         "use only {question} {reference} {answer} {scale} {example}; double other braces") from None


def parse_score(text: str, scale: int) -> float:
    """The score in a judge's reply; a reply without one, or with one outside 1..scale, is a JudgeError."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped).get("score")
            if isinstance(value, int | float) and not isinstance(value, bool):
                return _in_range(float(value), scale, text)
        except (json.JSONDecodeError, AttributeError):
            pass
    for pattern in _PATTERNS:
        found = pattern.findall(stripped)
        if found:
            return _in_range(float(found[-1]), scale, text)  # the verdict comes last, after the reasoning
    raise JudgeError(f"the judge's answer holds no score: {_short(text)!r}",
                     "use a stronger judge model or a template that asks for [[score]]")


def _in_range(score: float, scale: int, text: str) -> float:
    if not 1 <= score <= scale:
        raise JudgeError(f"the judge gave {score:g}, outside 1..{scale}: {_short(text)!r}",
                         f"set `judge.scale` to the judge's scale, or ask for 1-{scale} in the template")
    return score


def _short(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def grade(spec: JudgeSpec, items: list[tuple[str, str, str]], concurrency: int = 8) -> list[Verdict]:
    """Grade (question, reference, answer) triples with the judge at `spec.url`."""
    import openai

    key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
    if spec.api_key_env and not key:
        raise UsageError(f"environment variable {spec.api_key_env} is not set", "export the judge's API key")

    async def main() -> list[Verdict]:
        client = openai.AsyncOpenAI(base_url=spec.url, api_key=key or os.environ.get("OPENAI_API_KEY") or "none",
                                    max_retries=1, timeout=spec.timeout)
        sem = asyncio.Semaphore(concurrency)

        async def one(q: str, ref: str, ans: str) -> Verdict:
            async with sem:
                try:
                    res = await client.chat.completions.create(
                        model=spec.model, temperature=0, max_tokens=spec.max_tokens,
                        messages=[{"role": "user", "content": judge_prompt(spec, q, ref, ans)}])
                except openai.APIConnectionError:
                    raise JudgeError(f"the judge at {spec.url} is not reachable",
                                     "start it or fix `judge.url`") from None
                except openai.APIStatusError as err:
                    raise JudgeError(f"the judge at {spec.url} answered {err.status_code}: {err.message}",
                                     "check `judge.model` and its API key") from None
            text = res.choices[0].message.content or "" if res.choices else ""
            score = parse_score(text, spec.scale)
            return Verdict(score=score, normalized=score / spec.scale, explanation=text)

        try:
            return list(await asyncio.gather(*(one(*it) for it in items)))
        finally:
            await client.close()

    return asyncio.run(main())
