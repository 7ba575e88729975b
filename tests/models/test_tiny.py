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


def test_corpus_files_are_read_as_data_curate_reads_them(tmp_path):
    from luban.models.tiny import corpus_files, corpus_texts

    (tmp_path / "faq.md").write_text("# Warranty\n\nThe X100 has a 2-year warranty.\n", encoding="utf-8")
    (tmp_path / "page.html").write_text("<html><body><p>Returns within 30 days.</p></body></html>")
    (tmp_path / "chats.jsonl").write_text(json.dumps({"id": "c-1", "messages": [
        {"role": "user", "content": "保修期多久?"}, {"role": "assistant", "content": "两年。"}]}) + "\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    files = corpus_files([str(tmp_path)])
    assert [f.path.name for f in files] == ["chats.jsonl", "faq.md", "logo.png", "page.html"]
    assert all(len(f.sha256) == 64 for f in files)
    texts = list(corpus_texts(files))
    assert texts == ["保修期多久?\n两年。", "# Warranty\n\nThe X100 has a 2-year warranty.",
                     "Returns within 30 days."]


def test_tiny_stage_records_each_corpus_file_with_its_hash(tmp_path, ws):
    from luban.core.hashing import sha256_file
    from luban.models.tiny import TinyConfig, tiny_stage

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(TEXTS), encoding="utf-8")
    art = tiny_stage(TinyConfig(size="test", vocab_size=400, corpus=[str(corpus)]), ws, name="t")
    [parent] = art.manifest.parents
    assert parent.type == "file" and parent.path == str(corpus) and parent.sha256 == sha256_file(corpus)
    assert art.manifest.stats["corpus_texts"] == 1
