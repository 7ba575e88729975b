"""The conversation rules: each bad shape the issue names is rejected with its own code."""

from __future__ import annotations

import pytest

from luban.data.formats.validate import Rejected, validate_messages


def msgs(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": r, "content": c} for r, c in pairs]


def test_good_conversation_passes_and_is_cleaned() -> None:
    turns = [{"role": "system", "content": "be brief", "name": "x"}, {"role": "user", "content": "hi"},
             {"role": "assistant", "content": "hello"}]
    assert validate_messages(turns) == msgs(("system", "be brief"), ("user", "hi"), ("assistant", "hello"))


def test_tool_turns_follow_an_assistant_turn() -> None:
    ok = msgs(("user", "weather?"), ("assistant", "calling"), ("tool", "sunny"), ("assistant", "sunny"))
    assert len(validate_messages(ok)) == 4


@pytest.mark.parametrize(("turns", "code", "where"), [
    (msgs(("user", "a"), ("user", "b"), ("assistant", "c")), "role_order", "turn 1"),
    (msgs(("assistant", "a")), "role_order", "turn 0"),
    (msgs(("user", "a"), ("system", "s"), ("assistant", "c")), "role_order", "system"),
    (msgs(("user", "a"), ("tool", "t")), "role_order", "turn 1"),
    (msgs(("user", "a"), ("assistant", "  ")), "empty_turn", "turn 1"),
    (msgs(("user", "a"), ("bot", "b")), "unknown_role", "'bot'"),
    (msgs(("user", "a")), "no_answer", "'user'"),
    (msgs(("system", "s")), "role_order", "no user"),
    ([], "missing_field", "messages"),
    ([{"role": "user"}], "missing_field", "turn 0"),
    ([{"role": "user", "content": 3}], "bad_type", "turn 0"),
    (["hi"], "bad_type", "turn 0"),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "", "tool_calls": [{}]}],
     "unsupported", "tool_calls"),
])
def test_bad_conversations_are_rejected_with_code_and_place(turns: list, code: str, where: str) -> None:
    with pytest.raises(Rejected) as e:
        validate_messages(turns)
    assert e.value.code == code
    assert where in e.value.detail


def test_a_prompt_must_end_with_user() -> None:
    assert validate_messages(msgs(("user", "q")), need_answer=False)
    with pytest.raises(Rejected, match="must end with a 'user'"):
        validate_messages(msgs(("user", "q"), ("assistant", "a")), need_answer=False)
