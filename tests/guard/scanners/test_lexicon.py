"""Lexicon scanner: bilingual starter lexicons, word boundaries for English, risk floor, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from luban.core.errors import ConfigError, NotFoundError
from luban.data.ops.safety import Safety
from luban.guard.scanners.lexicon import LexiconScanner


def test_starter_lexicons_find_both_languages() -> None:
    s = LexiconScanner()
    hits = s.scan("他在网络赌博网站上输了钱, then asked how to BUILD A BOMB.")
    assert {(h.term, h.category, h.risk) for h in hits} >= {("网络赌博", "gambling", "high"),
                                                            ("build a bomb", "violence", "high")}
    assert s.scan("The classic porn-free family film") != [] and s.scan("pornography") == []


def test_risk_floor_and_custom_lexicon(tmp_path: Path) -> None:
    lex = tmp_path / "acme.tsv"
    lex.write_text("# company terms\n竞品内部价\tconfidential\thigh\nrumour\tmisinformation\tlow\n")
    s = LexiconScanner([str(lex)], min_risk="medium")
    assert [h.category for h in s.scan("竞品内部价 is a rumour")] == ["confidential"]
    bad = tmp_path / "bad.tsv"
    bad.write_text("term-without-columns\n")
    with pytest.raises(ConfigError, match="bad.tsv:1"):
        LexiconScanner([str(bad)])
    with pytest.raises(NotFoundError):
        LexiconScanner(["nope"])


def test_safety_operator_drop_flag_mask() -> None:
    recs = [{"text": "正常的产品介绍。"}, {"text": "加入我们的网络赌博群"}]
    op = Safety(action="drop")
    kept, rejected = op.process([dict(r) for r in recs])
    assert len(kept) == 1 and rejected[0]["reason"] == "unsafe: gambling"
    kept, _ = Safety(action="mask").process([dict(r) for r in recs])
    assert kept[1]["text"] == "加入我们的****群" and kept[1]["safety"] == "gambling"
