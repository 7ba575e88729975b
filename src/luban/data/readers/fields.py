"""Turning one parsed row (a JSON object, a CSV row, a Parquet row) into a record or a quarantine.

When the row has no `text_field`, the text is derived from the common shapes of enterprise
exports, so support chats and FAQ sheets curate without a conversion step: OpenAI `messages`
and ShareGPT `conversations` (the turns' contents, one per line), and question/answer,
instruction/input/output and prompt/response columns (joined by newlines).
"""

from __future__ import annotations

import json
from typing import Any

from luban.data import records as R
from luban.data.readers.source import SourceFile

PAIRS = (("question", "answer"), ("instruction", "input", "output"), ("prompt", "response"), ("query", "response"))


def derive_text(row: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(text, fields used) from a chat or Q&A shaped row, or None."""
    for key, content in (("messages", "content"), ("conversations", "value")):
        turns = row.get(key)
        if isinstance(turns, list) and turns and all(isinstance(t, dict) for t in turns):
            parts = [t.get(content) for t in turns]
            if all(isinstance(p, str) for p in parts):
                return "\n".join(p for p in parts if p), [key]  # type: ignore[misc]
    for names in PAIRS:
        if names[0] in row and names[-1] in row and all(isinstance(row.get(n, ""), str) for n in names):
            return "\n".join(row[n] for n in names if row.get(n)), list(names)
    return None


def row_record(src: SourceFile, row: Any, line: int, text_field: str) -> R.Record:
    """A record from a mapping with a text field; other fields go to `meta` as JSON."""
    if not isinstance(row, dict):
        return src.quarantine(line, f"row is a JSON {type(row).__name__}, not an object", str(row))
    if text_field not in row:
        derived = derive_text(row)
        if derived is not None:
            text, used = derived
            rest = {k: v for k, v in row.items() if k not in used}
            return src.record(text, line, json.dumps(rest, ensure_ascii=False, default=str) if rest else "")
        fields = ", ".join(list(map(str, row))[:10]) or "none"
        return src.quarantine(line, f"missing field '{text_field}' (fields: {fields})",
                              json.dumps(row, ensure_ascii=False, default=str))
    text = row[text_field]
    if not isinstance(text, str):
        return src.quarantine(line, f"field '{text_field}' is {type(text).__name__}, not a string",
                              json.dumps(row, ensure_ascii=False, default=str))
    meta = ""
    if len(row) > 1:
        meta = json.dumps({k: v for k, v in row.items() if k != text_field}, ensure_ascii=False, default=str)
    return src.record(text, line, meta)
