import json

import pytest
import torch

from luban.models.loading import load_causal_lm, load_tokenizer


def test_tiny_dir_is_a_standard_hf_directory(tiny_model_dir):
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "generation_config.json"} <= names
    cfg = json.loads((tiny_model_dir / "config.json").read_text())
    assert cfg["model_type"] == "qwen2" and cfg["architectures"] == ["Qwen2ForCausalLM"]


def test_loads_through_auto_classes_and_generates(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = tok.apply_chat_template([{"role": "user", "content": "保修期多久?"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    out = model.generate(**ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > ids["input_ids"].shape[1]


def test_tokenizer_round_trips_chinese_and_english(tiny_model_dir):
    tok = load_tokenizer(tiny_model_dir)
    text = "X100扫地机器人的保修期为2年。 Returns within 30 days!"
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text


def test_chat_template_marks_assistant_and_stops(tiny_model_dir, tiny_llama_dir):
    for d, eot in ((tiny_model_dir, "<|im_end|>"), (tiny_llama_dir, "<|eot_id|>")):
        tok = load_tokenizer(d)
        msgs = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"}]
        enc = tok.apply_chat_template(msgs, return_assistant_tokens_mask=True, return_dict=True)
        trained = tok.decode([i for i, m in zip(enc["input_ids"], enc["assistant_masks"]) if m])
        assert trained == "hello there" + eot
        gen = json.loads((d / "generation_config.json").read_text())
        assert tok.convert_tokens_to_ids(eot) in gen["eos_token_id"]


def test_llama_arch(tiny_llama_dir):
    model = load_causal_lm(tiny_llama_dir)
    assert model.config.model_type == "llama" and model.device == torch.device("cpu")


TEXTS = ["Acme Robotics makes the X100 robot vacuum.", "艾可机器人公司生产X100扫地机器人。"] * 20


def test_sliding_window_option_mixes_window_and_full_layers(tmp_path):
    from luban.core.errors import UsageError
    from luban.models.tiny import build_tiny

    stats = build_tiny(TEXTS, tmp_path / "sw", arch="qwen2", size="test", vocab_size=400,
                       num_hidden_layers=4, sliding_window=8)
    model = load_causal_lm(tmp_path / "sw")
    assert stats["sliding_window"] == 8 and model.config.sliding_window == 8
    assert model.config.layer_types == ["full_attention"] * 2 + ["sliding_attention"] * 2
    with pytest.raises(UsageError, match="sliding"):
        build_tiny(TEXTS, tmp_path / "x", arch="llama", size="test", sliding_window=8)


def test_tiny_stage_learns_the_corpus_dataset_and_records_it_as_parent(ws):
    import pyarrow as pa

    from luban.core.shards import write_splits
    from luban.models.tiny import TinyConfig, tiny_stage

    with ws.create("dataset", "corpus", "test") as p:
        write_splits(p.path, {"train": pa.table({"text": TEXTS + [None, ""]}), "rejected": pa.table({"text": ["x"]})})
    corpus = p.result
    art = tiny_stage(TinyConfig(size="test", vocab_size=400), ws, {"corpus": corpus}, name="t")
    [parent] = art.manifest.parents
    assert (parent.type, parent.role, parent.id) == ("artifact", "corpus", corpus.id)
    assert art.manifest.stats["corpus_texts"] == len(TEXTS)  # empty and null rows are not documents
    tok = load_tokenizer(art.path)
    assert tok.decode(tok("扫地机器人", add_special_tokens=False)["input_ids"]) == "扫地机器人"


def test_tiny_stage_takes_texts_from_python_callers(ws):
    from luban.models.tiny import TinyConfig, tiny_stage

    art = tiny_stage(TinyConfig(size="test", vocab_size=400), ws, texts=TEXTS)
    assert art.manifest.parents == [] and art.manifest.stats["corpus_texts"] == len(TEXTS)


def test_tiny_stage_without_a_corpus_or_a_text_column_says_what_to_give(ws):
    import pyarrow as pa

    from luban.core.config import build_config
    from luban.core.errors import ConfigError, UsageError
    from luban.core.shards import write_splits
    from luban.models.tiny import TinyConfig, tiny_stage

    with pytest.raises(UsageError, match="no corpus") as e:
        tiny_stage(TinyConfig(size="test"), ws)
    assert "from: {corpus:" in e.value.hint
    with ws.create("dataset", "chat", "test") as p:
        write_splits(p.path, {"train": pa.table({"messages": ["hi"]})})
    with pytest.raises(UsageError, match=r"has columns \['messages'\] but no text_column 'text'"):
        tiny_stage(TinyConfig(size="test"), ws, {"corpus": p.result})
    with pytest.raises(ConfigError, match="unknown key 'corpus'"):  # files are curated first, then given
        build_config(TinyConfig, {"corpus": ["docs/"]})
