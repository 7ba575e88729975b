"""The scanner contract and the registry that policies name scanners through.

A scanner is a small class: a pydantic `Config` (its options in the policy YAML, unknown keys refused) and
`scan(text) -> list[Finding]` over a `luban.guard.normalize.Text` (raw text plus de-obfuscated views).
The policy gives each finding the scanner's `action` unless the finding carries its own.
Adding one is one module and one line in `SCANNERS`; a policy may also name any "module:Class".
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from luban.core.registry import Registry
from luban.guard.normalize import Text
from luban.guard.verdict import Finding

Action = Literal["allow", "flag", "mask", "block"]


class ScannerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action = "block"


class Scanner:
    """Base of every scanner. `streaming`: cheap and local, so it may run on each window of a stream;
    `remote`: it calls a service (the policy runs it off the event loop, and it has a fail mode)."""

    name: ClassVar[str] = "scanner"
    Config: ClassVar[type[ScannerConfig]] = ScannerConfig
    streaming: ClassVar[bool] = True
    remote: ClassVar[bool] = False

    def __init__(self, config: ScannerConfig, base_dir: Path | None = None) -> None:
        self.config = config
        self.base_dir = base_dir

    @property
    def action(self) -> str:
        return self.config.action

    def scan(self, text: Text) -> list[Finding]:
        raise NotImplementedError


SCANNERS: Registry[type[Scanner]] = Registry("guard scanner", {
    "lexicon": "luban.guard.scanners.lexicon:Lexicon",
    "regex": "luban.guard.scanners.regex:Regex",
    "pii": "luban.guard.scanners.pii:PII",
    "injection": "luban.guard.scanners.injection:Injection",
    "harm": "luban.guard.scanners.harm:Harm",
    "secrets": "luban.guard.scanners.secrets:Secrets",
    "unicode": "luban.guard.scanners.unicode:Unicode",
    "token_limit": "luban.guard.scanners.tokens:TokenLimit",
    "llm_judge": "luban.guard.scanners.llm_judge:LLMJudge",
    "remote": "luban.guard.scanners.remote:Remote",
}, base=Scanner)
