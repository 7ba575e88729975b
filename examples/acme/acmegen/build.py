"""Assemble the clean base corpus: every document with its path, before any dirt is added.

Paths are relative to ``raw/``. Dialogue files stay as row lists until the end so that
unsafe turns can be added without breaking the JSON.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from . import dirt, docs, facts, pii, policies, support, web

LANGS = ("en", "zh")
FIRMWARE = ("1.0.3", "1.2.0", "2.0.1")


@dataclass
class Doc:
    """One raw file: its text, the language it is written in and, for JSONL, its rows."""

    path: str
    text: str
    lang: str
    encoding: str = "utf-8"
    rows: list[dict[str, object]] = field(default_factory=list)
    has_pii: bool = False


def base_corpus(rng: random.Random, ledger: pii.Ledger) -> list[Doc]:
    """All clean documents, in a fixed order."""
    out: list[Doc] = []
    for lang in LANGS:
        for p in facts.PRODUCTS:
            slug = p.code.lower().replace(" ", "_")
            out.append(Doc(f"manuals/{lang}/{slug}_manual.md", docs.manual(p, lang), lang))
            out.append(Doc(f"manuals/{lang}/{slug}_quickstart.txt", docs.quickstart(p, lang), lang))
            out.append(Doc(f"faq/{lang}/{slug}_faq.md", docs.faq(p, lang, rng), lang))
            for k in range(3):
                out.append(Doc(f"kb/{lang}/{slug}_issue{k + 1}.md", docs.troubleshooting(p, lang, k), lang))
            for ver in FIRMWARE:
                text = docs.release_notes(p, lang, ver, rng)
                out.append(Doc(f"release_notes/{slug}/{lang}_fw_{ver}.txt", text, lang))
            out.append(Doc(f"web/{lang}/products/{slug}.html", web.product_page(p, lang, rng), lang))
            title, body = policies.launch_news(p, lang)
            out.append(
                Doc(
                    f"web/{lang}/news/launch_{slug}.html",
                    web.page(title, body.split("\n\n"), lang, rng),
                    lang,
                )
            )
        for key, texts in policies.POLICIES.items():
            text = texts[0 if lang == "en" else 1]
            if key in ("about", "shipping_policy"):
                title, *paras = text.strip().split("\n\n")
                out.append(Doc(f"web/{lang}/{key}.html", web.page(title, paras, lang, rng), lang))
            else:
                out.append(Doc(f"policies/{lang}/{key}.txt", text, lang))
        for k in range(10):
            path = f"support/{lang}/chats_{k + 1:02d}.jsonl"
            rows = support.dialogue_file(rng, lang, f"raw/{path}", ledger, 12)
            out.append(Doc(path, "", lang, rows=rows, has_pii=True))
        for k in range(20):
            path = f"community/{lang}/thread_{k + 1:03d}.txt"
            out.append(Doc(path, support.forum_post(rng, lang, f"raw/{path}", ledger), lang, has_pii=True))
        for k in range(4):
            out.append(spam_doc(rng, lang, k))
    out.append(Doc("faq/faq.csv", support.faq_csv(rng), "mixed"))
    return out


def spam_doc(rng: random.Random, lang: str, k: int) -> Doc:
    """A whole low-quality file: keyword spam and filler, half of them as HTML pages."""
    lines = [rng.choice(dirt.LOW_QUALITY[lang]) for _ in range(rng.randint(6, 12))]
    if k % 2:
        return Doc(f"spam/{lang}/promo_{k + 1}.html", web.page("!!!", lines, lang, rng), lang)
    return Doc(f"spam/{lang}/promo_{k + 1}.txt", "\n".join(lines) + "\n", lang)
