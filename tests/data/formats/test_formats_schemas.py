"""Each source schema reads into the same canonical Example; conversions round-trip."""

from __future__ import annotations

import pytest

from luban.data.formats import convert
from luban.data.formats.schemas import PARSERS, detect
from luban.data.formats.validate import Rejected

CHAT = {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q1"},
                     {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"},
                     {"role": "assistant", "content": "A2"}]}


@pytest.mark.parametrize(("rec", "schema"), [
    (CHAT, "chat"),
    ({"conversations": [{"from": "human", "value": "q"}]}, "sharegpt"),
    ({"instruction": "i", "input": "", "output": "o"}, "alpaca"),
    ({"prompt": "p", "chosen": "c", "rejected": "r"}, "preference"),
    ({"prompt": "p", "response_a": "x", "response_b": "y", "winner": "a"}, "pairwise"),
    ({"text": "t"}, "text"),
    ({"question": "q"}, None),
])
def test_detect_by_keys(rec: dict, schema: str | None) -> None:
    assert detect(rec) == schema


def test_chat_sharegpt_alpaca_round_trip() -> None:
    ex = PARSERS["chat"](CHAT)
    share = convert.to_sharegpt(ex)
    assert [t["from"] for t in share["conversations"]] == ["system", "human", "gpt", "human", "gpt"]
    alp = convert.to_alpaca(PARSERS["sharegpt"](share))
    assert alp == {"instruction": "Q2", "input": "", "output": "A2", "system": "S", "history": [["Q1", "A1"]]}
    assert convert.to_chat(PARSERS["alpaca"](alp)) == CHAT


def test_alpaca_input_joins_the_instruction() -> None:
    ex = PARSERS["alpaca"]({"instruction": "Translate", "input": "你好", "output": "hello"})
    assert ex.messages[0] == {"role": "user", "content": "Translate\n\n你好"}


def test_sharegpt_top_level_system_and_unknown_speaker() -> None:
    ex = PARSERS["sharegpt"]({"system": "S", "conversations": [{"from": "human", "value": "q"},
                                                               {"from": "gpt", "value": "a"}]})
    assert ex.messages[0] == {"role": "system", "content": "S"}
    with pytest.raises(Rejected, match="unknown_role"):
        PARSERS["sharegpt"]({"conversations": [{"from": "robot", "value": "q"}]})


def test_preference_strings_messages_and_hh_style_agree() -> None:
    plain = PARSERS["preference"]({"prompt": "Q", "chosen": "good", "rejected": "bad"})
    as_msgs = PARSERS["preference"]({"prompt": [{"role": "user", "content": "Q"}],
                                     "chosen": [{"role": "assistant", "content": "good"}],
                                     "rejected": [{"role": "assistant", "content": "bad"}]})
    hh = PARSERS["preference"]({"chosen": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "good"}],
                                "rejected": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad"}]})
    assert plain == as_msgs == hh
    assert convert.to_preference(plain) == {"prompt": "Q", "chosen": "good", "rejected": "bad", "system": ""}
    assert convert.to_chat(plain)["messages"][-1] == {"role": "assistant", "content": "good"}


def test_pairwise_becomes_chosen_rejected() -> None:
    b_wins = PARSERS["pairwise"]({"prompt": "Q", "response_a": "x", "response_b": "y", "winner": "B"})
    assert (b_wins.chosen, b_wins.rejected) == ("y", "x")
    idx = PARSERS["pairwise"]({"prompt": "Q", "responses": ["x", "y"], "choice": 0})
    assert (idx.chosen, idx.rejected) == ("x", "y")
    with pytest.raises(Rejected, match="no_preference"):
        PARSERS["pairwise"]({"prompt": "Q", "response_a": "x", "response_b": "y", "winner": "tie"})


@pytest.mark.parametrize(("rec", "code"), [
    ({"prompt": "Q", "chosen": "same", "rejected": "same"}, "same_response"),
    ({"prompt": "Q", "chosen": "", "rejected": "r"}, "empty_turn"),
    ({"chosen": "c", "rejected": "r"}, "missing_field"),
    ({"prompt": "Q", "chosen": [{"role": "user", "content": "c"}], "rejected": "r"}, "role_order"),
])
def test_bad_preference_records(rec: dict, code: str) -> None:
    with pytest.raises(Rejected) as e:
        PARSERS["preference"](rec)
    assert e.value.code == code


def test_conversions_that_would_lose_content_are_rejected() -> None:
    with pytest.raises(Rejected, match="not_a_pair"):
        convert.to_preference(PARSERS["chat"](CHAT))
    with pytest.raises(Rejected, match="no_conversation"):
        convert.to_chat(PARSERS["text"]({"text": "plain"}))
    multi = PARSERS["preference"]({"prompt": CHAT["messages"][:4], "chosen": "c", "rejected": "r"})
    with pytest.raises(Rejected, match="multi_turn_prompt"):
        convert.to_preference(multi)
    assert convert.to_preference_chat(multi)["prompt"] == CHAT["messages"][:4]
    assert convert.to_text(PARSERS["chat"](CHAT))["text"] == "S\n\nQ1\n\nA1\n\nQ2\n\nA2"
