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


def test_token_f1_counts_chinese_characters_and_english_words():
    from luban.evaluate.metrics import token_f1

    assert token_f1("保修期是2年", "2年") == 2 * (2 / 6) * 1 / (2 / 6 + 1)  # 2 of 6 predicted tokens, both reference tokens
    assert token_f1("the warranty is 2 years", "2 years") == 2 * 0.4 * 1 / 1.4
    assert token_f1("3 years", "2 years") == 0.5
    assert token_f1("完全不同", "2年") == 0.0
    assert token_f1("", "") == 1.0


def test_bleu_uses_the_chinese_tokenizer_for_chinese_references():
    from luban.evaluate.metrics import bleu_tokenizer, corpus_bleu, sentence_bleu

    assert bleu_tokenizer(["保修期两年"]) == "zh" and bleu_tokenizer(["two years"]) == "13a"
    assert corpus_bleu(["保修期为两年，可退货"], ["保修期为两年，可退货"]) == 1.0
    # unsegmented Chinese is one "word" to 13a: a one-character change would score 0 without the zh tokenizer
    near = corpus_bleu(["X100扫地机器人的保修期为三年"], ["X100扫地机器人的保修期为两年"])
    assert 0.5 < near < 1.0
    assert 0.0 < sentence_bleu("the cat sat on the mat", "the cat sat on a mat") < 1.0
    assert corpus_bleu([], []) == 0.0
