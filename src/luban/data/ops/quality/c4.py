"""C4 rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning...", section 2.2), as in
datatrove's C4QualityFilter defaults. Line rules edit the document; page rules drop it:

- keep only lines ending in terminal punctuation (Chinese 。！？ and closing quotes count);
- drop lines with fewer than 3 words, lines mentioning "javascript", cookie/privacy-policy lines,
  and citation markers like [1];
- drop pages with "lorem ipsum", with a curly bracket "{" (code), with a word over 1000 characters,
  or with fewer than 5 sentences left.
"""

from __future__ import annotations

import re

from luban.data import records as R
from luban.data.ops.base import Filter, Verdict
from luban.data.ops.quality.words import words

TERMINAL = (".", "!", "?", '"', "'", "。", "！", "？", "”", "」", "』", "…")
POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
_SENTENCE_END = re.compile(r"[.!?。！？]+")


class C4(Filter):
    name = "c4"

    def __init__(self, min_words_per_line: int = 3, min_sentences: int = 5, max_word_length: int = 1000,
                 filter_no_terminal_punct: bool = True, filter_javascript: bool = True,
                 filter_policy: bool = True, filter_lorem_ipsum: bool = True,
                 filter_curly_bracket: bool = True, remove_citations: bool = True) -> None:
        super().__init__()
        self.min_words, self.min_sentences, self.max_word = min_words_per_line, min_sentences, max_word_length
        self.terminal, self.js, self.policy = filter_no_terminal_punct, filter_javascript, filter_policy
        self.lorem, self.curly, self.citations = filter_lorem_ipsum, filter_curly_bracket, remove_citations

    def filter(self, rec: R.Record) -> Verdict:
        text = rec[R.TEXT]
        low = text.lower()
        if self.lorem and "lorem ipsum" in low:
            return False, "c4_lorem_ipsum"
        if self.curly and "{" in text:
            return False, "c4_curly_bracket"
        kept = []
        for line in text.split("\n"):
            line = line.strip()
            if self.citations:
                line = _CITATION.sub("", line)
            if not line:
                continue
            lw = line.lower()
            ws = words(line)
            if any(len(w) > self.max_word for w in ws):
                return False, "c4_long_word"
            if self.terminal and not line.endswith(TERMINAL):
                continue
            if len(ws) < self.min_words:
                continue
            if self.js and "javascript" in lw:
                continue
            if self.policy and any(p in lw for p in POLICY):
                continue
            kept.append(line)
        new = "\n".join(kept)
        if len(_SENTENCE_END.findall(new)) < self.min_sentences:
            return False, "c4_too_few_sentences"
        if new != text:
            rec[R.TEXT] = new
            self.stats.modified += 1
        return True
