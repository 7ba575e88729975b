"""Validation of chat conversations: the rules that every schema is checked against.

Every record is turned into OpenAI-style `messages` before it is checked, so the rules live in one
place whatever the source schema was. A record that breaks a rule raises `Rejected` with a short
code (counted in the stats) and a detail naming the turn, and ends up in the `rejected` split.

Rules (the ones chat templates and SFT/DPO trainers rely on):
- roles are system / user / assistant / tool; a system turn only comes first;
- after the optional system turn, user and assistant alternate starting with user; tool turns
  may only follow an assistant turn or another tool turn;
- the conversation ends with an assistant turn (there must be something to learn), unless the
  caller asks for a prompt only (`need_answer=False`, for preference prompts);
- no turn is empty or whitespace only, every content is a string.
"""

from __future__ import annotations

from typing import Any

ROLES = ("system", "user", "assistant", "tool")


class Rejected(Exception):
    """A record that does not fit; `code` is counted in stats, `detail` names the place."""

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}")


def check_text(value: Any, what: str) -> str:
    """A non-empty string, or Rejected(missing_field / empty_turn / bad_type)."""
    if value is None:
        raise Rejected("missing_field", f"'{what}' is missing")
    if not isinstance(value, str):
        raise Rejected("bad_type", f"'{what}' must be a string, got {type(value).__name__}")
    if not value.strip():
        raise Rejected("empty_turn", f"'{what}' is empty")
    return value


def validate_messages(messages: Any, need_answer: bool = True) -> list[dict[str, str]]:
    """Check `messages` against the rules above; returns clean `{role, content}` dicts."""
    if not isinstance(messages, list) or not messages:
        raise Rejected("missing_field", "'messages' must be a non-empty list of turns")
    out: list[dict[str, str]] = []
    for i, turn in enumerate(messages):
        if not isinstance(turn, dict):
            raise Rejected("bad_type", f"turn {i} is a {type(turn).__name__}, not an object")
        role = turn.get("role")
        if role not in ROLES:
            raise Rejected("unknown_role", f"turn {i} has role {role!r}; use one of {', '.join(ROLES)}")
        if turn.get("tool_calls"):
            # Kept out rather than flattened: a tool call squeezed into text would teach the wrong format.
            raise Rejected("unsupported", f"turn {i} has tool_calls, which Luban's chat schema does not carry yet")
        content = check_text(turn.get("content"), f"turn {i} ({role}) content")
        out.append({"role": role, "content": content})
    _check_order(out, need_answer)
    return out


# Which role may follow which: the order every chat template and trainer assumes.
_NEXT: dict[str | None, tuple[str, ...]] = {
    None: ("user",),
    "user": ("assistant",),
    "assistant": ("user", "tool"),
    "tool": ("tool", "assistant"),
}


def _check_order(turns: list[dict[str, str]], need_answer: bool) -> None:
    start = 1 if turns[0]["role"] == "system" else 0
    if start == len(turns):
        raise Rejected("role_order", "only a system turn, no user turn")
    prev: str | None = None
    for i in range(start, len(turns)):
        role = turns[i]["role"]
        if role == "system":
            raise Rejected("role_order", f"turn {i} is a system turn; system may only come first")
        if role not in _NEXT[prev]:
            raise Rejected("role_order", f"turn {i} is '{role}' after '{prev or 'the start'}'; "
                                         f"expected {' or '.join(_NEXT[prev])}")
        prev = role
    if need_answer and prev != "assistant":
        raise Rejected("no_answer", f"the last turn is '{prev}'; a conversation must end with 'assistant'")
    if not need_answer and prev != "user":
        raise Rejected("role_order", f"a prompt must end with a 'user' turn, not '{prev}'")
