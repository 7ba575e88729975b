"""Preference pairs (prompt / chosen / rejected) in the conversational form TRL's trainers take.

`luban data format` writes pairs in two shapes: `preference` (prompt, chosen and rejected as strings, plus an
optional `system`) and `preference_chat` (prompt as messages, chosen / rejected as one assistant message).
Both become TRL's conversational format here, so the *model's chat template* renders prompt and answers; a
plain-string pair would otherwise be trained as raw text, without the template it will be served with.
"""

from __future__ import annotations

from typing import Any

from luban.core.artifact import Artifact
from luban.train.datasets import clean_messages, load_split


def _messages(value: Any, role: str) -> list[dict[str, str]]:
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    return clean_messages(value)


def load_pairs(art: Artifact, recipe: str, split: str = "train") -> Any:
    """The split as a `datasets.Dataset` with conversational `prompt`, `chosen`, `rejected` columns."""
    from datasets import Dataset

    ds = load_split(art, "preference", recipe, split)
    rows = []
    for row in ds:
        prompt = _messages(row["prompt"], "user")
        if row.get("system"):
            prompt = [{"role": "system", "content": str(row["system"])}, *prompt]
        rows.append({"prompt": prompt, "chosen": _messages(row["chosen"], "assistant"),
                     "rejected": _messages(row["rejected"], "assistant")})
    return Dataset.from_list(rows)


def roles_of_pairs(ds: Any) -> dict[str, list[dict[str, str]]]:
    """Each role the pairs use, with one full conversation using it (for the chat-template pre-flight)."""
    found: dict[str, list[dict[str, str]]] = {}
    for row in ds.select(range(min(len(ds), 1000))):
        convo = [*row["prompt"], *row["chosen"]]
        for m in convo:
            found.setdefault(m["role"], convo)
    return found
