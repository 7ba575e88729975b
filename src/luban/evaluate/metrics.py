"""Answer metrics: exact match and ROUGE-L that treats Chinese sensibly.

rouge_score's default tokenizer keeps only [a-z0-9] and so scores every Chinese answer 0. We give it
a tokenizer that splits CJK text into characters (the usual practice for Chinese ROUGE, e.g. in the
CLUE and LCSTS evaluations) and Latin text into lower-cased words.
"""

from __future__ import annotations

import re
import unicodedata

from rouge_score import rouge_scorer

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[a-z0-9]+(?:\.[0-9]+)?", re.IGNORECASE)
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


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
