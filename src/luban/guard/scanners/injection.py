"""Prompt-injection and jailbreak detection: bilingual heuristics plus a small classifier.

- Heuristics: the phrasings attacks are made of, in English and Chinese ("ignore previous instructions",
  "忽略之前的所有指令", "developer mode", "输出你的系统提示词", chat-template control tokens). They run on
  the de-obfuscated view over the whole text.
- Classifier: TF-IDF over character 2-4-grams and logistic regression (scikit-learn), trained on first use
  (about a tenth of a second) from the project's own bilingual examples in `guard/banks/injection.jsonl`,
  offline on CPU; nothing is downloaded. It reads the head and the tail of a long text (where
  instructions to the model sit) so that its cost does not grow with the prompt, and only a text that
  mentions instructions, rules, roles or limits at all (`CUE_WORDS`): an injection has to.
A text is reported when a heuristic fires or the classifier's probability reaches `threshold`.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from luban.guard.normalize import Text
from luban.guard.scanners.base import Scanner, ScannerConfig
from luban.guard.verdict import Finding

EXAMPLES = Path(__file__).resolve().parent.parent / "banks" / "injection.jsonl"
_PREV = r"(?:previous|prior|above|earlier|preceding|former|original|initial|all|any|your|the|these|those)"
HEURISTICS: list[tuple[str, str]] = [
    ("prompt_injection", rf"\b(?:ignore|disregard|forget|override|bypass|skip)\s+(?:{_PREV}\s+){{1,3}}"
                         r"(?:instructions?|prompts?|rules|directions|guidelines|directives|context|messages?)\b"),
    ("prompt_injection", r"\b(?:reveal|show|print|repeat|leak|output|tell me|display|dump)\s+(?:me\s+)?(?:your|the)\s+"
                         r"(?:full\s+|exact\s+|hidden\s+|original\s+|initial\s+)*(?:system|hidden|initial|original|developer)\s+"
                         r"(?:prompt|instructions?|message)"),
    ("prompt_injection", r"(?:<\|im_start\|>\s*system|<\|system\|>|\[/?inst\]|<<sys>>|###\s*(?:system|instruction)\s*:|"
                         r"\bnew (?:system )?instructions?\s*:)"),
    ("jailbreak", r"\b(?:do anything now|dan mode|developer mode (?:enabled|on|activated)|jailbreak(?:ed)? mode|"
                  r"god mode|evil (?:mode|confidant)|aim mode|stan mode)\b"),
    ("jailbreak", r"\byou are (?:now\s+)?(?:dan|an? (?:unfiltered|uncensored|unrestricted|amoral|jailbroken)\b)"),
    ("jailbreak", r"\b(?:pretend|imagine|act as if|act like|behave as if)\b.{0,40}\b(?:no|without|free (?:of|from))\s+"
                  r"(?:any\s+)?(?:restrictions|rules|filters|limits|guidelines|ethics|morals|censorship|content polic(?:y|ies))"),
    ("jailbreak", r"\b(?:act|respond|answer|reply)\s+as\s+an?\s+(?:unfiltered|uncensored|unrestricted|amoral|evil)\b"),
    ("jailbreak", r"\b(?:disable|turn off|remove|deactivate)\s+(?:your\s+|all\s+)?(?:safety|content)\s+"
                  r"(?:filters?|guidelines|polic(?:y|ies)|restrictions)"),
    ("prompt_injection", r"(?:忽略|无视|忘记|忘掉|不要理会|跳过|覆盖)(?:掉)?(?:你)?(?:之前|以上|上面|前面|先前|此前|刚才|原来|原有|所有|全部|一切)"
                         r"(?:的)?(?:所有|全部|一切)?(?:的)?(?:指令|指示|提示|规则|设定|要求|约束|限制|命令)"),
    ("prompt_injection", r"(?:输出|告诉我|显示|泄露|重复|打印|透露|给出)(?:一下)?(?:你的|你)?(?:完整的|全部的|原始的|隐藏的)?"
                         r"(?:系统提示词?|系统指令|初始指令|原始提示词?|隐藏指令|system\s*prompt)"),
    ("jailbreak", r"(?:开发者模式|越狱模式|dan模式|上帝模式|无限制模式|邪恶模式)"),
    ("jailbreak", r"(?:你现在是|从现在(?:开始|起)你(?:是|就是|将是)?|假装你是|扮演|你是一个)(?:一个)?.{0,12}"
                  r"(?:没有任何限制|不受(?:任何)?限制|无任何限制|没有道德|不受道德约束|无视规则|没有过滤)"),
    ("jailbreak", r"(?:解除|关闭|取消|绕过|突破)(?:你的|所有的?|全部)?(?:安全|内容)?(?:限制|过滤|审查|防护|安全策略)"),
]
_COMPILED = [(cat, re.compile(p, re.IGNORECASE | re.DOTALL)) for cat, p in HEURISTICS]
CUE_WORDS = (
    "instruction", "prompt", "rule", "guideline", "policy", "policies", "system", "ignore", "disregard", "forget",
    "override", "bypass", "pretend", "role", "act as", "you are", "from now on", "mode", "jailbr", "dan ", "restrict",
    "filter", "censor", "obey", "comply", "refus", "developer", "admin", "configuration", "reveal", "repeat",
    "verbatim", "<|", "[inst", "<<sys", "###",
    "指令", "指示", "提示", "规则", "设定", "要求", "政策", "限制", "约束", "过滤", "审查", "忽略", "无视", "忘记", "忘掉",
    "覆盖", "扮演", "假装", "你现在", "从现在", "模式", "越狱", "管理员", "开发者", "系统", "配置", "泄露", "原样", "逐字",
    "拒绝", "服从", "听我的", "作废")


@lru_cache(maxsize=1)
def _cue_automaton() -> Any:
    import ahocorasick

    auto: Any = ahocorasick.Automaton()
    for w in CUE_WORDS:
        auto.add_word(w, w)
    auto.make_automaton()
    return auto


def has_cue(norm_text: str) -> bool:
    """Whether a (normalized, lower-case) text names instructions, rules, roles or limits at all: every
    heuristic and every injection does. One Aho-Corasick pass, so ordinary prompts cost next to nothing."""
    return next(_cue_automaton().iter(norm_text), None) is not None


HEAD, TAIL = 400, 200


@lru_cache(maxsize=1)
def classifier() -> Any:
    """The injection classifier, trained on first use from the shipped examples."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [Text(r["text"]).norm.text for r in rows]
    labels = [int(r["label"]) for r in rows]
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=1),
        LogisticRegression(C=8.0, class_weight="balanced", max_iter=2000),
    )
    model.fit(texts, labels)
    return model


def window(s: str) -> str:
    return s if len(s) <= HEAD + TAIL else s[:HEAD] + " " + s[-TAIL:]


class InjectionConfig(ScannerConfig):
    threshold: float = 0.85  # classifier probability at which a text is reported
    classifier: bool = True


class Injection(Scanner):
    name = "injection"
    Config: ClassVar[type[ScannerConfig]] = InjectionConfig

    def __init__(self, config: ScannerConfig, base_dir: Path | None = None) -> None:
        super().__init__(config, base_dir)
        assert isinstance(config, InjectionConfig)
        self.threshold = config.threshold
        self.model = classifier() if config.classifier else None

    def score(self, text: Text) -> float:
        if self.model is None:
            return 0.0
        sample = window(text.norm.text)
        if not has_cue(sample):
            return 0.0
        return float(self.model.predict_proba([sample])[0][1])

    def scan(self, text: Text) -> list[Finding]:
        norm = text.norm
        if not has_cue(norm.text):  # every heuristic and every injection names one of the cues
            return []
        for category, rx in _COMPILED:
            m = rx.search(norm.text)
            if m:
                return [Finding(category, norm.raw(m.start()), norm.raw(m.end() - 1) + 1,
                                reason=f"{category.replace('_', ' ')} pattern", score=1.0)]
        p = self.score(text)
        if p >= self.threshold:
            return [Finding("prompt_injection", 0, len(text.raw), reason=f"classifier p={p:.2f}", score=p)]
        return []
