"""Quality filters with their published defaults, on English and on Chinese text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from luban.data.ops.quality.c4 import C4
from luban.data.ops.quality.fineweb import FineWeb
from luban.data.ops.quality.gopher import GopherQuality
from luban.data.ops.quality.language import Language
from luban.data.ops.quality.length import Length
from luban.data.ops.quality.repetition import GopherRepetition
from luban.data.ops.quality.words import words


def test_cjk_words_are_characters() -> None:
    assert words("我们的X100扫地机器人 works well") == ["我", "们", "的", "X100", "扫", "地", "机", "器", "人",
                                                  "works", "well"]
    assert "机器人" in words("我们的扫地机器人很好", segmenter="jieba")


def test_gopher_quality_on_english_and_chinese(make_docs: Callable[..., list[str]]) -> None:
    op = GopherQuality()
    zh, en = make_docs(2)
    assert op.filter({"text": en}) is True
    assert op.filter({"text": zh}) is True  # ~150 Han characters count as 150 words
    assert op.filter({"text": "too short to keep"}) == (False, "gopher_short_doc")
    assert op.filter({"text": "好" * 20}) == (False, "gopher_short_doc")
    no_stop = " ".join(["robot vacuum cleaner dock battery"] * 12)
    assert op.filter({"text": no_stop}) == (False, "gopher_few_stop_words")
    zh_no_stop = "扫地机器人电池续航时间长达两小时充电座位置固定" * 4
    assert op.filter({"text": zh_no_stop}) == (False, "gopher_few_stop_words")
    hashes = " ".join(["#tag the word"] * 30)
    assert op.filter({"text": hashes}) == (False, "gopher_hash_ratio")


def test_gopher_repetition_catches_repeated_lines_and_ngrams(make_docs: Callable[..., list[str]]) -> None:
    op = GopherRepetition()
    zh, en = make_docs(2)
    assert op.filter({"text": en}) is True and op.filter({"text": zh}) is True
    assert op.filter({"text": "\n".join(["same line here"] * 5 + ["other"])}) == (False, "dup_line_frac")
    spam_zh = "智能门锁特价批发" * 20
    assert op.filter({"text": spam_zh}) == (False, "top_2_gram")


def test_c4_drops_lines_and_pages() -> None:
    op = C4()
    page = ("This is a proper sentence about robots.\nMenu Home Shop\nWe answer every question quickly.\n"
            "Please enable javascript to continue.\nA third sentence ends here. And a fourth one! Fifth?")
    rec = {"text": page}
    assert op.filter(rec) is True
    assert "Menu Home Shop" not in rec["text"] and "javascript" not in rec["text"]
    assert op.filter({"text": "lorem ipsum dolor sit amet."}) == (False, "c4_lorem_ipsum")
    zh = "我们的产品很好用。客服回答很快！价格合理吗？当然合理。我们会继续购买。"
    assert op.filter({"text": zh}) is True


def test_fineweb_rules() -> None:
    op = FineWeb()
    assert op.filter({"text": "a list\nof short\nlines without\npunctuation"}) == (False, "fineweb_line_punct_ratio")
    good = "这是一个完整的中文句子，描述了产品的保修政策和退货流程。\n客服人员会在一个工作日内回复所有问题，请耐心等待。"
    assert op.filter({"text": good}) is True


def test_length_and_language() -> None:
    assert Length(min_chars=5).filter({"text": "abc"}) == (False, "shorter than 5 chars")
    assert Length(min_words=3).filter({"text": "你好吗"}) is True
    op = Language(allow=["zh"])
    kept, rejected = op.process([{"text": "这是一个中文句子，用来测试语言识别。"},
                                 {"text": "This is an English sentence for testing."}])
    assert [k["lang"] for k in kept] == ["zh"]
    assert rejected[0]["reason"] == "language en not in allow list"
    assert op.stats.tags == {"zh": 1, "en": 1}


def _lines(n: int, fmt: str) -> str:
    return "\n".join(fmt.format(i=i) for i in range(n))


# Each rule of each quality filter, on a document made to trip that rule and no earlier one: the verdict
# names the rule. `en` is a clean generated English document (~120 words) that passes every rule.
RULES: list[tuple[str, Callable[[], Any], Callable[[str], str]]] = [
    ("gopher_long_doc", lambda: GopherQuality(max_words=100), lambda en: en),
    ("gopher_below_avg_word_length", GopherQuality, lambda en: " ".join(["a an is to of the and be it"] * 8)),
    ("gopher_above_avg_word_length", GopherQuality,
     lambda en: " ".join(["the extraordinarily comprehensive documentation"] * 15)),
    ("gopher_ellipsis_ratio", GopherQuality,
     lambda en: " ... ".join(" ".join(en.split()[i:i + 5]) for i in range(0, 120, 5))),
    ("gopher_bullet_lines", GopherQuality, lambda en: _lines(20, "- the robot number {i} cleans the room and docks")),
    ("gopher_ellipsis_lines", GopherQuality,
     lambda en: _lines(20, "the robot number {i} cleans the room and then it…")),
    ("gopher_non_alpha_words", GopherQuality,
     lambda en: " ".join(["the 1234 5678 9012 and 3456 7890 1111 2222 3333"] * 8)),
    ("dup_para_frac", GopherRepetition, lambda en: "\n\n".join([en[:200]] * 4 + [en[200:400]])),
    ("dup_para_char_frac", GopherRepetition,  # 1 paragraph in 10 repeats (< 30%), but it is most of the text
     lambda en: "\n\n".join([en, "One end.", "Two ends.", "Three.", "Four.", "Five.", "Six.", "Seven.", "Eight.",
                              en])),
    ("dup_line_char_frac", GopherRepetition,
     lambda en: "\n".join([en, "a.", "b.", "c.", "d.", "e.", "f.", "g.", "h.", en])),
    ("duplicated_5_n_grams", GopherRepetition, lambda en: en + " " + " ".join(en.split()[:30])),
    ("c4_curly_bracket", C4, lambda en: "function() { return 1; }. A sentence. Two. Three. Four. Five."),
    ("c4_long_word", C4, lambda en: "This line has a " + "x" * 1001 + " word in it."),
    ("c4_too_few_sentences", C4, lambda en: "Only one proper sentence here."),
    ("fineweb_empty", FineWeb, lambda en: "\n  \n"),
    ("fineweb_short_line_ratio", FineWeb, lambda en: _lines(10, "Line {i} ends here.")),
    ("fineweb_char_dup_ratio", FineWeb,
     lambda en: "\n".join(["This is a long line that ends with a full stop and is repeated here."] * 2 + [en])),
    ("fineweb_list_ratio", FineWeb,
     lambda en: _lines(10, "Supercalifragilisticexpialidocious{i} extraordinarily.")),
]


@pytest.mark.parametrize(("rule", "make_op", "make_text"), RULES, ids=[r[0] for r in RULES])
def test_each_rule_says_it_fired(rule: str, make_op: Callable[[], Any], make_text: Callable[[str], str],
                                 make_docs: Callable[..., list[str]]) -> None:
    en = make_docs(2)[1]
    for op in (GopherQuality(), GopherRepetition(), C4(), FineWeb()):
        assert op.filter({"text": en}) is True, op.name
    assert make_op().filter({"text": make_text(en)}) == (False, rule)
