"""Source schemas: read one record of a known shape into an `Example`, or raise `Rejected`.

Every schema lands in the same `Example` (OpenAI-style messages, plus chosen/rejected for
preference pairs, or plain text), so conversions between schemas are one reader and one writer
each instead of one function per pair of schemas.

Schemas read:
- chat:       {"messages": [{"role", "content"}, ...]}                     (OpenAI)
- sharegpt:   {"conversations": [{"from": "human"|"gpt"|..., "value"}], "system"?}
- alpaca:     {"instruction", "input"?, "output", "system"?, "history"?: [[user, assistant], ...]}
- preference: {"prompt": str | messages, "chosen": str | messages, "rejected": str | messages}
              (also Anthropic-HH style: chosen/rejected as full conversations sharing a prompt)
- pairwise:   {"prompt", "response_a", "response_b", "winner": "a"|"b"} or {"responses": [a, b],
              "winner": 0|1} — a preference judgement, turned into chosen/rejected
- text:       {"text": str}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from luban.data.formats.validate import Rejected, check_text, validate_messages

SOURCE_SCHEMAS = ("chat", "sharegpt", "alpaca", "preference", "pairwise", "text")

# ShareGPT speaker names as used by ShareGPT dumps, FastChat and LLaMA-Factory.
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "chatgpt": "assistant", "bard": "assistant", "bing": "assistant", "system": "system",
                  "observation": "tool", "tool": "tool"}
WINNER_KEYS = ("winner", "preference", "choice", "label")


@dataclass
class Example:
    """One record in Luban's canonical form. For pairs, `messages` is the prompt (ends with user)."""

    messages: list[dict[str, str]]
    chosen: str | None = None
    rejected: str | None = None
    text: str | None = None

    @property
    def is_pair(self) -> bool:
        return self.chosen is not None


def detect(record: dict[str, Any]) -> str | None:
    """The schema a record looks like, from its keys; None when none fits."""
    keys = set(record)
    if "messages" in keys:
        return "chat"
    if "conversations" in keys:
        return "sharegpt"
    if {"chosen", "rejected"} <= keys:
        return "preference"
    if ({"response_a", "response_b"} <= keys or "responses" in keys) and keys & set(WINNER_KEYS):
        return "pairwise"
    if {"instruction", "output"} <= keys:
        return "alpaca"
    if "text" in keys:
        return "text"
    return None


def _maybe_json(value: Any) -> Any:
    """CSV cells hold lists as JSON text; decode them, leave everything else alone."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _with_system(messages: list[Any], system: Any) -> list[Any]:
    if system is None or system == "":
        return messages
    return [{"role": "system", "content": check_text(system, "system")}, *messages]


def parse_chat(rec: dict[str, Any]) -> Example:
    return Example(validate_messages(_maybe_json(rec.get("messages"))))


def parse_sharegpt(rec: dict[str, Any]) -> Example:
    conv = _maybe_json(rec.get("conversations"))
    if not isinstance(conv, list) or not conv:
        raise Rejected("missing_field", "'conversations' must be a non-empty list of turns")
    turns: list[Any] = []
    for i, turn in enumerate(conv):
        if not isinstance(turn, dict):
            raise Rejected("bad_type", f"turn {i} is a {type(turn).__name__}, not an object")
        speaker = turn.get("from", turn.get("role"))
        if speaker == "function_call":
            raise Rejected("unsupported", f"turn {i} is a function_call, which Luban's chat schema does not carry yet")
        role = SHAREGPT_ROLES.get(str(speaker).lower()) if speaker is not None else None
        if role is None:
            raise Rejected("unknown_role", f"turn {i} is from {speaker!r}; use one of {', '.join(SHAREGPT_ROLES)}")
        turns.append({"role": role, "content": turn.get("value", turn.get("content"))})
    return Example(validate_messages(_with_system(turns, rec.get("system"))))


def parse_alpaca(rec: dict[str, Any]) -> Example:
    instruction = check_text(rec.get("instruction"), "instruction")
    extra = rec.get("input") or ""
    if not isinstance(extra, str):
        raise Rejected("bad_type", f"'input' must be a string, got {type(extra).__name__}")
    output = check_text(rec.get("output"), "output")
    turns: list[Any] = []
    for i, pair in enumerate(_maybe_json(rec.get("history")) or []):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise Rejected("bad_type", f"history item {i} must be a [user, assistant] pair")
        turns += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    user = f"{instruction}\n\n{extra}" if extra.strip() else instruction
    turns += [{"role": "user", "content": user}, {"role": "assistant", "content": output}]
    return Example(validate_messages(_with_system(turns, rec.get("system"))))


def _answer(value: Any, what: str) -> tuple[list[Any] | None, str]:
    """A response given as a string, or as messages whose last turn is the assistant's answer."""
    value = _maybe_json(value)
    if isinstance(value, list):
        if not value or not isinstance(value[-1], dict) or value[-1].get("role") != "assistant":
            raise Rejected("role_order", f"'{what}' as messages must end with an assistant turn")
        return value[:-1], check_text(value[-1].get("content"), f"{what} content")
    return None, check_text(value, what)


def _pair(rec: dict[str, Any], chosen: Any, rejected: Any) -> Example:
    ctx_c, good = _answer(chosen, "chosen")
    ctx_r, bad = _answer(rejected, "rejected")
    prompt = _maybe_json(rec.get("prompt"))
    if prompt is None or (isinstance(prompt, list) and not prompt):
        # Anthropic-HH style: the prompt is the shared history of the two full conversations.
        if not ctx_c or ctx_c != ctx_r:
            raise Rejected("missing_field", "'prompt' is missing and chosen/rejected share no history")
        prompt = ctx_c
    if isinstance(prompt, str):
        prompt = [{"role": "user", "content": prompt}]
    if good == bad:
        raise Rejected("same_response", "chosen and rejected are identical")
    return Example(validate_messages(_with_system(prompt, rec.get("system")), need_answer=False), good, bad)


def parse_preference(rec: dict[str, Any]) -> Example:
    return _pair(rec, rec.get("chosen"), rec.get("rejected"))


def parse_pairwise(rec: dict[str, Any]) -> Example:
    responses = _maybe_json(rec.get("responses"))
    a, b = (responses[0], responses[1]) if isinstance(responses, list) and len(responses) == 2 else (
        rec.get("response_a"), rec.get("response_b"))
    winner = next((rec[k] for k in WINNER_KEYS if rec.get(k) is not None), None)
    side = str(winner).strip().lower()
    if side in ("a", "response_a", "0"):
        return _pair(rec, a, b)
    if side in ("b", "response_b", "1"):
        return _pair(rec, b, a)
    raise Rejected("no_preference", f"winner is {winner!r}; expected a or b (ties and skips carry no pair)")


def parse_text(rec: dict[str, Any]) -> Example:
    return Example([], text=check_text(rec.get("text"), "text"))


PARSERS: dict[str, Callable[[dict[str, Any]], Example]] = {
    "chat": parse_chat, "sharegpt": parse_sharegpt, "alpaca": parse_alpaca,
    "preference": parse_preference, "pairwise": parse_pairwise, "text": parse_text,
}
