"""Remote moderation: any service that speaks OpenAI's `/v1/moderations` (OpenAI's own, another Luban).

A result with `flagged: true` becomes one finding whose category is the highest-scoring flagged category.
Down, timing out or answering garbage: `fail: closed` blocks, `fail: open` allows; logged either way.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx

from luban.guard.normalize import Text
from luban.guard.scanners.base import Scanner, ScannerConfig
from luban.guard.verdict import Finding

log = logging.getLogger("luban.guard")


class RemoteConfig(ScannerConfig):
    url: str  # the full endpoint, e.g. https://api.openai.com/v1/moderations
    model: str | None = None
    api_key_env: str | None = None
    timeout_s: float = 5.0
    fail: Literal["closed", "open"] = "closed"


class Remote(Scanner):
    name = "remote"
    Config: ClassVar[type[ScannerConfig]] = RemoteConfig
    streaming = False
    remote = True

    def __init__(self, config: ScannerConfig, base_dir: Path | None = None) -> None:
        super().__init__(config, base_dir)
        assert isinstance(config, RemoteConfig)
        self.cfg = config
        headers = {}
        if config.api_key_env and os.environ.get(config.api_key_env):
            headers["Authorization"] = f"Bearer {os.environ[config.api_key_env]}"
        self.client = httpx.Client(timeout=config.timeout_s, headers=headers)

    def scan(self, text: Text) -> list[Finding]:
        n = len(text.raw)
        body: dict[str, Any] = {"input": text.raw}
        if self.cfg.model:
            body["model"] = self.cfg.model
        try:
            r = self.client.post(self.cfg.url, json=body)
            r.raise_for_status()
            result = r.json()["results"][0]
            flagged = result["flagged"]
            if not isinstance(flagged, bool):
                raise ValueError(f"'flagged' is {flagged!r}")
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as err:
            why = f"{type(err).__name__}: {err}"
            log.warning("remote moderation %s: %s; failing %s", self.cfg.url, why, self.cfg.fail)
            action = "flag" if self.cfg.fail == "open" else "block"
            return [Finding("judge_unavailable", 0, n, reason=f"remote failed {self.cfg.fail}: {why}", action=action)]
        if not flagged:
            return []
        scores = result.get("category_scores") or {}
        cats = [c for c, on in (result.get("categories") or {}).items() if on]
        category = max(cats, key=lambda c: scores.get(c, 0.0)) if cats else "flagged"
        return [Finding(category, 0, n, reason=f"remote moderation: {', '.join(cats) or 'flagged'}",
                        score=float(scores.get(category, 1.0)))]
