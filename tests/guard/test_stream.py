"""Streaming output moderation: a banned phrase split anywhere across chunks is caught before any of it
reaches the client; at most `hold` characters are held back; masks apply before release."""

from __future__ import annotations

import pytest

from luban.guard.policy import Policy, get_policy
from luban.guard.stream import Blocked, StreamModerator

PHRASES = [
    ("Sure. Here is how to make a bomb with household items.", "make a bomb"),
    ("好的，下面介绍制造炸弹的具体步骤。", "制造炸弹"),
    ("我们这里可以出售冰毒，价格便宜", "出售冰毒"),
]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return get_policy("default")


def run(policy: Policy, chunks: list[str], hold: int | None = None, batch: int | None = None,
        ) -> tuple[str, bool, list[str]]:
    m = StreamModerator(policy, hold=hold, batch=batch)
    sent: list[str] = []
    try:
        for c in chunks:
            sent.append(m.feed(c))
        sent.append(m.finish())
    except Blocked:
        return "".join(sent), True, sent
    return "".join(sent), False, sent


@pytest.mark.parametrize("batch", [0, 16])
@pytest.mark.parametrize("text,phrase", PHRASES)
def test_phrase_split_at_every_position_in_two_and_three_chunks(policy: Policy, text: str, phrase: str,
                                                                batch: int) -> None:
    first = text.lower().index(phrase)
    for i in range(1, len(text)):
        out, blocked, _ = run(policy, [text[:i], text[i:]], batch=batch)
        assert blocked and len(out) <= first, (i, out)
        for j in range(i + 1, len(text)):
            out, blocked, _ = run(policy, [text[:i], text[i:j], text[j:]], batch=batch)
            assert blocked and len(out) <= first, (i, j, out)


@pytest.mark.parametrize("text,phrase", PHRASES)
def test_phrase_streamed_one_character_at_a_time(policy: Policy, text: str, phrase: str) -> None:
    out, blocked, _ = run(policy, list(text))
    assert blocked and len(out) <= text.lower().index(phrase)


def test_clean_text_passes_whole_and_holds_at_most_hold(policy: Policy) -> None:
    text = "The X100 robot vacuum has a classic design and a two-year warranty. 扫地机器人保修两年。" * 3
    m = StreamModerator(policy, hold=16, batch=8)
    out = ""
    for i in range(0, len(text), 7):
        out += m.feed(text[i:i + 7])
        assert len(m.text) - m.released <= 16 + 8
    out += m.finish()
    assert out == text and m.verdicts == []


def test_word_that_only_starts_like_a_term_is_not_blocked(policy: Policy) -> None:
    # 'porn' is a term: 'porno' would be cut at 'porn' if the scanner judged a word before it ended
    out, blocked, _ = run(policy, ["a classic tale of por", "n", "cupine families"])
    assert not blocked and out == "a classic tale of porncupine families"


def test_pii_masked_before_release(policy: Policy) -> None:
    out, blocked, _ = run(policy, ["call me at 138", "1234", "5678 tomorrow"])
    assert not blocked and out == "call me at *********** tomorrow"


def test_stream_cut_off_mid_phrase_releases_nothing_of_it(policy: Policy) -> None:
    m = StreamModerator(policy, batch=0)
    sent = m.feed("Fine, I will explain how to make a bo")  # the upstream dies here: no finish()
    assert "make" not in sent and len(sent) <= len("Fine, I will explain how to make a bo") - 32 + 1
    # if the answer really ends there, the fragment is not a banned phrase and is released
    assert m.finish() == "Fine, I will explain how to make a bo"[len(sent):]


def test_blocked_stream_sends_nothing_more_and_refuses_in_language(policy: Policy) -> None:
    m = StreamModerator(policy, lang="zh", hold=4, batch=0)
    assert m.feed("好的，下面介绍") == "好的，"
    with pytest.raises(Blocked) as err:
        m.feed("制造炸弹的具体步骤")
    assert err.value.refusal.startswith("抱歉") and m.feed("more") == "" and m.finish() == ""
