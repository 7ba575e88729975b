"""Dataset artifacts -> tokenized Hugging Face datasets that TRL trainers take as they are.

Design choices:
- we tokenize ourselves (not inside SFTTrainer) so the label mask is ours, visible and testable: chat rows
  become `input_ids` + `labels` with -100 on every token that is not assistant text, taken from the chat
  template's `{% generation %}` markers (`return_assistant_tokens_mask`);
- the schema is checked first, with a message naming the columns the dataset has and the one the recipe needs
  (the "KeyError: 'messages'" of other trainers);
- pretraining text gets the end-of-text token appended per document, then TRL packs documents into full
  blocks ("wrapped" packing, as in GPT-2/nanoGPT pretraining).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from luban.core.artifact import Artifact
from luban.core.errors import UsageError
from luban.core.shards import read_split

# What each kind of training data must hold, and how to say so.
SCHEMAS: dict[str, dict[str, str]] = {
    "text": {"text": "a string column of documents"},
    "chat": {"messages": "a list of {role, content} messages (OpenAI format)"},
    "preference": {"prompt": "the prompt (string or messages)", "chosen": "the preferred answer",
                   "rejected": "the rejected answer"},
}


def load_split(art: Artifact, kind: str, recipe: str, split: str = "train") -> Any:
    """The split as a `datasets.Dataset`, after checking it has the columns `kind` needs."""
    table = read_split(art, split)
    have = table.column_names
    missing = [c for c in SCHEMAS[kind] if c not in have]
    if missing:
        need = "; ".join(f"'{c}' ({SCHEMAS[kind][c]})" for c in missing)
        raise UsageError(f"dataset '{art.name or art.short_id}' has columns {have} but the {recipe} recipe needs "
                         f"{need}", _hint_for(kind))
    if table.num_rows == 0:
        raise UsageError(f"dataset '{art.name or art.short_id}' split '{split}' is empty", "check the data stage")
    from datasets import Dataset

    return Dataset(table)


def _hint_for(kind: str) -> str:
    return {"text": "build it with `luban data curate` (text corpus)",
            "chat": "build it with `luban data format` from an SFT file (alpaca / sharegpt / messages)",
            "preference": "build it with `luban data format` from a preference file (prompt/chosen/rejected)"}[kind]


def tokenize_chat(ds: Any, tokenizer: Any, chat_template: str | None = None) -> Any:
    """Chat rows -> `input_ids`, `labels` (assistant tokens only) and `length`.

    `chat_template` overrides the tokenizer's for rendering (a training copy with generation markers).
    """

    def encode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"input_ids": [], "labels": [], "length": []}
        for messages in batch["messages"]:
            enc = tokenizer.apply_chat_template(
                clean_messages(messages), tokenize=True, return_dict=True, return_assistant_tokens_mask=True,
                chat_template=chat_template)
            ids = list(enc["input_ids"])
            mask = list(enc["assistant_masks"])
            out["input_ids"].append(ids)
            out["labels"].append([t if m else -100 for t, m in zip(ids, mask, strict=True)])
            out["length"].append(len(ids))
        return out

    return ds.map(encode, batched=True, remove_columns=ds.column_names, desc=None)


def truncate(ds: Any, max_len: int) -> Any:
    """Tokenized rows cut to `max_len` tokens (`input_ids`, `labels`, `length`)."""
    if max(ds["length"], default=0) <= max_len:
        return ds

    def cut(row: dict[str, Any]) -> dict[str, Any]:
        return {"input_ids": row["input_ids"][:max_len], "labels": row["labels"][:max_len],
                "length": min(row["length"], max_len)}

    return ds.map(cut, desc=None)


def tokenize_text(ds: Any, tokenizer: Any, column: str = "text") -> Any:
    """Documents -> `input_ids` with the end-of-text token appended, and `length`."""
    eos = tokenizer.eos_token_id

    def encode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        texts = [t for t in batch[column]]
        ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
        ids = [x + [eos] for x in ids]
        return {"input_ids": ids, "length": [len(x) for x in ids]}

    ds = ds.filter(lambda row: bool(row[column] and row[column].strip()))
    return ds.map(encode, batched=True, remove_columns=ds.column_names)


def clean_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Parquet structs carry every field of every row (e.g. `name: None`); keep role and content."""
    return [{"role": str(m["role"]), "content": str(m.get("content") or "")} for m in messages]


def roles_in(ds: Any, limit: int = 10_000) -> dict[str, list[dict[str, str]]]:
    """Each role the data uses, with one conversation that uses it (for the template pre-flight)."""
    found: dict[str, list[dict[str, str]]] = {}
    for row in ds.select(range(min(limit, len(ds)))):
        msgs = clean_messages(row["messages"])
        for m in msgs:
            found.setdefault(m["role"], msgs)
    return found
