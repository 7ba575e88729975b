"""Target schemas: write an `Example` as one row of a dataset, with a fixed Arrow schema per target.

Targets and their columns (every split also has `source`, "path:line" of the record it came from):
- chat:            messages: list<{role, content}>              (OpenAI; what train.sft reads)
- sharegpt:        conversations: list<{from, value}>           (human / gpt / system / observation)
- alpaca:          instruction, input, output, system: str; history: list<[user, assistant]>
- preference:      prompt, chosen, rejected, system: str        (TRL "standard" preference format;
                   single-turn prompts only — the prompt is the user's text, `system` may be "")
- preference_chat: prompt: messages; chosen, rejected: [assistant message]  (TRL "conversational")
- text:            text: str                                    (pretraining text)

A record that cannot be written in the target (a plain text to chat, a chat without a pair to
preference) raises `Rejected`, so the conversion never invents or drops content silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from luban.data.formats.schemas import Example
from luban.data.formats.validate import Rejected

MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
SHAREGPT_NAMES = {"user": "human", "assistant": "gpt", "system": "system", "tool": "observation"}

TARGET_SCHEMAS: dict[str, pa.Schema] = {
    "chat": pa.schema([("messages", MESSAGES)]),
    "sharegpt": pa.schema([("conversations", pa.list_(pa.struct([("from", pa.string()), ("value", pa.string())])))]),
    "alpaca": pa.schema([("instruction", pa.string()), ("input", pa.string()), ("output", pa.string()),
                         ("system", pa.string()), ("history", pa.list_(pa.list_(pa.string())))]),
    "preference": pa.schema([("prompt", pa.string()), ("chosen", pa.string()), ("rejected", pa.string()),
                             ("system", pa.string())]),
    "preference_chat": pa.schema([("prompt", MESSAGES), ("chosen", MESSAGES), ("rejected", MESSAGES)]),
    "text": pa.schema([("text", pa.string())]),
}
REJECTED_SCHEMA = pa.schema([("source", pa.string()), ("reason", pa.string()), ("record", pa.string())])


def _conversation(ex: Example) -> list[dict[str, str]]:
    """The whole conversation: the messages, plus the chosen answer for a pair."""
    if ex.text is not None:
        raise Rejected("no_conversation", "a plain text record has no turns to make a conversation of")
    if ex.is_pair:
        return [*ex.messages, {"role": "assistant", "content": ex.chosen or ""}]
    return ex.messages


def to_chat(ex: Example) -> dict[str, Any]:
    return {"messages": _conversation(ex)}


def to_sharegpt(ex: Example) -> dict[str, Any]:
    return {"conversations": [{"from": SHAREGPT_NAMES[m["role"]], "value": m["content"]} for m in _conversation(ex)]}


def to_alpaca(ex: Example) -> dict[str, Any]:
    turns = _conversation(ex)
    system = turns[0]["content"] if turns[0]["role"] == "system" else ""
    body = turns[1:] if system else turns
    if any(m["role"] == "tool" for m in body):
        raise Rejected("unsupported", "alpaca has no place for tool turns")
    pairs = [[body[i]["content"], body[i + 1]["content"]] for i in range(0, len(body) - 1, 2)]
    (instruction, output), history = pairs[-1], pairs[:-1]
    return {"instruction": instruction, "input": "", "output": output, "system": system, "history": history}


def _split_prompt(ex: Example) -> tuple[str, list[dict[str, str]]]:
    if not ex.is_pair:
        raise Rejected("not_a_pair", "the record has no chosen/rejected pair")
    msgs = ex.messages
    system = msgs[0]["content"] if msgs[0]["role"] == "system" else ""
    return system, (msgs[1:] if system else msgs)


def to_preference(ex: Example) -> dict[str, Any]:
    system, body = _split_prompt(ex)
    if len(body) != 1:
        raise Rejected("multi_turn_prompt", f"the prompt has {len(body)} turns; use to: preference_chat")
    return {"prompt": body[0]["content"], "chosen": ex.chosen, "rejected": ex.rejected, "system": system}


def to_preference_chat(ex: Example) -> dict[str, Any]:
    _split_prompt(ex)
    return {"prompt": ex.messages, "chosen": [{"role": "assistant", "content": ex.chosen}],
            "rejected": [{"role": "assistant", "content": ex.rejected}]}


def to_text(ex: Example) -> dict[str, Any]:
    if ex.text is not None:
        return {"text": ex.text}
    return {"text": "\n\n".join(m["content"] for m in _conversation(ex))}


WRITERS: dict[str, Callable[[Example], dict[str, Any]]] = {
    "chat": to_chat, "sharegpt": to_sharegpt, "alpaca": to_alpaca, "preference": to_preference,
    "preference_chat": to_preference_chat, "text": to_text,
}


def table(target: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows of `target` (each with `source`) as an Arrow table; empty tables keep their columns."""
    schema = TARGET_SCHEMAS[target].append(pa.field("source", pa.string()))
    return pa.Table.from_pylist(rows, schema=schema)
