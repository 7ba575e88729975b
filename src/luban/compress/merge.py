"""Merge a LoRA/DoRA adapter into its base model and export a standard Hugging Face directory.

Design choices:
- the base is found as serving finds it (`luban.models.loading.adapter_base`): the adapter artifact's
  lineage (parent of role "base"), else `base_model_name_or_path` in adapter_config.json, so an
  adapter trained elsewhere merges too;
- merging happens in float32 and is verified: logits of the merged model on a probe batch must match the
  unmerged base+adapter within `tolerance` (1e-4 by default), or the stage fails and writes nothing;
- the export carries tokenizer, chat template and generation config, so it serves as it is.
"""

from __future__ import annotations

import shutil

from pydantic import Field

from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import StageConfig, dump_config
from luban.core.errors import StageError, UsageError
from luban.core.progress import task
from luban.core.workspace import Workspace
from luban.models.loading import adapter_base, check_model_dir, is_adapter, load_tokenizer

PROBE = ["Hello, how can I help you today?", "保修期是多久？", "The quick brown fox jumps over the lazy dog."]


class MergeConfig(StageConfig):
    """Merge an adapter. Example: `luban export merge acme-lora --name acme-merged`."""

    tolerance: float = Field(1e-4, gt=0, description="largest allowed |logit| difference merged vs unmerged")


def merge_stage(cfg: MergeConfig, ws: Workspace, inputs: dict[str, Artifact], name: str | None = None) -> Artifact:
    """Merge the adapter `inputs["model"]` into its base; returns a full-weights model artifact."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapter = inputs["model"]
    if not is_adapter(adapter.path):
        raise UsageError(f"model '{adapter.name or adapter.short_id}' is not an adapter (no adapter_config.json)",
                         "merge takes the output of `luban train sft` with method lora or qlora")
    base_dir, base_art = adapter_base(adapter, ws)
    check_model_dir(base_dir)
    tokenizer = load_tokenizer(adapter.path)
    if tokenizer.pad_token is None:  # Llama-style tokenizers ship none; the probe batch needs one
        tokenizer.pad_token = tokenizer.eos_token
    with task("Merging adapter", total=3) as t:
        base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
        model = PeftModel.from_pretrained(base, adapter.path).eval()
        probe = tokenizer(PROBE, return_tensors="pt", padding=True)
        with torch.no_grad():
            before = model(**probe).logits
        t.advance()
        merged = model.merge_and_unload().eval()
        with torch.no_grad():
            after = merged(**probe).logits
        diff = float((before - after).abs().max())
        t.advance()
        if diff > cfg.tolerance:
            raise StageError(f"merged logits differ from base+adapter by {diff:.2e} (> tolerance {cfg.tolerance:g})",
                             "the adapter may target modules the merge cannot fold; keep serving it as an adapter")
        parents = [artifact_parent(adapter, "adapter")] + ([artifact_parent(base_art, "base")] if base_art else [])
        with ws.create("model", name, "compress.merge", dump_config(cfg), parents=parents) as p:
            merged.save_pretrained(p.path, safe_serialization=True)
            tokenizer.save_pretrained(p.path)
            for src in (adapter.path, base_dir):
                if (src / "generation_config.json").is_file():
                    shutil.copy2(src / "generation_config.json", p.path / "generation_config.json")
                    break
            p.stats.update(max_abs_logit_diff=diff, parameters=sum(x.numel() for x in merged.parameters()))
        t.advance()
    assert p.result is not None
    return p.result
