"""The risk categories of TC260-003-2024 Appendix A (now GB/T 45654-2025): 31 risks in 5 groups.

Lexicons and test banks tag each entry with a short slug (`drugs`, `regional_discrimination`); this table
maps every slug the project ships to its Appendix A code, so a report can count by the standard's risks.
A user lexicon may use an Appendix A code itself ("A.1.8") or any slug of its own (reported as unmapped).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Risk:
    code: str  # "A.1.4"
    zh: str
    en: str


# Appendix A, in the standard's order (names shortened; compliance-notes.md has the list with its sources).
RISKS: dict[str, Risk] = {r.code: r for r in (
    Risk("A.1.1", "煽动颠覆国家政权、推翻社会主义制度", "subversion of state power"),
    Risk("A.1.2", "危害国家安全和利益、损害国家形象", "harm to national security and interests"),
    Risk("A.1.3", "煽动分裂国家、破坏国家统一和社会稳定", "separatism, harm to national unity"),
    Risk("A.1.4", "宣扬恐怖主义、极端主义", "terrorism and extremism"),
    Risk("A.1.5", "宣扬民族仇恨", "ethnic hatred"),
    Risk("A.1.6", "宣扬暴力、淫秽色情", "violence and obscenity"),
    Risk("A.1.7", "传播虚假有害信息", "false and harmful information"),
    Risk("A.1.8", "其他法律、行政法规禁止的内容", "other content prohibited by law"),
    Risk("A.2.1", "民族歧视", "ethnic discrimination"),
    Risk("A.2.2", "信仰歧视", "religious discrimination"),
    Risk("A.2.3", "国别歧视", "national discrimination"),
    Risk("A.2.4", "地域歧视", "regional discrimination"),
    Risk("A.2.5", "性别歧视", "gender discrimination"),
    Risk("A.2.6", "年龄歧视", "age discrimination"),
    Risk("A.2.7", "职业歧视", "occupational discrimination"),
    Risk("A.2.8", "健康歧视", "health discrimination"),
    Risk("A.2.9", "其他方面歧视", "other discrimination"),
    Risk("A.3.1", "侵犯知识产权", "intellectual property infringement"),
    Risk("A.3.2", "违反商业道德", "breach of business ethics"),
    Risk("A.3.3", "泄露商业秘密", "trade secrets"),
    Risk("A.3.4", "垄断和不正当竞争", "monopoly and unfair competition"),
    Risk("A.3.5", "其他商业违法违规行为", "other commercial violations"),
    Risk("A.4.1", "危害他人身心健康", "harm to physical and mental health"),
    Risk("A.4.2", "侵害他人肖像权", "portrait rights"),
    Risk("A.4.3", "侵害他人名誉权", "reputation rights"),
    Risk("A.4.4", "侵害他人荣誉权", "honour rights"),
    Risk("A.4.5", "侵害他人隐私权", "privacy"),
    Risk("A.4.6", "侵害他人个人信息权益", "personal information"),
    Risk("A.4.7", "侵犯他人其他合法权益", "other rights of others"),
    Risk("A.5.1", "内容不准确，严重不符合科学常识或主流认知", "inaccurate content"),
    Risk("A.5.2", "内容不可靠，无法帮助使用者解答问题", "unreliable content"),
)}

# The slugs used by Luban's lexicons, banks and scanners -> Appendix A code.
SLUGS: dict[str, str] = {
    "subversion": "A.1.1",
    "national_security": "A.1.2",
    "separatism": "A.1.3",
    "terrorism": "A.1.4",
    "extremism": "A.1.4",
    "ethnic_hatred": "A.1.5",
    "hate": "A.1.5",
    "violence": "A.1.6",
    "weapons": "A.1.6",
    "self_harm": "A.1.6",
    "sexual": "A.1.6",
    "sexual_minors": "A.1.6",
    "misinformation": "A.1.7",
    "drugs": "A.1.8",
    "gambling": "A.1.8",
    "fraud": "A.1.8",
    "cybercrime": "A.1.8",
    "prohibited": "A.1.8",
    "ethnic_discrimination": "A.2.1",
    "religious_discrimination": "A.2.2",
    "national_discrimination": "A.2.3",
    "regional_discrimination": "A.2.4",
    "gender_discrimination": "A.2.5",
    "age_discrimination": "A.2.6",
    "occupational_discrimination": "A.2.7",
    "health_discrimination": "A.2.8",
    "other_discrimination": "A.2.9",
    "ip_infringement": "A.3.1",
    "business_ethics": "A.3.2",
    "trade_secrets": "A.3.3",
    "unfair_competition": "A.3.4",
    "commercial_other": "A.3.5",
    "harm_health": "A.4.1",
    "portrait": "A.4.2",
    "defamation": "A.4.3",
    "honour": "A.4.4",
    "privacy": "A.4.5",
    "personal_information": "A.4.6",
    "pii": "A.4.6",
    "rights_other": "A.4.7",
    "inaccurate": "A.5.1",
    "unreliable": "A.5.2",
    # not content risks of Appendix A, but what the guard reports for attacks on the service itself
    "prompt_injection": "A.1.8",
    "jailbreak": "A.1.8",
    "secrets": "A.3.3",
}


# Plainer names for the slugs, used in refusal messages before the standard's long risk names.
NAMES: dict[str, tuple[str, str]] = {
    "violence": ("暴力", "violence"),
    "weapons": ("武器", "weapons"),
    "self_harm": ("自伤自杀", "self-harm"),
    "sexual": ("色情内容", "sexual content"),
    "sexual_minors": ("涉及未成年人的色情内容", "sexual content involving minors"),
    "terrorism": ("恐怖主义", "terrorism"),
    "extremism": ("极端主义", "extremism"),
    "drugs": ("毒品", "illegal drugs"),
    "gambling": ("赌博", "gambling"),
    "fraud": ("诈骗", "fraud"),
    "cybercrime": ("网络犯罪", "cybercrime"),
    "hate": ("仇恨言论", "hate speech"),
    "privacy": ("侵犯隐私", "privacy violations"),
    "personal_information": ("个人信息", "personal information"),
    "prompt_injection": ("提示词注入", "prompt injection"),
    "jailbreak": ("越狱攻击", "a jailbreak attempt"),
    "secrets": ("密钥或凭证", "secrets or credentials"),
    "token_limit": ("超长输入", "an over-long input"),
    "judge_unavailable": ("安全审核暂不可用", "a safety check that is unavailable right now"),
    "harmful_request": ("有害请求", "a harmful request"),
}


def appendix_code(category: str | None) -> str | None:
    """The Appendix A code of a slug or a code ("A.1.4"); None for a slug of a user's own."""
    if not category:
        return None
    if category in RISKS:
        return category
    return SLUGS.get(category)


def describe(category: str | None, lang: str = "en") -> str:
    """A human name for a category in `lang` (zh / en), for refusal messages and reports."""
    if category in NAMES:
        zh, en = NAMES[category]
        return zh if lang == "zh" else en
    code = appendix_code(category)
    if code is None:
        return category or ""
    risk = RISKS[code]
    return risk.zh if lang == "zh" else risk.en
