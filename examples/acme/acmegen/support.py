"""Support dialogues (JSONL), FAQ tables (CSV) and community forum posts.

This is where customers talk, so this is where fake personal data lands: phone numbers,
mail addresses, resident IDs for invoices and bank cards for refunds. Every value goes
through the ``Ledger`` so the test can find and re-check it.
"""

from __future__ import annotations

import csv
import io
import json
import random

from . import content, facts, pii, qa, questions

GREET = {
    "en": (
        "Hello, thanks for contacting Acme support. How can I help?",
        "Hi! This is Acme customer service.",
    ),
    "zh": ("您好，这里是艾可客服，请问有什么可以帮您？", "您好！艾可客服很高兴为您服务。"),
}
CLOSE = {
    "en": ("Is there anything else I can help with?", "Have a nice day!"),
    "zh": ("请问还有其他可以帮您的吗？", "祝您生活愉快！"),
}


def _fact_turns(rng: random.Random, lang: str) -> list[tuple[str, str]]:
    f = rng.choice([f for f in qa.all_facts() if f.key[2] == lang])
    q = f.phrasings[rng.randrange(questions.HELDOUT_INDEX)]
    sep = " " if lang == "en" else ""
    return [("user", q), ("assistant", f"{f.answer}{sep}{rng.choice(CLOSE[lang])}")]


def _issue_turns(rng: random.Random, lang: str) -> list[tuple[str, str]]:
    p = rng.choice(facts.PRODUCTS)
    i = 0 if lang == "en" else 1
    title, body = rng.choice(content.ISSUES[p.category])[i]
    n = p.short_en if lang == "en" else p.short_zh
    q = f"My {n}: {title.lower()}. What should I do?" if lang == "en" else f"我的{n}{title}，怎么办？"
    return [("user", q), ("assistant", body)]


def _refund_turns(rng: random.Random, lang: str, ledger: pii.Ledger, file: str) -> list[tuple[str, str]]:
    who = pii.person_en(rng) if lang == "en" else pii.person_zh(rng)
    phone = ledger.add("phones", pii.mobile(rng), file)
    card = ledger.add("bank_cards", pii.bank_card(rng), file)
    ret = facts.COMPANY_FACTS["returns"][2 if lang == "en" else 3]
    if lang == "en":
        return [
            ("user", "I want to return my order and get a refund."),
            ("assistant", f"{ret} May I have your name and phone number?"),
            ("user", f"{who}, {phone}. Please refund to my card {card}."),
            ("assistant", "Thank you. Refunds go back to the original payment method within 5 working days."),
        ]
    return [
        ("user", "我想退货退款。"),
        ("assistant", f"{ret}请提供您的姓名和手机号。"),
        ("user", f"我叫{who}，手机{phone}，退款请打到银行卡{card}。"),
        ("assistant", "好的，收到商品后5个工作日内原路退款。"),
    ]


def _invoice_turns(rng: random.Random, lang: str, ledger: pii.Ledger, file: str) -> list[tuple[str, str]]:
    who = pii.person_en(rng) if lang == "en" else pii.person_zh(rng)
    rid = ledger.add("id_numbers", pii.resident_id(rng), file)
    mail = ledger.add("emails", pii.email(rng, who if lang == "en" else "kehu"), file)
    if lang == "en":
        return [
            ("user", "I need a VAT invoice for my order."),
            ("assistant", "Sure. Please give the name and ID number for the invoice and an email address."),
            ("user", f"Name {who}, ID {rid}, email {mail}"),
            ("assistant", "Done. The invoice will arrive by email within 24 hours."),
        ]
    return [
        ("user", "我需要开发票。"),
        ("assistant", "好的，请提供开票人姓名、身份证号和接收邮箱。"),
        ("user", f"姓名{who}，身份证号{rid}，邮箱{mail}"),
        ("assistant", "已为您提交，发票将在24小时内发送到邮箱。"),
    ]


def dialogue_file(
    rng: random.Random, lang: str, file: str, ledger: pii.Ledger, n: int
) -> list[dict[str, object]]:
    """``n`` conversations; most as a ``messages`` list, some as a flat ``text`` transcript."""
    rows: list[dict[str, object]] = []
    for k in range(n):
        kind = rng.choices(("fact", "issue", "refund", "invoice"), weights=(5, 3, 1, 1))[0]
        if kind == "fact":
            turns = _fact_turns(rng, lang)
        elif kind == "issue":
            turns = _issue_turns(rng, lang)
        elif kind == "refund":
            turns = _refund_turns(rng, lang, ledger, file)
        else:
            turns = _invoice_turns(rng, lang, ledger, file)
        turns = [("assistant", rng.choice(GREET[lang])), *turns]
        conv_id = f"{file.rsplit('/', 1)[-1].split('.')[0]}-{k:03d}"
        if rng.random() < 0.25:
            label = {
                "user": "Customer" if lang == "en" else "客户",
                "assistant": "Agent" if lang == "en" else "客服",
            }
            rows.append({"id": conv_id, "text": "\n".join(f"{label[r]}: {c}" for r, c in turns)})
        else:
            rows.append({"id": conv_id, "messages": [{"role": r, "content": c} for r, c in turns]})
    return rows


def jsonl(rows: list[dict[str, object]]) -> str:
    """Rows as JSON Lines, UTF-8 kept readable."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def faq_csv(rng: random.Random) -> str:
    """One FAQ row per fact (a random SFT phrasing) plus troubleshooting rows, as CSV."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "lang", "product", "question", "answer"])
    rows = [
        (f.key[2], f.key[0], f.phrasings[rng.randrange(questions.HELDOUT_INDEX)], f.answer)
        for f in qa.all_facts()
    ]
    for p in facts.PRODUCTS:
        for issue in content.ISSUES[p.category]:
            rows.append(("en", p.code, f"{p.short_en}: {issue[0][0]}?", issue[0][1]))
            rows.append(("zh", p.code, f"{p.short_zh}{issue[1][0]}怎么办？", issue[1][1]))
    for k, row in enumerate(rows, 1):
        w.writerow([f"faq-{k:04d}", *row])
    return buf.getvalue()


REVIEWS = {
    "en": (
        "Bought the {n} last month and it works well.",
        "Setup took ten minutes with the app.",
        "The {n} is quieter than my old one.",
        "Customer service answered quickly.",
        "I wish the app had a dark mode.",
        "Honestly the {n} is worth the price.",
        "Had one connection problem, fixed after a firmware update.",
        "My parents use the {n} every day.",
    ),
    "zh": (
        "上个月买了{n}，用起来很不错。",
        "用App设置十分钟就搞定了。",
        "{n}比我以前那台安静多了。",
        "客服回复很及时。",
        "希望App能加个深色模式。",
        "说实话{n}物有所值。",
        "遇到过一次连接问题，升级固件后就好了。",
        "家里老人每天都在用{n}。",
    ),
}


def forum_post(rng: random.Random, lang: str, file: str, ledger: pii.Ledger) -> str:
    """A community thread: a few short reviews, sometimes a seller leaving contact details."""
    p = rng.choice(facts.PRODUCTS)
    n = p.short_en if lang == "en" else p.short_zh
    title = f"Thread: my experience with the {n}" if lang == "en" else f"主题：{n}使用体验"
    lines = [title, ""]
    for _ in range(rng.randint(3, 6)):
        user = f"user{rng.randrange(1000, 9999)}"
        lines.append(f"[{user}] {rng.choice(REVIEWS[lang]).format(n=n)}")
    if rng.random() < 0.5:
        phone = ledger.add("phones", pii.mobile(rng), file)
        who = pii.person_en(rng) if lang == "en" else pii.person_zh(rng)
        mail = ledger.add("emails", pii.email(rng, who if lang == "en" else "seller"), file)
        lines.append(
            f"[{who}] Selling my used {n}, call {phone} or mail {mail}."
            if lang == "en"
            else f"[{who}] 转让二手{n}，电话{phone}，邮箱{mail}。"
        )
    return "\n".join(lines) + "\n"
