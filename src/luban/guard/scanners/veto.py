"""Context vetoes: the frames in which a blocking lexicon term of some risks is talked about, not done.

The terms of A.1.2 (national security), A.1.3 (separatism) and A.1.7 (false information) are phrases of the
act ("泄露国家秘密", "support Tibet independence", "编造谣言"), and the same phrases turn up in the questions
TC260-003 8.3 wants answered: a news report of a spy trial, a history lesson on the Cambridge Five, the
analysis of a novel, "how do I spot a fake government notice". A sentence vetoes such a term when it
- holds a *protective* cue (prevention, spotting, reporting, fact-checking, the law and its penalties): a
  question about defending against the act, even when asked "how" ("如何识别虚假疫情信息"); or
- holds a *framing* cue (news, history, fiction, film, teaching, analysis, "why do people …") and no
  *operative* cue: nothing that asks for the act or its artefact (write, draft, make up, spread, contact,
  "how do I", "教我", "帮我写", slogans, leaflets). "Summarise this news report on a man who sold military
  secrets" is a frame; "write a news report claiming the banks will collapse" is the act in a frame;
and never when it asks how to avoid being caught ("不被发现", "without getting caught").
The cues are general words of each language, not phrases of the test banks; the veto turns a block into
a flag (the hit is still reported), and only for the categories in `CATEGORIES`.
"""

from __future__ import annotations

import re

from luban.guard.scanners.intent import sentence_at

CATEGORIES = frozenset({"national_security", "separatism", "misinformation"})

PROTECTIVE = re.compile(
    "防范|防止|预防|识别|辨别|分辨|甄别|鉴别|举报|辟谣|核实|查证|是真的吗|真的吗|是谣言吗|是不是谣言|可信吗|"
    "罪名|量刑|判刑|判了|判处|被判|拘留|被捕|落网|刑法|法律责任|法律规定|违法吗|犯罪吗|处罚|危害|警示|保密教育|保密培训|"
    "反间谍|反分裂|"
    r"\b(?:prevent(?:ion|ing)?|protect(?:ing|ion)?|spot|spotting|detect(?:ing|ion)?|identify(?:ing)?|"
    r"recogni[sz]e|report(?:ing)? (?:it|them|suspected|suspicious|espionage|a spy)|fact-?check(?:ing|ed)?|debunk\w*|"
    r"is it true|is (?:this|that|it) (?:true|real|a hoax|fake)|true that|myths?|penalt(?:y|ies)|sentenced|"
    r"convicted|prosecuted|the crime of|illegal to|against the law|laws? (?:on|against)|counter-?espionage|"
    r"counter-?intelligence|media literacy|harms? of|dangers? of)\b",
    re.IGNORECASE)
FRAMING = re.compile(
    "新闻|报道|历史|史上|古代|近代|冷战|小说|电影|电视剧|谍战剧|影视剧|剧中|书中|片中|剧情|情节|人物|角色|纪录片|分析|评析|"
    "解读|课堂|教学|教材|"
    "讲解|背景|案例|案件|为什么|学术|研究|论文|概括|总结|摘要|"
    r"\b(?:history|historical|historically|histories|news|reported|reporting|journalis\w+|article|novel|fiction|"
    r"film|movie|series|character|plot|analy[sz]e|analysis|lesson|class|textbook|documentary|case study|"
    r"background|summari[sz]e|summary|research|scholars?|why (?:do|did|does|are|is|were|was)|cold war|"
    r"in the (?:\d+|nineteen|twentieth|[a-z]+ century))\b",
    re.IGNORECASE)
OPERATIVE = re.compile(
    "帮我写|帮我编|帮我做|帮我发|帮我联系|帮我找|替我|给我写|请写|写一|写个|写篇|写段|写几|编一|编个|编造|捏造|炮制|伪造|"
    "造谣|杜撰|我怎么|我如何|我该怎么|我该如何|我们怎么|我们如何|怎样才能|如何才能|怎么才能|教我|教教我|渠道|联系|价格|"
    "多少钱|哪里|卖给|我想|我要|发到|发布|转发|扩散|散布|散发|标语|口号|传单|帖子|文案|募捐|拉人|写出|写下|原文|全文|"
    r"\b(?:write|draft|compose|create|generate|make up|make it|help me|give me|how (?:do|can|could|would|should) "
    r"(?:i|we)|how to|where (?:can|do|could) (?:i|we)|teach me|step[- ]by[- ]step|instructions?|sell (?:it|them)|"
    r"contact|recruit|slogans?|leaflets?|flyers?|banners?|posters?|post (?:it|this)|share this|spread|viral|"
    r"convincing|so (?:that )?people|i want to|i need to|let'?s|write (?:out|down)|word for word|verbatim|full text|exact text)\b",
    re.IGNORECASE)
EVASION = re.compile(
    "不被发现|不被查|不被识别|不被抓|不留痕迹|绕过|躲过|避开审查|"
    r"\b(?:without (?:getting|being) (?:caught|detected|traced|noticed)|undetect\w*|untraceable|avoid detection|"
    r"evade|bypass)\b",
    re.IGNORECASE)


SHORT_CHARS = 300  # a prompt this short is read whole: its frame is often another sentence ("…? Analyze the plot.")


def context_of(raw: str, start: int, end: int) -> str:
    """What a hit at raw[start:end] is judged in: the whole prompt when short, else its sentence; the hit
    itself blanked, so that a term made of an operative word ("散布谣言", "spread fake news") does not
    count against itself."""
    blanked = raw[:start] + " " * (end - start) + raw[end:]
    return blanked if len(raw) <= SHORT_CHARS else sentence_at(blanked, start, end)


def vetoed(sentence: str) -> str | None:
    """The cue that frames `sentence` as talk about the act (see the module's docstring), or None."""
    if EVASION.search(sentence):
        return None
    m = PROTECTIVE.search(sentence)
    if m:
        return m.group()
    m = FRAMING.search(sentence)
    if m and not OPERATIVE.search(sentence):
        return m.group()
    return None
