from luban.evaluate.metrics import exact_match, normalize, rouge_l


def test_exact_match_ignores_case_space_punctuation():
    assert exact_match("  The X100, 2 years. ", "the x100 2 years") == 1.0
    assert exact_match("3 years", "2 years") == 0.0
    assert exact_match("", "") == 0.0


def test_rouge_l_counts_chinese_characters():
    ref = "X100扫地机器人的保修期为2年。"
    assert rouge_l(ref, ref) == 1.0
    partial = rouge_l("X100扫地机器人的保修期为3年。", ref)
    assert 0.8 < partial < 1.0
    assert rouge_l("完全不同的回答", ref) < 0.2
    assert normalize("保修期：2年！") == "保修期2年"


def test_rouge_l_english():
    assert rouge_l("The warranty is 2 years", "The X100 warranty is 2 years") > 0.8
