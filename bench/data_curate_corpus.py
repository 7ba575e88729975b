"""The benchmark corpus of bench/data_curate_peers.py: mixed Chinese/English documents with known
injected near-duplicates and junk, generated deterministically (same seed -> same bytes).

Design choices:
- unique documents are random draws from a large vocabulary (English: stop words mixed with
  ~3,000 pseudo-words; Chinese: ~600 frequent Han characters with punctuation), so two unique
  documents share almost no 5-gram shingles and any removal of one is a dedup or filter error;
- a near-duplicate copies a base document (>= 100 words or >= 200 characters) and replaces one
  token in 200 (at least one): its 5-gram Jaccard similarity to the base is >= 0.9;
- junk (too short, or one line repeated) is what every peer's quality filters drop.

Truth file `<folder>.truth.json`: {"pairs": [[base_id, copy_id], ...], "junk": [ids], "n": N}. Ids run 0..N-1 in file order.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

STOP = ["the", "be", "to", "of", "and", "that", "have", "with", "a", "in", "is", "it", "for", "on", "as", "was", "at", "by", "this", "from", "or", "an", "are"]
HAN = ("的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
       "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
       "日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政"
       "美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员"
       "解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件"
       "计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象")


def _pseudo_words(rng: random.Random, n: int) -> list[str]:
    syll = ["ka", "lo", "mi", "ren", "sta", "vor", "pel", "tu", "gra", "ni", "sho", "bel", "dan", "qu", "ter"]
    return ["".join(rng.choice(syll) for _ in range(rng.randint(2, 3))) for _ in range(n)]


def english(rng: random.Random, vocab: list[str]) -> list[str]:
    """Tokens of an English-like document: sentences of 8-16 words, a third of them stop words."""
    out: list[str] = []
    for _ in range(rng.randint(13, 24)):
        sent = [rng.choice(STOP) if rng.random() < 0.33 else rng.choice(vocab) for _ in range(rng.randint(8, 16))]
        sent[0] = sent[0].capitalize()
        sent[-1] += "."
        out += sent
    return out


def chinese(rng: random.Random) -> list[str]:
    """Characters of a Chinese document: 200-600 characters with a full stop every 12-24."""
    out: list[str] = []
    for _ in range(rng.randint(12, 30)):
        out += [rng.choice(HAN) for _ in range(rng.randint(12, 24))] + ["。"]
    return out


def render(tokens: list[str], zh: bool) -> str:
    return "".join(tokens) if zh else " ".join(tokens)


def mutate(rng: random.Random, tokens: list[str], zh: bool, vocab: list[str]) -> list[str]:
    """Replace one token per 200 (at least one): at most 5 of >= 100 shingles change, Jaccard >= 0.9."""
    out = list(tokens)
    for _ in range(max(1, len(out) // 200)):
        i = rng.randrange(1, len(out) - 1)
        while out[i] == "。" or out[i].endswith("."):
            i = rng.randrange(1, len(out) - 1)
        out[i] = rng.choice(HAN) if zh else rng.choice(vocab)
    return out


def truth_path(folder: Path) -> Path:
    """Beside the corpus folder, not in it: peers load every file of the folder as data."""
    return folder.parent / f"{folder.name}.truth.json"


def generate(folder: Path, n: int, seed: int = 0, dup_frac: float = 0.05, junk_frac: float = 0.05,
             shards: int = 8) -> dict:
    """Write `n` documents as `shards` JSON-lines files `part-NNNN.jsonl` in `folder`, and the truth beside it."""
    rng = random.Random(seed)
    vocab = _pseudo_words(rng, 3000)
    n_dup, n_junk = int(n * dup_frac), int(n * junk_frac)
    n_unique = n - n_dup - n_junk
    docs: list[str] = []
    kinds: list[tuple[list[str], bool]] = []
    for i in range(n_unique):
        zh = i % 2 == 0
        toks = chinese(rng) if zh else english(rng, vocab)
        kinds.append((toks, zh))
        docs.append(render(toks, zh))
    pairs = []
    for base in rng.sample(range(n_unique), n_dup):
        toks, zh = kinds[base]
        pairs.append([base, len(docs)])
        docs.append(render(mutate(rng, toks, zh, vocab), zh))
    junk = []
    for j in range(n_junk):
        junk.append(len(docs))
        docs.append(rng.choice(["ok", "点击这里", "read more"]) if j % 2 else "\n".join(["buy now buy now 立即购买"] * 30))
    order = list(range(len(docs)))
    rng.shuffle(order)  # duplicates are not next to their base
    new_id = {old: new for new, old in enumerate(order)}
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-len(order) // shards)
    for s in range(shards):
        with open(folder / f"part-{s:04d}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"id": str(new_id[old]), "text": docs[old]}, ensure_ascii=False) + "\n" for old in order[s * per:(s + 1) * per])
    truth = {"n": len(docs), "pairs": [[new_id[a], new_id[b]] for a, b in pairs], "junk": [new_id[j] for j in junk]}
    truth_path(folder).write_text(json.dumps(truth), encoding="utf-8")
    return truth
