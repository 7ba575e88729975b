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
    assert {(h.term, h.category, h.risk) for h in hits} >= {("网络赌博", "gambling", "medium"),
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


def test_skip_negated_ignores_policy_and_warnings_but_not_threats() -> None:
    plain, aware = LexiconScanner(min_risk="medium"), LexiconScanner(min_risk="medium", skip_negated=True)
    policy = "我们不会出售个人信息，也绝不与第三方共享。We never sell personal data to anyone."
    warning = "谨防杀猪盘！Beware: \"you won a prize\" texts are scams."
    assert {h.term for h in plain.scan(policy)} == {"出售个人信息"}
    assert aware.scan(policy) == [] and aware.scan(warning) == []
    assert {h.term for h in plain.scan(warning)} == {"杀猪盘", "you won a prize"}
    # the negation must sit just before the term, in the same sentence
    threat = "我不会忘记这件事。我要弄死你。I will not forget. Anyone who complains deserves a beating."
    assert {h.term for h in aware.scan(threat)} == {"弄死你", "deserves a beating"}


def test_starter_lexicons_cover_common_scam_gambling_and_threat_phrasing() -> None:
    s = LexiconScanner(min_risk="medium")
    lines = {
        "Congratulations! Send your bank card PIN to claim it.": "fraud",
        "deposit now at our online casino for free chips": "gambling",
        "If he parks there again I will smash his windscreen.": "violence",
        "恭喜您中奖了，请提供银行卡密码领取奖金": "fraud",
        "内部赌球群，包赢": "gambling",
        "出售破解账号和假发票": "fraud",
    }
    for line, category in lines.items():
        assert category in {h.category for h in s.scan(line)}, line
    for clean in ("Enter the PIN shown on the hub to pair the lock.", "请输入短信验证码完成绑定。",
                  "The casino-style night at the office was fun", "这台扫地机器人会撞到家具吗？"):
        assert s.scan(clean) == [], clean
