"""Dataset artifacts -> tokenized datasets: schema checks and the assistant-only label mask."""

from __future__ import annotations

import pytest
from train_fixtures import QA, chat_rows, make_dataset

from luban.core.errors import UsageError
from luban.models.loading import load_tokenizer
from luban.train import preflight
from luban.train.datasets import load_split, roles_in, tokenize_chat, tokenize_text


def test_label_mask_of_a_real_batch_trains_only_on_assistant_text(ws, base, chat_data):
    """Decode the trained tokens of a collated (packed, padding-free) batch: exactly the assistant answers,
    each followed by the end-of-turn token, and nothing of the system or user turns."""
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    tok = load_tokenizer(base.path)
    template = preflight.training_template(tok)
    ds = tokenize_chat(load_split(chat_data, "chat", "sft"), tok, template)
    collate = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id, padding_free=True)
    batch = collate([ds[i] for i in range(6)])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    trained = tok.decode(ids[labels != -100])
    expected = "".join(f"{QA[i % 3][1]}<|im_end|>" for i in range(6))
    assert trained == expected
    untrained = tok.decode(ids[labels == -100])
    assert "Acme assistant" in untrained and QA[0][0] in untrained
    assert "warranty of the X100" not in trained


def test_llama3_template_masks_header_and_trains_eot(ws, tiny_llama_dir):
    tok = load_tokenizer(tiny_llama_dir)
    ds = make_dataset(ws, "c", chat_rows(3))
    out = tokenize_chat(load_split(ds, "chat", "sft"), tok, preflight.training_template(tok))
    row = out[0]
    trained = tok.decode([t for t, lab in zip(row["input_ids"], row["labels"]) if lab != -100])
    assert trained == QA[0][1] + "<|eot_id|>"


def test_schema_that_does_not_fit_names_columns(ws):
    ds = make_dataset(ws, "wrong", [{"instruction": "hi", "output": "hello"}])
    with pytest.raises(UsageError, match=r"has columns \['instruction', 'output'\] but the sft recipe needs 'messages'"):
        load_split(ds, "chat", "sft")


def test_text_documents_end_with_eos(ws, base):
    tok = load_tokenizer(base.path)
    ds = make_dataset(ws, "t", [{"text": "hello world"}, {"text": "  "}])
    out = tokenize_text(load_split(ds, "text", "pretrain"), tok)
    assert len(out) == 1 and out[0]["input_ids"][-1] == tok.eos_token_id


def test_roles_in_finds_each_role_once(ws):
    ds = load_split(make_dataset(ws, "c", chat_rows(4)), "chat", "sft")
    assert set(roles_in(ds)) == {"system", "user", "assistant"}
