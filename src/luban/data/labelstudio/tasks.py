"""Tasks in Label Studio's import JSON, and the labeling configs that go with them.

A task is `{"data": {...}}`; the keys of `data` are the `$variables` of the labeling config.
Every task also carries `luban_source` (the record's file:line) and `luban_index` in `data`, so an
annotation can be traced back to the record it judges.

Pairwise tasks show the two responses as `answer1` (left) and `answer2` (right). When the input
already has chosen/rejected, which side each goes to is decided by a seeded hash of the prompt, so
annotators cannot learn "left is always the better one" and the layout is the same on every run.
"""

from __future__ import annotations

import hashlib
from typing import Any
from xml.sax.saxutils import quoteattr

from luban.core.errors import UsageError

TASK_TYPES = ("classification", "pairwise")


def classification_config(labels: list[str]) -> str:
    """A single-choice text classification config: `<Choices name="label">` over `$text`."""
    if not labels:
        raise UsageError("text classification needs labels", "pass --labels, e.g. --labels good,bad")
    choices = "\n".join(f"    <Choice value={quoteattr(x)}/>" for x in labels)
    return ('<View>\n  <Text name="text" value="$text"/>\n'
            f'  <Choices name="label" toName="text" choice="single" showInLine="true">\n{choices}\n'
            "  </Choices>\n</View>\n")


PAIRWISE_CONFIG = """<View>
  <Header value="$prompt"/>
  <Pairwise name="preference" toName="answer1,answer2"/>
  <Text name="answer1" value="$answer1"/>
  <Text name="answer2" value="$answer2"/>
</View>
"""


def _text_of(row: dict[str, Any], field: str) -> str:
    value = row.get(field)
    if isinstance(value, list):  # a chat: show the turns as "role: content" lines
        return "\n".join(f"{m.get('role')}: {m.get('content')}" for m in value if isinstance(m, dict))
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"record {row.get('source', '?')} has no text in field '{field}'",
                         "pick the column with --text-field")
    return value


def classification_tasks(rows: list[dict[str, Any]], text_field: str = "text") -> list[dict[str, Any]]:
    return [{"data": {"text": _text_of(r, text_field), "luban_source": r.get("source") or "",
                      "luban_index": i}} for i, r in enumerate(rows)]


def _left_first(prompt: str, seed: int) -> bool:
    return hashlib.sha256(f"{seed}:{prompt}".encode()).digest()[0] % 2 == 0


def pairwise_tasks(rows: list[dict[str, Any]], seed: int = 0) -> list[dict[str, Any]]:
    """Tasks from rows with `prompt` and either `response_a`/`response_b` or `chosen`/`rejected`."""
    tasks = []
    for i, r in enumerate(rows):
        prompt = _text_of(r, "prompt")
        if "response_a" in r and "response_b" in r:
            a, b = _text_of(r, "response_a"), _text_of(r, "response_b")
        elif "chosen" in r and "rejected" in r:
            a, b = _text_of(r, "chosen"), _text_of(r, "rejected")
            if not _left_first(prompt, seed):
                a, b = b, a
        else:
            raise UsageError(f"record {r.get('source', i)} has no pair to compare",
                             "pairwise tasks need prompt with response_a/response_b or chosen/rejected")
        tasks.append({"data": {"prompt": prompt, "answer1": a, "answer2": b,
                               "luban_source": r.get("source") or "", "luban_index": i}})
    return tasks
