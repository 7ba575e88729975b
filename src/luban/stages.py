"""Registry of stages the pipeline runner and `luban config schema` know, by name.

Each entry is "module:function" and "module:ConfigClass", imported only when used, so that
`luban --help` stays fast and optional layers cost nothing until named. Every stage function has
the signature `fn(cfg, ws, inputs: dict[str, Artifact], name: str | None) -> Artifact`; `inputs`
maps the roles the stage declares (`INPUTS` below) to artifacts named in the spec's `from:`.
Adding a stage is one line here; a spec may also `use:` a "module:ATTR" naming a `StageSpec` of
its own package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from luban.core.errors import NotFoundError
from luban.core.registry import Registry, import_object


@dataclass(frozen=True)
class StageSpec:
    name: str
    function: str  # "module:function"
    config: str  # "module:Class"
    inputs: tuple[str, ...]  # roles, first one is the default for a plain `from: x`
    summary: str

    def load_function(self) -> Any:
        return import_object(self.function, "stage function", self.name)

    def load_config_class(self) -> Any:
        return import_object(self.config, "stage config", self.name)


STAGES: Registry[StageSpec] = Registry("stage", {
    s.name: s
    for s in [
        StageSpec("data.curate", "luban.data.curate:curate", "luban.data.curate:CurateConfig", (),
                  "read raw files, clean, filter, dedup, desensitize -> dataset"),
        StageSpec("data.format", "luban.data.formats:format_stage", "luban.data.formats:FormatConfig", (),
                  "load SFT / preference files, validate and split -> dataset"),
        StageSpec("models.tiny", "luban.models.tiny:tiny_stage", "luban.models.tiny:TinyConfig", ("corpus",),
                  "train a tokenizer and build a small random causal LM -> model"),
        StageSpec("models.import", "luban.models.loading:import_stage", "luban.models.loading:ImportConfig", (),
                  "register a local Hugging Face model directory -> model"),
        StageSpec("train.pretrain", "luban.train.pretrain:pretrain", "luban.train.pretrain:PretrainConfig",
                  ("model", "data"), "continued pretraining with packing -> model"),
        StageSpec("train.sft", "luban.train.sft:sft", "luban.train.sft:SFTConfig", ("model", "data"),
                  "supervised fine-tuning (full / LoRA / QLoRA) -> model"),
        StageSpec("train.dpo", "luban.train.dpo:dpo", "luban.train.dpo:DPOConfig", ("model", "data"),
                  "preference optimisation: DPO / IPO / ORPO / SimPO / CPO on prompt-chosen-rejected -> model"),
        StageSpec("train.reward", "luban.train.reward:reward", "luban.train.reward:RewardConfig", ("model", "data"),
                  "reward model (sequence classifier) on prompt-chosen-rejected pairs -> model"),
        StageSpec("train.grpo", "luban.train.grpo:grpo", "luban.train.grpo:GRPOConfig",
                  ("model", "data", "reward_model"), "GRPO with rule rewards and/or a reward model -> model"),
        StageSpec("train.distill", "luban.train.distill:distill", "luban.train.distill:DistillConfig",
                  ("model", "data", "teacher"), "logit distillation of a teacher into a smaller student -> model"),
        StageSpec("evaluate.qa", "luban.evaluate.qa:evaluate_qa", "luban.evaluate.qa:QAEvalConfig",
                  ("model", "data", "baseline"), "exact match and ROUGE-L on held-out questions -> report"),
        StageSpec("compress.onnx", "luban.compress.onnx_export:onnx_stage",
                  "luban.compress.onnx_export:OnnxExportConfig", ("model",),
                  "export a causal LM to ONNX with KV cache -> model"),
        StageSpec("compress.gguf", "luban.compress.gguf_export:gguf_stage",
                  "luban.compress.gguf_export:GGUFExportConfig", ("model",),
                  "convert a Hugging Face model to GGUF with llama.cpp's converter -> model"),
        StageSpec("compress.merge", "luban.compress.merge:merge_stage", "luban.compress.merge:MergeConfig",
                  ("model",), "merge a LoRA adapter into its base and export -> model"),
    ]
}, base=StageSpec, error=NotFoundError)


def get_stage(name: str) -> StageSpec:
    """The stage `name` (or "module:ATTR"); an unknown name is a NotFoundError with a did-you-mean."""
    return STAGES.get(name)


def recipes() -> list[str]:
    """The training recipes, `luban train RECIPE`: the registered `train.*` stages."""
    return [n.split(".", 1)[1] for n in STAGES if n.startswith("train.")]
