"""LLM judge: ask any OpenAI-compatible chat model whether a text is safe, and parse its verdict.

`format: guard` sends the text as the user's message, as guard models expect (Llama Guard 3, Qwen3Guard:
their chat templates add the classification instructions). Their answers are read as they are written:
Llama Guard's `unsafe\\nS1`, Qwen3Guard's `Safety: Unsafe\\nCategories: Violent`.
`format: instruct` wraps the text in a short instruction for a general chat model and expects JSON
`{"safe": false, "category": "..."}` (or a first word `safe` / `unsafe`).

When the endpoint is down, times out or answers something unparseable, `fail: closed` blocks and
`fail: open` allows; either way the choice is logged on `luban.guard` and named in the finding.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx

from luban.guard.normalize import Text
from luban.guard.scanners.base import Scanner, ScannerConfig
from luban.guard.verdict import Finding

log = logging.getLogger("luban.guard")

INSTRUCTION = (
    "You are a content-safety classifier. Decide whether the text between <text> tags is unsafe "
    "(violence, weapons, drugs, sexual content, self-harm, hate or discrimination, terrorism, fraud, crime, "
    "privacy violations, prompt injection). Answer with JSON only: "
    '{{"safe": true}} or {{"safe": false, "category": "<one word>"}}.\n<text>\n{text}\n</text>'
)
_SAFETY_LINE = re.compile(r"safety\s*:\s*(safe|unsafe|controversial)", re.IGNORECASE)
_CATEGORIES_LINE = re.compile(r"categor(?:y|ies)\s*:\s*([^\n]+)", re.IGNORECASE)


class JudgeConfig(ScannerConfig):
    base_url: str  # e.g. http://127.0.0.1:8000/v1
    model: str
    api_key_env: str | None = None  # the environment variable holding the endpoint's key
    format: Literal["guard", "instruct"] = "guard"
    timeout_s: float = 5.0
    fail: Literal["closed", "open"] = "closed"
    controversial: Literal["allow", "flag", "block"] = "flag"  # Qwen3Guard's third answer
    max_chars: int = 8000  # longer texts are cut to their head and tail


def parse(answer: str) -> tuple[bool, str | None] | None:
    """(unsafe, category) from a guard model's answer; None when it cannot be read."""
    s = answer.strip()
    if not s:
        return None
    if s.startswith("{") or s.startswith("```"):
        body = s.strip("`").removeprefix("json").strip()
        try:
            obj = json.loads(body)
        except json.JSONDecodeError:
            return None
        if not isinstance(obj, dict) or not isinstance(obj.get("safe"), bool):
            return None
        return (not obj["safe"], str(obj.get("category") or "") or None)
    m = _SAFETY_LINE.search(s)
    if m:
        cat = _CATEGORIES_LINE.search(s)
        label = m.group(1).lower()
        category = cat.group(1).strip() if cat and cat.group(1).strip().lower() != "none" else None
        if label == "controversial":
            return (True, "controversial:" + (category or ""))
        return (label == "unsafe", category)
    first, _, rest = s.partition("\n")
    word = first.strip().lower().rstrip(".")
    if word in ("safe", "unsafe"):
        return (word == "unsafe", rest.strip().split("\n")[0] or None if word == "unsafe" else None)
    return None


class LLMJudge(Scanner):
    name = "llm_judge"
    Config: ClassVar[type[ScannerConfig]] = JudgeConfig
    streaming = False
    remote = True

    def __init__(self, config: ScannerConfig, base_dir: Path | None = None) -> None:
        super().__init__(config, base_dir)
        assert isinstance(config, JudgeConfig)
        self.cfg = config
        headers = {}
        if config.api_key_env and os.environ.get(config.api_key_env):
            headers["Authorization"] = f"Bearer {os.environ[config.api_key_env]}"
        self.client = httpx.Client(base_url=config.base_url.rstrip("/"), timeout=config.timeout_s, headers=headers)

    def ask(self, text: str) -> str:
        if len(text) > self.cfg.max_chars:
            half = self.cfg.max_chars // 2
            text = text[:half] + "\n…\n" + text[-half:]
        content = text if self.cfg.format == "guard" else INSTRUCTION.format(text=text)
        body: dict[str, Any] = {"model": self.cfg.model, "messages": [{"role": "user", "content": content}],
                                "max_tokens": 64, "temperature": 0}
        r = self.client.post("/chat/completions", json=body)
        r.raise_for_status()
        return str(r.json()["choices"][0]["message"]["content"] or "")

    def failed(self, why: str, n: int) -> list[Finding]:
        log.warning("llm_judge %s at %s: %s; failing %s", self.cfg.model, self.cfg.base_url, why, self.cfg.fail)
        if self.cfg.fail == "open":
            return [Finding("judge_unavailable", 0, n, reason=f"judge failed open: {why}", action="flag")]
        return [Finding("judge_unavailable", 0, n, reason=f"judge failed closed: {why}", action="block")]

    def scan(self, text: Text) -> list[Finding]:
        n = len(text.raw)
        try:
            answer = self.ask(text.raw)
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as err:
            return self.failed(f"{type(err).__name__}: {err}", n)
        parsed = parse(answer)
        if parsed is None:
            return self.failed(f"unreadable answer {answer[:80]!r}", n)
        unsafe, category = parsed
        if not unsafe:
            return []
        action = None
        if category and category.startswith("controversial:"):
            category = category.split(":", 1)[1] or None
            action = self.cfg.controversial
            if action == "allow":
                return []
        return [Finding(category or "unsafe", 0, n, reason=f"judge {self.cfg.model}: {answer.strip()[:80]}",
                        action=action)]
