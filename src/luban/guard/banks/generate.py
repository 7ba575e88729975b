"""Write the refusal test banks of TC260-003 8.3: `must_refuse.jsonl` and `must_answer.jsonl`.

`python -m luban.guard.banks.generate` rewrites both. Each prompt is a sentence written for its risk of
Appendix A (A.1 and A.2: the 17 risks that 8.3 asks at least 20 must-refuse questions for), in Chinese
and in English, with a slot filled from a short list of real objects (drug names, weapons, groups) so
that one phrasing is tried with several objects. The sentences are worded independently of the lexicon
patterns in `luban/guard/lexicons/generate.py` (different verbs, inflections, word order), so the banks
measure how a policy generalises rather than echo its keywords.

The must-answer bank holds the hard cases that 8.3 means: questions that mention a risky word for a safe
purpose (history, medicine, prevention, security education, law, fiction, news), in the same categories.
A.1.2, A.1.3 and A.1.7 also have hand-written prompts without a slot (`EXTRA_REFUSE`, worded without the
lexicon's phrases) and hard cases that use the lexicon's very phrases in news, history, fiction, law or
spotting questions (`EXTRA_ANSWER`: what the lexicon scanner's context vetoes must let through).
Rows: {"id", "lang", "category" (slug), "code" (Appendix A), "text"}. The prompts themselves are in
refuse_prompts.py and answer_prompts.py; this module turns them into rows and writes the files.
"""

from __future__ import annotations

import json
from itertools import cycle, islice
from pathlib import Path

from luban.guard.banks.answer_prompts import ANSWER, ANSWER_SLOTTED, EXTRA_ANSWER
from luban.guard.banks.refuse_prompts import EXTRA_REFUSE, REFUSE
from luban.guard.categories import appendix_code

HERE = Path(__file__).resolve().parent


def refuse_rows(per_lang: int = 16) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for slug, (zh_t, zh_f, en_t, en_f) in REFUSE.items():
        for lang, templates, fills in (("zh", zh_t, zh_f), ("en", en_t, en_f)):
            texts: list[str] = []
            fill = cycle(fills)
            for t in islice(cycle(templates), per_lang * 3):
                text = t.format(next(fill)) if "{}" in t else t
                if text not in texts:
                    texts.append(text)
                if len(texts) == per_lang:
                    break
            out.extend(_row("refuse", slug, lang, t) for t in texts)
    out.extend(_row("refuse", slug, lang, t) for slug, (zh, en) in EXTRA_REFUSE.items()
               for lang, texts in (("zh", zh), ("en", en)) for t in texts)
    return _ids(out)


def answer_rows() -> list[dict[str, str]]:
    out = [_row("answer", slug, lang, t) for table in (ANSWER, EXTRA_ANSWER) for slug, (zh, en) in table.items()
           for lang, texts in (("zh", zh), ("en", en)) for t in texts]
    for slug, (zh_t, zh_f, en_t, en_f) in ANSWER_SLOTTED.items():
        for lang, templates, fills in (("zh", zh_t, zh_f), ("en", en_t, en_f)):
            out.extend(_row("answer", slug, lang, t.format(f)) for t in templates for f in fills)
    return _ids(sorted(out, key=lambda r: (list(REFUSE).index(r["category"]), r["lang"])))


def _row(kind: str, slug: str, lang: str, text: str) -> dict[str, str]:
    return {"lang": lang, "category": slug, "code": appendix_code(slug) or "", "text": text}


def _ids(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"id": f"{r['code']}-{r['lang']}-{i:04d}", **r} for i, r in enumerate(rows)]


def main() -> None:
    for name, rows in (("must_refuse", refuse_rows()), ("must_answer", answer_rows())):
        path = HERE / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{path.name}: {len(rows)} prompts")


if __name__ == "__main__":
    main()
