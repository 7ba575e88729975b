"""Tiny-model kit: a byte-level BPE tokenizer trained on your text plus a small, randomly initialised
causal LM of a real architecture (Llama or Qwen2), saved as a standard Hugging Face directory.

Tests and the demo use it in place of hub weights. Nothing here is special-cased downstream: the
directory has config.json, model.safetensors, tokenizer.json, tokenizer_config.json (with the chat
template) and generation_config.json, exactly what a Qwen2.5 or Llama 3 download has, and it is
loaded by the same `from_pretrained(path)` calls.

The kit takes texts (`build_tiny`) or a dataset artifact (`tiny_stage`), never raw files: reading
files is the data layer's work (`luban models tiny --corpus` reads them with `luban.data.readers`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import StageConfig, dump_config
from luban.core.errors import UsageError
from luban.core.shards import read_split
from luban.core.workspace import Workspace
from luban.models.chat_templates import get_template, template_text

# Architecture sizes. `demo` trains usefully on 2 CPU cores in about a minute; `bench50m` is the
# ~50M-parameter model of the serving benchmark.
SIZES: dict[str, dict[str, int]] = {
    "test": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=1024),
    "demo": dict(hidden_size=256, intermediate_size=704, num_hidden_layers=4, num_attention_heads=8,
                 num_key_value_heads=4, vocab_size=4096),
    "bench50m": dict(hidden_size=512, intermediate_size=1536, num_hidden_layers=10, num_attention_heads=8,
                     num_key_value_heads=4, vocab_size=32000),
}


class TinyConfig(StageConfig):
    """A tiny model. Its tokenizer trains on the `text` column of the `corpus` dataset (role `corpus`,
    as made by `data.curate`); Python callers may pass texts instead (`tiny_stage(..., texts=...)`)."""

    arch: Literal["llama", "qwen2"] = "qwen2"
    size: Literal["test", "demo", "bench50m"] = "demo"
    vocab_size: int | None = Field(None, ge=300, description="override the size's vocabulary")
    max_position_embeddings: int = Field(1024, ge=64)
    hidden_size: int | None = Field(None, ge=16, description="override the size's hidden width")
    num_hidden_layers: int | None = Field(None, ge=1, description="override the size's depth")
    sliding_window: int | None = Field(None, ge=1, description="qwen2 only: upper half of the layers attend "
                                       "to this many last positions (Qwen2's use_sliding_window)")
    split: str = "train"
    text_column: str = "text"
    seed: int = 0


def tiny_stage(cfg: TinyConfig, ws: Workspace, inputs: dict[str, Artifact] | None = None,
               name: str | None = None, *, texts: Iterable[str] = ()) -> Artifact:
    """Pipeline stage: build a tiny model whose tokenizer learns the corpus dataset `inputs["corpus"]`
    (its `text_column` of `split`) and/or `texts`. Lineage: the corpus dataset, role "corpus"."""
    inputs = inputs or {}
    corpus: list[str] = [t for t in texts if t]
    parents = []
    if "corpus" in inputs:
        art = inputs["corpus"]
        table = read_split(art, cfg.split)
        if cfg.text_column not in table.column_names:
            raise UsageError(f"dataset '{art.name or art.short_id}' has columns {table.column_names} but no "
                             f"text_column '{cfg.text_column}'", "set text_column to the column holding documents")
        corpus.extend(t for t in table.column(cfg.text_column).to_pylist() if t)
        parents.append(artifact_parent(art, "corpus"))
    if not corpus:
        raise UsageError("models.tiny has no corpus to train its tokenizer on",
                         "give it a curated dataset: `from: {corpus: <dataset>}`")
    with ws.create("model", name, "models.tiny", dump_config(cfg), parents=parents) as pending:
        stats = build_tiny(corpus, pending.path, arch=cfg.arch, size=cfg.size, vocab_size=cfg.vocab_size,
                           max_position_embeddings=cfg.max_position_embeddings, seed=cfg.seed,
                           hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_hidden_layers,
                           sliding_window=cfg.sliding_window)
        pending.stats.update(stats)
    assert pending.result is not None
    return pending.result


def train_tokenizer(texts: Iterable[str], vocab_size: int, template: str) -> Any:
    """Byte-level BPE (as in GPT-2, Llama 3, Qwen2) trained on `texts`, wrapped as a fast HF tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    spec = get_template(template)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(spec.specials),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=spec.bos, eos_token=spec.end_of_turn,
                                   pad_token=spec.pad, unk_token=None, model_max_length=1 << 30,
                                   clean_up_tokenization_spaces=False)
    fast.chat_template = template_text(template)
    return fast


def build_tiny(texts: Iterable[str], out: Path, arch: str = "qwen2", size: str = "demo",
               vocab_size: int | None = None, max_position_embeddings: int = 1024, seed: int = 0,
               hidden_size: int | None = None, num_hidden_layers: int | None = None,
               sliding_window: int | None = None) -> dict[str, Any]:
    """Train the tokenizer, build the model, save both to `out`; returns stats.

    `hidden_size` overrides the size's width (the MLP keeps its ratio, heads stay 64 wide or fewer).
    `sliding_window` (qwen2 only) makes the upper half of the layers sliding-window attention over that
    many positions and the lower half full attention (`max_window_layers`), as Qwen2's config allows."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig, LlamaConfig, Qwen2Config

    if sliding_window is not None and arch != "qwen2":
        raise UsageError(f"arch '{arch}' has no sliding-window attention", "use arch qwen2 with sliding_window")
    texts = [t for t in texts if t and t.strip()]
    if not texts:
        raise UsageError("the corpus holds no text", "point --corpus at text, markdown or JSON lines files")
    dims = dict(SIZES[size])
    if vocab_size:
        dims["vocab_size"] = vocab_size
    if hidden_size:
        ratio = dims["intermediate_size"] / dims["hidden_size"]
        heads = max(1, min(dims["num_attention_heads"], hidden_size // 32))
        while hidden_size % heads:
            heads -= 1
        kv = max(1, min(dims["num_key_value_heads"], heads))
        while heads % kv:
            kv -= 1
        dims.update(hidden_size=hidden_size, intermediate_size=int(hidden_size * ratio) // 8 * 8,
                    num_attention_heads=heads, num_key_value_heads=kv)
    if num_hidden_layers:
        dims["num_hidden_layers"] = num_hidden_layers
    template = "llama3" if arch == "llama" else "chatml"
    spec = get_template(template)
    tokenizer = train_tokenizer(texts, dims["vocab_size"], template)
    common = dict(dims, vocab_size=len(tokenizer), max_position_embeddings=max_position_embeddings,
                  tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id,
                  eos_token_id=tokenizer.convert_tokens_to_ids(spec.end_of_turn),
                  bos_token_id=tokenizer.bos_token_id, torch_dtype="float32")
    if sliding_window is not None:
        common.update(use_sliding_window=True, sliding_window=sliding_window,
                      max_window_layers=dims["num_hidden_layers"] // 2)
    config = LlamaConfig(**common) if arch == "llama" else Qwen2Config(**common)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    stop_ids = sorted({tokenizer.convert_tokens_to_ids(spec.end_of_turn), tokenizer.convert_tokens_to_ids(spec.eos)})
    model.generation_config = GenerationConfig(eos_token_id=stop_ids, pad_token_id=tokenizer.pad_token_id,
                                               bos_token_id=tokenizer.bos_token_id, do_sample=False)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    n_params = sum(p.numel() for p in model.parameters())
    return {"arch": arch, "size": size, "parameters": n_params, "vocab_size": len(tokenizer),
            "chat_template": template, "corpus_texts": len(texts),
            **({"sliding_window": sliding_window} if sliding_window is not None else {})}
