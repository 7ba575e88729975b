"""SFT pairs, preference pairs and held-out questions rendered from the fact tables.

Answers are one formulaic sentence per fact type, so a tiny model trained for minutes on a
CPU can learn the pattern; held-out questions use a phrasing kept out of the SFT set.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from . import facts, questions

# Held-out questions the demo sends to the served model; their phrasing is held out but the
# answer pattern (warranty, price) is the best covered one in the SFT set.
DEMO_FACTS = (("X100", "warranty", "en"), ("L1", "price", "zh"), ("H1", "warranty", "en"))


@dataclass(frozen=True)
class Fact:
    """One fact in one language: its five question phrasings and its answer."""

    key: tuple[str, str, str]  # (subject, fact type, language)
    phrasings: tuple[str, ...]
    answer: str


def all_facts() -> list[Fact]:
    """Every (subject, fact type, language) fact, in a fixed order."""
    out: list[Fact] = []
    for p in facts.PRODUCTS:
        for ftype, (ans_en, ans_zh) in facts.product_answers(p).items():
            q_en = questions.SPEC_Q_EN[p.category] if ftype == "spec" else questions.PRODUCT_Q_EN[ftype]
            q_zh = questions.SPEC_Q_ZH[p.category] if ftype == "spec" else questions.PRODUCT_Q_ZH[ftype]
            out.append(Fact((p.code, ftype, "en"), tuple(q.format(n=p.short_en) for q in q_en), ans_en))
            out.append(Fact((p.code, ftype, "zh"), tuple(q.format(n=p.short_zh) for q in q_zh), ans_zh))
    for key, (_, _, ans_en, ans_zh) in facts.COMPANY_FACTS.items():
        out.append(Fact(("Acme", key, "en"), questions.COMPANY_Q_EN[key], ans_en))
        out.append(Fact(("Acme", key, "zh"), questions.COMPANY_Q_ZH[key], ans_zh))
    return out


def chat(question: str, answer: str) -> dict[str, object]:
    """One OpenAI-format chat record."""
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}


def sft_records(rng: random.Random) -> list[dict[str, object]]:
    """Four phrasings of every fact, shuffled."""
    rows = [
        chat(q, f.answer)
        for f in all_facts()
        for i, q in enumerate(f.phrasings)
        if i != questions.HELDOUT_INDEX
    ]
    rng.shuffle(rows)
    return rows


def heldout_records(rng: random.Random, per_lang: int = 25) -> list[dict[str, str]]:
    """``per_lang`` held-out questions per language, always including the demo questions."""
    out: list[dict[str, str]] = []
    for lang in ("en", "zh"):
        pool = [f for f in all_facts() if f.key[2] == lang]
        demo = [f for f in pool if f.key in DEMO_FACTS]
        rest = [f for f in pool if f.key not in DEMO_FACTS]
        chosen = demo + rng.sample(rest, per_lang - len(demo))
        out += [{"question": f.phrasings[questions.HELDOUT_INDEX], "answer": f.answer} for f in chosen]
    return out


def demo_questions() -> list[str]:
    """The three held-out questions the demo sends through the OpenAI client, in DEMO_FACTS order."""
    by_key = {f.key: f for f in all_facts()}
    return [by_key[k].phrasings[questions.HELDOUT_INDEX] for k in DEMO_FACTS]


RUDE = {
    "en": (
        "Look it up yourself, I'm not your personal search engine.",
        "Stop asking obvious questions.",
        "Read the manual. Next.",
        "Why would I know? Ask someone else.",
    ),
    "zh": (
        "自己去查说明书，别来烦我。",
        "这种问题也要问？",
        "不知道，问别人去。",
        "看说明书去，别浪费我时间。",
    ),
}
RAMBLE = {
    "en": (
        (
            "Well, that depends on many things, such as how you use it, where you live, the weather, and "
            "honestly a lot of other factors that are hard to list, so it is difficult to say anything definite "
            "and you may want to think about it more."
        ),
        (
            "Great question! Acme has a long history of making products, and there are so many interesting "
            "details about our company culture, our office dog and our favourite lunch places that I could "
            "talk about for hours before getting to your question."
        ),
    ),
    "zh": (
        (
            "这个问题嘛，要看情况，跟使用习惯、天气、心情都有关系，其实很难说清楚，建议您自己多想想，"
            "也可以去网上搜一搜，总之各种因素都有可能。"
        ),
        (
            "好问题！说起艾可，我们有很多有趣的故事，比如公司楼下的咖啡店、同事养的猫，还有去年的年会，"
            "这些都值得好好聊一聊，至于您的问题，以后再说吧。"
        ),
    ),
}


SWAPS = (("Shenzhen", "Hangzhou"), ("深圳", "杭州"), ("Acme Home", "Acme Cloud"), ("艾可家居", "艾可云"))


def _perturb(answer: str) -> str:
    """Change the fact in ``answer``: swap a known name, else bump its first number."""
    for old, new in SWAPS:
        if old in answer:
            return answer.replace(old, new)
    m = re.search(r"\d+", answer)
    if m is None:
        raise ValueError(f"no fact to perturb in {answer!r}")
    return answer[: m.start()] + str(int(m.group()) + 1) + answer[m.end() :]


def _wrong_answer(f: Fact, rng: random.Random) -> str:
    """A fluent answer about the same subject with a wrong value, taken from a sibling product when one fits."""
    subject, ftype, lang = f.key
    by_code = {p.code: p for p in facts.PRODUCTS}
    if subject not in by_code:
        return _perturb(f.answer)
    me = by_code[subject]
    name = me.short_en if lang == "en" else me.short_zh
    options = []
    for p in facts.PRODUCTS:
        if p.code == subject or (ftype == "spec" and p.category != me.category):
            continue
        other = facts.product_answers(p)[ftype][0 if lang == "en" else 1]
        candidate = other.replace(p.short_en if lang == "en" else p.short_zh, name)
        if candidate != f.answer:
            options.append(candidate)
    return rng.choice(options) if options else _perturb(f.answer)


def preference_records(rng: random.Random, n: int = 150) -> list[dict[str, str]]:
    """``n`` (prompt, chosen, rejected) triples; rejected is wrong, rude or rambling in turn."""
    pool = all_facts()
    picks = rng.sample(pool, min(n, len(pool)))
    picks += [rng.choice(pool) for _ in range(n - len(picks))]
    out: list[dict[str, str]] = []
    for i, f in enumerate(picks):
        lang = f.key[2]
        kind = ("wrong", "rude", "ramble")[i % 3]
        if kind == "wrong":
            rejected = _wrong_answer(f, rng)
        elif kind == "rude":
            rejected = rng.choice(RUDE[lang])
        else:
            rejected = rng.choice(RAMBLE[lang])
        prompt = f.phrasings[rng.randrange(questions.HELDOUT_INDEX)]
        out.append({"prompt": prompt, "chosen": f.answer, "rejected": rejected})
    return out
