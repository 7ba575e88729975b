"""Renderers for the product documents: manuals, quick starts, FAQs, troubleshooting, release notes.

Each renderer returns text only; the caller chooses paths and injects dirt afterwards.
Facts are always stated with the same sentences the SFT answers use, so the raw corpus
grounds every answer.
"""

from __future__ import annotations

import random

from . import content, facts, qa, questions
from .facts import Product

LANG = {"en": 0, "zh": 1}


def name(p: Product, lang: str) -> str:
    """Short product name in ``lang``."""
    return p.short_en if lang == "en" else p.short_zh


def fact_sentences(p: Product, lang: str) -> list[str]:
    """The product's formulaic fact sentences in ``lang``."""
    return [pair[LANG[lang]] for pair in facts.product_answers(p).values()]


def manual(p: Product, lang: str) -> str:
    """A Markdown user manual with specs, setup, care, safety and service sections."""
    i, n = LANG[lang], name(p, lang)
    company = facts.COMPANY_FACTS
    box = content.BOX[p.category][i]
    steps = content.SETUP[p.category][i]
    if lang == "en":
        lines = [
            f"# Acme {p.short_en} — User Manual",
            "",
            content.BLURB[p.category][0].format(n=f"The {p.short_en}"),
            "",
            "## In the box",
            *[f"- {b}" for b in box],
            "",
            "## Specifications",
            "| Item | Value |",
            "|---|---|",
            f"| Model | {p.code} |",
            f"| Price | {p.price} yuan |",
            f"| Weight | {p.weight} kg |",
            f"| Colours | {p.colours_en[0]}, {p.colours_en[1]} |",
            f"| Released | {p.year} |",
            f"| Warranty | {facts.years_en(p.warranty)} |",
            "",
            " ".join(fact_sentences(p, lang)),
            "",
            "## Setting up",
            *[f"{k}. {s}" for k, s in enumerate(steps, 1)],
            "",
            "## Care and maintenance",
            content.CARE[p.category][0],
            "",
            "## Safety",
            (
                "Keep the product away from water, heat and children's reach. Use only the "
                "supplied adapter. Do not open the housing; there are no user-serviceable parts inside."
            ),
            "",
            "## Warranty and service",
            (
                f"{facts.product_answers(p)['warranty'][0]} {company['returns'][2]} "
                f"{company['hotline'][2]} {company['hours'][2]}"
            ),
            "",
        ]
    else:
        lines = [
            f"# 艾可{p.short_zh}用户手册",
            "",
            content.BLURB[p.category][1].format(n=n),
            "",
            "## 包装清单",
            *[f"- {b}" for b in box],
            "",
            "## 产品参数",
            "| 项目 | 参数 |",
            "|---|---|",
            f"| 型号 | {p.code} |",
            f"| 售价 | {p.price}元 |",
            f"| 重量 | {p.weight}千克 |",
            f"| 颜色 | {p.colours_zh[0]}、{p.colours_zh[1]} |",
            f"| 发布年份 | {p.year}年 |",
            f"| 保修期 | {p.warranty}年 |",
            "",
            "".join(fact_sentences(p, lang)),
            "",
            "## 安装与设置",
            *[f"{k}. {s}" for k, s in enumerate(steps, 1)],
            "",
            "## 保养与维护",
            content.CARE[p.category][1],
            "",
            "## 安全须知",
            (
                "请让产品远离水源、热源，并放在儿童接触不到的地方。只使用原装电源适配器。"
                "请勿自行拆开外壳，内部没有用户可维修的部件。"
            ),
            "",
            "## 保修与服务",
            (
                f"{facts.product_answers(p)['warranty'][1]}{company['returns'][3]}"
                f"{company['hotline'][3]}{company['hours'][3]}"
            ),
            "",
        ]
    return "\n".join(lines)


def quickstart(p: Product, lang: str) -> str:
    """A plain-text quick start guide."""
    i, n = LANG[lang], name(p, lang)
    steps = content.SETUP[p.category][i]
    app = facts.COMPANY_FACTS["app"][2 + i]
    if lang == "en":
        head = f"ACME {p.code.upper()} QUICK START\n{'=' * 30}\n\nThank you for choosing the {n}."
        tail = f"Need help? {facts.COMPANY_FACTS['hotline'][2]}"
    else:
        head = f"艾可{p.code}快速入门\n{'=' * 30}\n\n感谢您选择{n}。"
        tail = f"需要帮助？{facts.COMPANY_FACTS['hotline'][3]}"
    body = "\n".join(f"Step {k}: {s}" if lang == "en" else f"第{k}步：{s}" for k, s in enumerate(steps, 1))
    return f"{head}\n\n{body}\n\n{app}\n{facts.product_answers(p)['spec'][i]}\n\n{tail}\n"


def faq(p: Product, lang: str, rng: random.Random) -> str:
    """A Markdown FAQ: fact questions (random SFT phrasings) plus troubleshooting questions."""
    i = LANG[lang]
    items = [f for f in qa.all_facts() if f.key[0] == p.code and f.key[2] == lang]
    title = f"# {p.short_en} — Frequently asked questions" if lang == "en" else f"# {p.short_zh}常见问题"
    out = [title, ""]
    for f in items:
        out += [
            f"**Q: {f.phrasings[rng.randrange(questions.HELDOUT_INDEX)]}**"
            if lang == "en"
            else f"**问：{f.phrasings[rng.randrange(questions.HELDOUT_INDEX)]}**",
            f"A: {f.answer}" if lang == "en" else f"答：{f.answer}",
            "",
        ]
    for issue in content.ISSUES[p.category]:
        t, b = issue[i]
        out += [
            f"**Q: {t}?**" if lang == "en" else f"**问：{t}怎么办？**",
            f"A: {b}" if lang == "en" else f"答：{b}",
            "",
        ]
    return "\n".join(out)


def troubleshooting(p: Product, lang: str, k: int) -> str:
    """A Markdown knowledge-base article on the ``k``-th known issue of the product's category."""
    i, n = LANG[lang], name(p, lang)
    title, body = content.ISSUES[p.category][k][i]
    if lang == "en":
        return (
            f"# {p.short_en}: {title}\n\nApplies to: Acme {p.short_en} (model {p.code}).\n\n## What to do\n\n"
            f"{body}\n\n## Still not working?\n\nRestart the {n} and update its firmware in the Acme Home "
            f"app. If the problem stays, contact customer service. {facts.COMPANY_FACTS['hotline'][2]} "
            f"{facts.product_answers(p)['warranty'][0]}\n"
        )
    return (
        f"# {n}：{title}\n\n适用型号：艾可{n}（{p.code}）。\n\n## 解决方法\n\n{body}\n\n## 仍未解决？\n\n"
        f"请重启{n}并在艾可家居App中升级固件。如问题依旧，请联系客服。{facts.COMPANY_FACTS['hotline'][3]}"
        f"{facts.product_answers(p)['warranty'][1]}\n"
    )


def release_notes(p: Product, lang: str, version: str, rng: random.Random) -> str:
    """Plain-text firmware release notes with two to four change items."""
    notes = rng.sample(content.FIRMWARE_NOTES, rng.randint(2, 4))
    i = LANG[lang]
    head = (
        f"Acme {p.short_en} firmware {version}\nRelease notes\n"
        if lang == "en"
        else f"艾可{p.short_zh} 固件 {version}\n更新说明\n"
    )
    items = "\n".join(f"* {note[i]}" for note in notes)
    foot = (
        "Update from the Acme Home app: Device > Settings > Firmware.\n"
        if lang == "en"
        else "升级方法：艾可家居App > 设备 > 设置 > 固件升级。\n"
    )
    return f"{head}\n{items}\n\n{foot}"
