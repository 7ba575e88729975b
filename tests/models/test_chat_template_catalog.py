"""The chat-template catalog: every family's template masks exactly the assistant answers plus its stop token,
and a model directory without a template gets its family's from the catalog."""

from __future__ import annotations

import json
import shutil

import pytest

from luban.models.chat_templates import (
    FAMILY_TEMPLATES,
    TEMPLATES,
    get_template,
    template_for_model,
    template_text,
)
from luban.models.loading import load_tokenizer
from luban.models.tiny import train_tokenizer

CONVO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"},
         {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Warranty?"},
         {"role": "assistant", "content": "Two years."}]
TEXT = ["Hello there, the warranty is two years. Be brief. 保修期两年。"] * 20


@pytest.fixture(scope="module")
def byte_tokenizer():
    return train_tokenizer(TEXT, 300, "chatml")


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_masks_assistant_answers_and_stop_token(name, byte_tokenizer):
    import copy

    spec = get_template(name)
    tok = copy.deepcopy(byte_tokenizer)
    tok.add_special_tokens({"additional_special_tokens": list(spec.specials)})
    tok.eos_token, tok.bos_token = spec.end_of_turn, spec.bos
    tok.chat_template = template_text(name)
    enc = tok.apply_chat_template(CONVO, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = enc["input_ids"], enc["assistant_masks"]
    trained = tok.decode([t for t, m in zip(ids, mask, strict=True) if m])
    assert trained.replace(" ", "") == f"Hello!{spec.end_of_turn}Twoyears.{spec.end_of_turn}".replace(" ", "")
    rendered = tok.apply_chat_template(CONVO, tokenize=False)
    assert all(m["content"] in rendered for m in CONVO)
    prompt = tok.apply_chat_template(CONVO[:2], tokenize=False, add_generation_prompt=True)
    assert prompt.startswith(tok.apply_chat_template(CONVO[:2], tokenize=False))


def test_every_family_maps_to_a_catalog_template():
    assert set(FAMILY_TEMPLATES.values()) <= set(TEMPLATES)
    assert {"qwen2", "qwen3", "llama", "mistral", "glm4", "baichuan", "deepseek_v3"} <= set(FAMILY_TEMPLATES)


def test_model_without_template_gets_its_family_template(tiny_llama_dir, tmp_path):
    from luban.train.preflight import resolve_template

    bare = tmp_path / "m"
    shutil.copytree(tiny_llama_dir, bare)
    (bare / "chat_template.jinja").unlink(missing_ok=True)
    cfg = json.loads((bare / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (bare / "tokenizer_config.json").write_text(json.dumps(cfg))
    tok = load_tokenizer(bare)
    assert not tok.chat_template
    assert template_for_model(bare) == "llama3"
    resolve_template(tok, bare, None)
    assert tok.chat_template == template_text("llama3")
