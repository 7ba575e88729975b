"""Answer metrics: exact match, token F1, ROUGE-L and BLEU that treat Chinese sensibly.

rouge_score's default tokenizer keeps only [a-z0-9] and so scores every Chinese answer 0. We give it
a tokenizer that splits CJK text into characters (the usual practice for Chinese ROUGE, e.g. in the
CLUE and LCSTS evaluations) and Latin text into lower-cased words. Token F1 uses the same tokens (CMRC 2018
scores Chinese F1 by character). BLEU is sacrebleu's, with its `zh` tokenizer when the references hold Chinese.
"""

from __future__ import annotations

import re
import unicodedata

from rouge_score import rouge_scorer

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[a-z0-9]+(?:\.[0-9]+)?", re.IGNORECASE)
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class MixedTokenizer:
    def tokenize(self, text: str) -> list[str]:
        return [t.lower() for t in _TOKEN.findall(unicodedata.normalize("NFKC", text or ""))]


_scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=MixedTokenizer())


def normalize(text: str) -> str:
    """Lower-case, NFKC, no punctuation or spaces: '  The X100, 2 years. ' == 'the x100 2 years'."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text or "").lower())


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize(prediction) == normalize(reference) and normalize(reference) != "")


def rouge_l(prediction: str, reference: str) -> float:
    return float(_scorer.score(reference or "", prediction or "")["rougeL"].fmeasure)


def tokens(text: str) -> list[str]:
    """Chinese characters one by one, Latin words and numbers lower-cased (the tokenization every metric here uses)."""
    return MixedTokenizer().tokenize(text)


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD's token-overlap F1 over `tokens` (character-level for Chinese, as CMRC 2018 scores it)."""
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common: dict[str, int] = {}
    for t in ref:
        common[t] = common.get(t, 0) + 1
    overlap = 0
    for t in pred:
        if common.get(t, 0) > 0:
            overlap += 1
            common[t] -= 1
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


def has_cjk(texts: list[str]) -> bool:
    return any(_CJK.search(t or "") for t in texts)


def bleu_tokenizer(references: list[str]) -> str:
    """sacrebleu's `zh` tokenizer (CJK characters split, the rest as 13a) when any reference holds Chinese,
    else its default `13a` (WMT's tokenization)."""
    return "zh" if has_cjk(references) else "13a"


def corpus_bleu(predictions: list[str], references: list[str]) -> float:
    """Corpus BLEU (sacrebleu, 0-1 rather than 0-100) with `bleu_tokenizer`'s choice of tokenization."""
    import sacrebleu

    if not predictions:
        return 0.0
    score = sacrebleu.corpus_bleu(predictions, [references], tokenize=bleu_tokenizer(references))
    return min(1.0, float(score.score) / 100)


def sentence_bleu(prediction: str, reference: str) -> float:
    """Smoothed sentence BLEU (0-1), for per-item tables; aggregate scores use `corpus_bleu`."""
    import sacrebleu

    score = sacrebleu.sentence_bleu(prediction, [reference], tokenize=bleu_tokenizer([reference]))
    return min(1.0, float(score.score) / 100)
