"""Secrets scanner: API keys, private keys, tokens and passwords in URLs.

Patterns are the providers' documented key formats (prefixes and lengths), as the common secret scanners
(detect-secrets, gitleaks) use them, plus the Chinese clouds' access-key ids (Alibaba `LTAI`, Tencent
`AKID`) and a generic `api_key = "..."` assignment with a long random-looking value.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import ClassVar

from luban.guard.normalize import Text
from luban.guard.scanners.base import Action, Scanner, ScannerConfig
from luban.guard.verdict import Finding

PATTERNS: dict[str, str] = {
    "private_key": r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    "aws_access_key": r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
    "openai_key": r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}\b",
    "anthropic_key": r"\bsk-ant-[A-Za-z0-9_\-]{20,}\b",
    "github_token": r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b",
    "gitlab_token": r"\bglpat-[A-Za-z0-9_\-]{20}\b",
    "slack_token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b",
    "google_api_key": r"\bAIza[0-9A-Za-z_\-]{35}\b",
    "stripe_key": r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}\b",
    "alibaba_access_key": r"\bLTAI[A-Za-z0-9]{12,20}\b",
    "tencent_secret_id": r"\bAKID[A-Za-z0-9]{32}\b",
    "huggingface_token": r"\bhf_[A-Za-z]{34}\b",
    "jwt": r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\b",
    "url_password": r"\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:([^\s:/@]{3,})@",
    "bearer_token": r"\bBearer\s+[A-Za-z0-9_\-.=]{20,}",
    "assigned_secret": r"(?i)\b(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|password|passwd|pwd)\b"
                       r"[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9_\-+/=.!@#$%^&*]{8,})",
}
_COMPILED = {name: re.compile(p) for name, p in PATTERNS.items()}
# Cheap pre-check: every pattern above contains one of these; text without any skips the regexes.
_CUES = re.compile(r"PRIVATE KEY|AKIA|ASIA|ABIA|ACCA|sk-|gh[pousr]_|github_pat_|glpat-|xox|AIza|_live_|_test_|LTAI|"
                   r"AKID|hf_|eyJ|://|Bearer|(?i:api.?key|secret|token|passw|pwd)")


def entropy(s: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(s)
    return -sum(n / len(s) * math.log2(n / len(s)) for n in counts.values())


class SecretsConfig(ScannerConfig):
    action: Action = "mask"
    min_entropy: float = 3.0  # for generic assignments only (`password = "..."`)


class Secrets(Scanner):
    name = "secrets"
    Config: ClassVar[type[ScannerConfig]] = SecretsConfig

    def scan(self, text: Text) -> list[Finding]:
        raw = text.raw
        if not _CUES.search(raw):
            return []
        assert isinstance(self.config, SecretsConfig)
        out = []
        for name, rx in _COMPILED.items():
            for m in rx.finditer(raw):
                start, end = (m.start(1), m.end(1)) if rx.groups else m.span()
                if name == "assigned_secret" and entropy(m.group(1)) < self.config.min_entropy:
                    continue
                out.append(Finding("secrets", start, end, reason=name, replacement="[SECRET]"))
        return out
