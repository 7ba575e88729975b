"""The deliberate dirt: mojibake, near-duplicate edits, low-quality and unsafe lines.

Each function changes text in one well-defined way and returns what it did, so that
raw_dirt.json can say exactly what the data layer is expected to find and remove.
"""

from __future__ import annotations

import random
import re

LOW_QUALITY = {
    "en": (
        "Click here to learn more!!!",
        "!!!!!!!!!!!!!!!!!!!!",
        "ok",
        "Subscribe now. Subscribe now. Subscribe now.",
        "robot vacuum robot vacuum best robot vacuum cheap robot vacuum buy robot vacuum deal robot vacuum",
        "Read more >>>",
        "???????",
        "lol",
        "smart lock smart lock smart lock discount smart lock sale smart lock",
    ),
    "zh": (
        "点击这里了解更多！！！",
        "！！！！！！！！！！！！",
        "好",
        "顶顶顶顶顶顶顶顶顶顶",
        "阅读全文>>>",
        "扫地机器人 扫地机器人 便宜扫地机器人 扫地机器人优惠 扫地机器人特价 扫地机器人包邮",
        "智能门锁 智能门锁 智能门锁特价 智能门锁批发 智能门锁 智能门锁",
        "沙发",
        "哈哈哈哈哈哈哈哈哈哈哈哈",
    ),
}

# Mild, non-graphic lines that a safety filter must catch: (category, text).
UNSAFE = {
    "en": (
        (
            "gambling",
            "Win big tonight at our online casino, deposit 100 and get 500 free chips, no ID needed.",
        ),
        ("fraud", "Congratulations, you won a prize! Send your bank card PIN to claim it within one hour."),
        ("violence", "If my neighbour's dog barks again I will smash his car window."),
        ("fraud", "Selling hacked Acme accounts and fake invoices, cheap, message me privately."),
        ("gambling", "Guaranteed betting tips, 100% win rate, join our VIP gambling group now."),
        ("violence", "Anyone who gives this product a bad review deserves a beating."),
    ),
    "zh": (
        ("gambling", "线上赌场火热开业，充值100送500，稳赚不赔，加微信了解。"),
        ("fraud", "恭喜您中奖了！请提供银行卡密码和验证码领取奖金。"),
        ("violence", "楼上再吵我就上去砸了他家的门。"),
        ("fraud", "出售破解账号和假发票，价格便宜，私聊。"),
        ("gambling", "百分百中奖的赌球内幕，加入VIP群包赢。"),
        ("violence", "谁给差评我就找人揍他一顿。"),
    ),
}

SWAPS_EN = (
    ("Please", "Kindly"),
    ("quickly", "fast"),
    ("use", "utilise"),
    ("check", "verify"),
    ("make sure", "ensure"),
    ("every", "each"),
    ("home", "house"),
    ("app", "application"),
    ("clean", "wipe"),
    ("new", "fresh"),
)
SWAPS_ZH = (
    ("请", "麻烦"),
    ("检查", "查看"),
    ("使用", "利用"),
    ("确认", "确保"),
    ("清洁", "清理"),
    ("每次", "每一次"),
    ("设备", "装置"),
    ("可以", "能够"),
    ("自动", "自行"),
    ("产品", "商品"),
)


def sloppy_cp1252(data: bytes) -> str:
    """Decode as Windows-1252 the way browsers do: bytes cp1252 leaves undefined map to U+0080..U+009F."""
    out = []
    for b in data:
        try:
            out.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(b))
    return "".join(out)


def mojibake(text: str, kind: str) -> str:
    """``text`` encoded as UTF-8 and wrongly decoded as latin-1 or (sloppy) cp1252."""
    data = text.encode("utf-8")
    if kind == "utf8-as-latin1":
        return data.decode("latin-1")
    if kind == "utf8-as-cp1252":
        return sloppy_cp1252(data)
    raise ValueError(f"unknown mojibake kind {kind!r}")


def near_duplicate(text: str, lang: str, rng: random.Random) -> tuple[str, list[str]]:
    """A copy of ``text`` with two or three word swaps, one punctuation change and whitespace noise."""
    edits: list[str] = []
    swaps = [s for s in (SWAPS_EN if lang == "en" else SWAPS_ZH) if s[0] in text]
    for old, new in rng.sample(swaps, min(len(swaps), rng.randint(2, 3))):
        text = text.replace(old, new, 1)
        edits.append(f"word: {old!r} -> {new!r}")
    punct = (". ", "! ") if lang == "en" else ("。", "！")
    if punct[0] in text:
        text = text.replace(punct[0], punct[1], 1)
        edits.append(f"punctuation: {punct[0]!r} -> {punct[1]!r}")
    lines = text.split("\n")
    k = rng.randrange(len(lines))
    lines[k] = lines[k] + "   "
    lines.insert(rng.randrange(len(lines)), "")
    edits.append("whitespace: trailing spaces and an extra blank line")
    return "\n".join(lines), edits


def insert_line(text: str, line: str, rng: random.Random) -> str:
    """Insert ``line`` on its own at a random line boundary of ``text`` (never before a title)."""
    lines = text.rstrip("\n").split("\n")
    k = rng.randint(1, len(lines))
    return "\n".join([*lines[:k], line, *lines[k:]]) + "\n"


def garble_line(text: str, kind: str, rng: random.Random) -> tuple[str, str]:
    """Replace one non-ASCII content line of ``text`` by its mojibake; return (text, clean line)."""
    lines = text.split("\n")
    candidates = [k for k, ln in enumerate(lines) if len(ln) > 8 and re.search(r"[^\x00-\x7f]", ln)]
    k = rng.choice(candidates)
    clean = lines[k]
    lines[k] = mojibake(clean, kind)
    return "\n".join(lines), clean
