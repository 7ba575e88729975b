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
    "anthropic_key": r"\bsk-ant-[A-Za-z0-9_\-]{20,}\b",
    "openai_key": r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}\b",
    "github_token": r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b",
    "gitlab_token": r"\bglpat-[A-Za-z0-9_\-]{20}\b",
    "slack_token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b",
    "google_api_key": r"\bAIza[0-9A-Za-z_\-]{35}\b",
    "stripe_key": r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}\b",
    "alibaba_access_key": r"\bLTAI[A-Za-z0-9]{12,20}\b",
    "tencent_secret_id": r"\bAKID[A-Za-z0-9]{32}\b",
    "huggingface_token": r"\bhf_[A-Za-z]{34}\b",
    "jwt": r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\b",
    "url_password": r"\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:(?P<url_password_value>[^\s:/@]{3,})@",
    "bearer_token": r"\bBearer\s+[A-Za-z0-9_\-.=]{20,}",
    "assigned_secret": r"\b(?i:api[_-]?key|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|password|passwd|pwd)\b"
                       r"[\"']?\s*[:=]\s*[\"']?(?P<assigned_secret_value>[A-Za-z0-9_\-+/=.!@#$%^&*]{8,})",
}
# One pass over the text: every pattern in one alternation, named by its group; a pattern's own group 1
# (the secret inside an assignment or a URL) becomes `<name>_value`.
_COMPILED = {name: re.compile(p) for name, p in PATTERNS.items()}
# A literal that every match of the pattern contains: a pattern runs only on text that holds its cue
# (substring tests are far cheaper than regexes; most text holds no cue at all).
CUES: dict[str, tuple[str, ...]] = {
    "private_key": ("PRIVATE KEY",), "aws_access_key": ("AKIA", "ASIA", "ABIA", "ACCA"), "openai_key": ("sk-",),
    "anthropic_key": ("sk-ant-",), "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "gitlab_token": ("glpat-",), "slack_token": ("xox",), "google_api_key": ("AIza",), "stripe_key": ("_live_", "_test_"),
    "alibaba_access_key": ("LTAI",), "tencent_secret_id": ("AKID",), "huggingface_token": ("hf_",), "jwt": ("eyJ",),
    "url_password": ("://",), "bearer_token": ("Bearer",),
}
ASSIGNED_CUES = ("key", "secret", "token", "passw", "pwd")
# A pattern is searched only near its cues: from MARGIN characters before a cue to the first whitespace at
# least MARGIN characters after it. A key holds no whitespace, and what precedes its cue (a URL's scheme, a
# variable's name) is short, so a window holds every match the whole text would give; a private-key block
# spans lines, but its literal opening is found at C speed anyway, so it reads the whole text.
MARGIN = 256
WHOLE_TEXT = frozenset({"private_key"})
_WS = re.compile(r"\s")


def cue_windows(text: str, hay: str, cues: tuple[str, ...]) -> list[tuple[int, int]]:
    """Merged windows [start, end) of `text` around each occurrence of `cues` in `hay` (`text` or its lower
    case, same length)."""
    spans = []
    for cue in cues:
        i = hay.find(cue)
        while i >= 0:
            m = _WS.search(text, min(len(text), i + len(cue) + MARGIN))
            spans.append((max(0, i - MARGIN), m.start() if m else len(text)))
            i = hay.find(cue, i + len(cue))
    spans.sort()
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


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
        assert isinstance(self.config, SecretsConfig)
        raw = text.raw
        low = raw.lower()
        out: list[Finding] = []
        taken: list[tuple[int, int]] = []
        for name, rx in _COMPILED.items():
            cues = CUES.get(name)
            hay = raw if cues is not None else low
            cues = cues if cues is not None else ASSIGNED_CUES
            if not any(c in hay for c in cues):
                continue
            whole = name in WHOLE_TEXT or len(hay) != len(raw)  # a lower case that changed length: no offsets
            windows = [(0, len(raw))] if whole else cue_windows(raw, hay, cues)
            value = f"{name}_value"
            for m in (m for ws, we in windows for m in rx.finditer(raw, ws, we)):
                start, end = m.span(value) if value in rx.groupindex and m.group(value) else m.span()
                if any(start < e and s < end for s, e in taken):  # `sk-ant-...` is not also an OpenAI key
                    continue
                if name == "assigned_secret" and entropy(raw[start:end]) < self.config.min_entropy:
                    continue
                taken.append((start, end))
                out.append(Finding("secrets", start, end, reason=name, replacement="[SECRET]"))
        return out
