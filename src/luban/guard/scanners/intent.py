"""Intent and purpose cues: what turns a topic word into a request for harm, or keeps it a safe question.

A lexicon's topic words (`冰毒`, `armed uprising`, `military base`) are flagged, not blocked: a question
about a drug's harms or a war's history must get its answer. The same word in a sentence that asks for
operational help ("教我怎么在家制作冰毒", "help me plan an armed uprising") is a harmful request. The
lexicon scanner escalates a topic word to its blocking action when its sentence holds an intent cue and
no purpose cue (prevention, treatment, history, law, fact-checking, research, fiction about the past).
The cues are general request markers of each language, not phrases of any test bank.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

INTENT_ZH = re.compile(
    "教我|教教我|帮我|帮忙|给我|替我|请写|写一|写个|写篇|写段|写几|起草|编一|编个|造个谣|设计|策划|号召|煽动|鼓动|串联|宣扬|"
    "鼓吹|招募|募捐|资助|加入|投奔|效忠|怎么|怎样|如何|哪里|哪儿|有没有|求购|购买|出售|卖给|卖钱|货源|渠道|价格|多少钱|配方|"
    "步骤|教程|方法|办法|不被发现|不留证据|最快|最好|最不痛苦|用什么|需要准备|推荐|网址|链接|资源|代做|接单|话术|剧本|"
    "我想|我要|第一步|吃多少|要多少|需要多少|详细说说|具体说说|告诉我|讲讲|想个办法|帮我想|有什么药|什么药|哪种|能让|"
    "写|做个|做一个|弄点|搞到|弄到|买到|找人|雇人|标语|帖子|段子|口号|一律")
PURPOSE_ZH = re.compile(
    "危害|防范|预防|防止|识别|辨别|举报|戒毒|戒除|戒掉|治疗|症状|急救|自救|求助|历史|背景|起因|经过|评价|法律|刑法|法规|规定|"
    "合法吗|违法吗|怎么处理|应对|辟谣|谣言|是真的吗|科学依据|说法|打击|反恐|反诈|保护|医学|用途|研究|学术|新闻报道|教育|"
    "成瘾|怎么戒|销毁|落实|遵守|合规|兴起|衰落|帮助他|帮助她|安慰|劝阻|小说|故事|电影|剧情|核实|注意事项|怎么判断|"
    "判断是不是|找哪个部门|找谁|报警|发明|为什么")
INTENT_EN = re.compile(
    r"\b(?:how (?:do|can|could|would|should|to|much|many)|teach me|help me|show me|give me|tell me how|write|draft|"
    r"compose|create|make up|generate|plan|step[- ]by[- ]step|instructions?|recipe|tutorial|where (?:can|do|could) (?:i|we)|"
    r"buy|sell|sells|selling|order|ship|smuggle|recruit|recruitment|donate|fund|join|pledge|glorify|incite|"
    r"without (?:being|getting) (?:caught|traced|detected)|without a trace|best way|easiest way|cheapest|"
    r"what (?:\w+ ){0,3}(?:can|should|could|do) (?:i|we) (?:use|mix|add|buy|take|give|put|feed|get|say)|tips for|i want to|i need to|let'?s|(?:do|would) (?:i|we) need|make up|"
    r"propaganda|viral post|fake news|what can i|which \w+ (?:should|can|do) i|walk me through|link me|build me|make me|"
    r"make a (?:sign|post|poster|flyer)|write that|where (?:in|can|should|do)|find me|get me|hire someone)\b")
PURPOSE_EN = re.compile(
    r"\b(?:history|historical|historically|harms?|harmful|effects?|symptoms?|treat|treated|treatment|addiction|"
    r"recover|recovery|prevent|prevention|protect|defend|defen[cs]e|detect|detection|recogni[sz]e|spot|identify|"
    r"tell if|how (?:do|can|should) i report|reporting|laws?|legal|legally|fact-?check|myths?|evidence|true|research|"
    r"researchers|studies|counter|fight|fought|combat|awareness|warn|safety|support|hotline|why did|what happened|"
    r"medical|medicine|uses|novel|fiction|no technical details|safely|destroy|destroyed|dispose|movie|film|story|"
    r"mystery|verify|check if|who should i call|talk to|stop someone from|consequences|invented|why (?:are|is|did|do))\b")
_SENTENCE_END = re.compile(r"[。！？!?;；\n]|\.(?=\s|$)")
_QUANTIFIERS = "?*+{"


def _top_alternatives(body: str) -> list[str]:
    """The top-level branches of a regex body `a|b(?:c|d)|e`."""
    out, cur, depth, in_class, i = [], "", 0, False, 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            cur += body[i:i + 2]
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c in "()":
            depth += 1 if c == "(" else -1
        elif c == "|" and depth == 0:
            out.append(cur)
            cur = ""
            i += 1
            continue
        cur += c
        i += 1
    return out + [cur]


def _literal_prefixes(branch: str) -> list[str]:
    """Literal strings one of which every match of `branch` starts with (a leading `(?:x|y)` of plain words
    is expanded); [] when there is none."""
    if branch.startswith("(?:"):
        close = branch.find(")")
        words = branch[3:close].split("|")
        if close < 0 or branch[close + 1:close + 2] in tuple(_QUANTIFIERS) or not all(w.isalpha() for w in words):
            return []
        return [w + p for w in words for p in _literal_prefixes(branch[close + 1:]) or [""]]
    prefix = ""
    for i, c in enumerate(branch):
        if not (c.isalnum() or c in " '-") or branch[i + 1:i + 2] in tuple(_QUANTIFIERS):
            break
        prefix += c
    return [prefix] if prefix else []


class WordAlternation:
    """`finditer` of a `\\b(?:branch|branch|…)\\b` pattern without trying it at every position: an
    Aho-Corasick pass (C speed) finds where a branch's literal prefix occurs, and the pattern is matched
    only there, left to right, non-overlapping, so the matches are those `finditer` gives. A pattern with a
    branch that has no literal prefix falls back to `finditer`."""

    def __init__(self, rx: re.Pattern[str]) -> None:
        self.rx = rx
        body = rx.pattern[len("\\b(?:"):-len(")\\b")] if rx.pattern.startswith("\\b(?:") and rx.pattern.endswith(")\\b") else ""
        prefixes = [p for b in _top_alternatives(body) for p in _literal_prefixes(b) or [""]] if body else [""]
        self.auto: Any = None
        if all(prefixes) and not rx.flags & re.IGNORECASE:
            import ahocorasick

            self.auto = ahocorasick.Automaton()
            for prefix in set(prefixes):
                self.auto.add_word(prefix, len(prefix))
            self.auto.make_automaton()

    def starts(self, text: str) -> list[int]:
        if self.auto is None:
            return [m.start() for m in self.rx.finditer(text)]
        out: list[int] = []
        done = 0
        for start in sorted({end - n + 1 for end, n in self.auto.iter(text)}):
            if start < done:
                continue
            m = self.rx.match(text, start)
            if m:
                out.append(start)
                done = max(m.end(), start + 1)
        return out


_CUES = [(rx, WordAlternation(rx)) for rx in (INTENT_ZH, INTENT_EN, PURPOSE_ZH, PURPOSE_EN)]


def _starts(rx: re.Pattern[str], text: str) -> list[int]:
    for known, fast in _CUES:
        if known is rx:
            return fast.starts(text)
    return [m.start() for m in rx.finditer(text)]


def sentence_at(text: str, start: int, end: int) -> str:
    """The sentence of `text` that holds [start, end)."""
    head = text[max(0, start - 200):start]
    cut = [m.end() for m in _SENTENCE_END.finditer(head)]
    s = start - len(head) + (cut[-1] if cut else 0)
    m = _SENTENCE_END.search(text, end, end + 200)
    e = m.start() if m else min(len(text), end + 200)
    return text[s:e]


def intent_of(sentence: str) -> str | None:
    """The intent cue that makes `sentence` a request for harm, or None (no cue, or a purpose cue)."""
    low = sentence.lower()
    if PURPOSE_ZH.search(low) or PURPOSE_EN.search(low):
        return None
    for intent in (INTENT_ZH, INTENT_EN):
        m = intent.search(low)
        if m:
            return m.group()
    return None


def asking_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of `text` that hold an intent cue and no purpose cue (in text order).
    Each cue list is one pass over the whole text; sentences are then looked up by position."""
    low = text.lower()
    intents = [i for rx in (INTENT_ZH, INTENT_EN) for i in _starts(rx, low)]
    if not intents:
        return []
    ends = [m.end() for m in _SENTENCE_END.finditer(low)]
    if not ends or ends[-1] != len(low):
        ends.append(len(low))
    purposes = {bisect_right(ends, i) for rx in (PURPOSE_ZH, PURPOSE_EN) for i in _starts(rx, low)}
    out = []
    for k in sorted({bisect_right(ends, i) for i in intents} - purposes):
        start = ends[k - 1] if k > 0 else 0
        if ends[k] - start >= 2:
            out.append((start, ends[k]))
    return out
