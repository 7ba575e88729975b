"""Token limit: refuse (or cut) a text longer than `max_tokens`.

Without a tokenizer the count is an estimate that errs high for Chinese: one token per CJK character
(BPE vocabularies of Qwen/Llama give 0.6-1.5 per character) and one per four other characters. Give
`tokenizer` (a `tokenizer.json` path) to count exactly with the serving model's own tokenizer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from luban.guard.normalize import Text
from luban.guard.scanners.base import Scanner, ScannerConfig
from luban.guard.verdict import Finding

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def estimate_tokens(text: str) -> int:
    cjk = len(_CJK.findall(text)) if not text.isascii() else 0
    return cjk + (len(text) - cjk + 3) // 4


class TokenLimitConfig(ScannerConfig):
    max_tokens: int = 8192
    tokenizer: str | None = None


class TokenLimit(Scanner):
    name = "token_limit"
    Config: ClassVar[type[ScannerConfig]] = TokenLimitConfig

    def __init__(self, config: ScannerConfig, base_dir: Path | None = None) -> None:
        super().__init__(config, base_dir)
        assert isinstance(config, TokenLimitConfig)
        self.max_tokens = config.max_tokens
        self.tokenizer: Any = None
        if config.tokenizer:
            from tokenizers import Tokenizer

            path = Path(config.tokenizer)
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            self.tokenizer = Tokenizer.from_file(str(path))

    def count(self, text: str) -> tuple[int, int]:
        """(tokens, the character offset where the limit is passed, or len(text))."""
        if self.tokenizer is not None:
            enc = self.tokenizer.encode(text, add_special_tokens=False)
            n = len(enc.ids)
            cut = enc.offsets[self.max_tokens][0] if n > self.max_tokens else len(text)
            return n, cut
        if len(text) <= self.max_tokens:  # at least one character per token: cannot be over
            return estimate_tokens(text), len(text)
        n = estimate_tokens(text)
        if n <= self.max_tokens:
            return n, len(text)
        lo, hi = 0, len(text)  # the longest prefix within the limit
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if estimate_tokens(text[:mid]) <= self.max_tokens:
                lo = mid
            else:
                hi = mid - 1
        return n, lo

    def scan(self, text: Text) -> list[Finding]:
        n, cut = self.count(text.raw)
        if n <= self.max_tokens:
            return []
        return [Finding("token_limit", cut, len(text.raw), reason=f"{n} tokens > limit {self.max_tokens}",
                        replacement="")]
