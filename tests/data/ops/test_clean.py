"""Cleaning mappers: each fixes what it names and counts what it changed."""

from __future__ import annotations

from luban.data.ops.clean.chinese import OpenCC
from luban.data.ops.clean.html import StripHTML
from luban.data.ops.clean.links import NormalizeLinks
from luban.data.ops.clean.mojibake import FixMojibake
from luban.data.ops.clean.unicode import NFKC, Whitespace


def test_nfkc_folds_width_but_keeps_chinese_punctuation() -> None:
    op = NFKC()
    assert op.map("ＡＢＣ１２３，ﬁne！") == "ABC123，fine！"
    assert NFKC(keep_fullwidth_punctuation=False).map("你好，世界！") == "你好,世界!"


def test_whitespace_and_control_characters() -> None:
    op = Whitespace()
    assert op.map("a\u200b b\x07\r\n\r\n\r\n\u3000c  d \t") == "a b\n\nc d"


def test_mojibake_is_repaired_and_counted() -> None:
    op = FixMojibake()
    broken = "文字 café".encode().decode("latin-1")
    kept, rejected = op.process([{"text": broken}, {"text": "plain ascii"}])
    assert kept[0]["text"] == "文字 café" and not rejected
    assert (op.stats.seen, op.stats.modified) == (2, 1)


def test_strip_html_and_boilerplate_lines() -> None:
    op = StripHTML()
    assert op.map("<div><p>Hello <b>world</b></p><script>x()</script></div>") == "Hello world"
    assert op.map("Real content here.\nAll rights reserved.\n版权所有 © 艾可") == "Real content here."


def test_opencc_traditional_to_simplified() -> None:
    assert OpenCC("t2s").map("機器人的電池續航時間") == "机器人的电池续航时间"
    assert OpenCC("s2t").map("机器人") == "機器人"


def test_links_are_normalized() -> None:
    op = NormalizeLinks()
    text = "See HTTPS://WWW.Acme.COM:443/a?utm_source=x&id=3, mail Li.Lei@Example.COM."
    assert op.map(text) == "See https://www.acme.com/a?id=3, mail li.lei@example.com."
    assert NormalizeLinks(mode="tag").map("go to http://x.org/p now") == "go to [URL] now"
