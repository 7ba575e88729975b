"""AIGC labeling after the Measures for Labeling AI-Generated Content and GB 45438-2025 (both in force
from 2025-09-01).

- Explicit label: a notice in the text itself, in the answer's language, at its end (or start); it
  survives copy and export because it is part of the content.
- Implicit label: metadata carrying the attribute (AI-generated), the producer and a content ID. For an
  HTTP answer it travels twice: a response header and a top-level response field, both named `AIGC`
  with the fields `Label`, `ContentProducer` and `ProduceID` [field names: GB 45438-2025's metadata
  example, to be checked against the published text].
Both are on by default and switchable per policy (`labeling.explicit`, `labeling.implicit`).
"""

from __future__ import annotations

import json

from luban.guard.policy import Labeling

HEADER = "AIGC"
FIELD = "aigc"


def implicit_label(cfg: Labeling, content_id: str) -> dict[str, str]:
    """The metadata label of one generated answer."""
    return {"Label": "1", "ContentProducer": cfg.producer, "ProduceID": content_id}


def header_value(label: dict[str, str]) -> str:
    """The label as an HTTP header value (compact JSON, ASCII only)."""
    return json.dumps(label, separators=(",", ":"), ensure_ascii=True)


def notice(cfg: Labeling, lang: str) -> str:
    """The explicit notice in `lang` (falling back to English, then to any configured language)."""
    return cfg.notice.get(lang) or cfg.notice.get("en") or next(iter(cfg.notice.values()), "")


def label_text(cfg: Labeling, text: str, lang: str) -> str:
    """`text` with the explicit notice at the configured position (for a whole, non-streamed text)."""
    if not cfg.explicit:
        return text
    n = notice(cfg, lang)
    return n.lstrip("\n") + "\n\n" + text if cfg.position == "start" else text + n
