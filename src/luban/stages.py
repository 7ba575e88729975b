"""Registry of stages the pipeline runner and `luban config schema` know, by name.

Each entry is "module:function" and "module:ConfigClass", imported only when used, so that
`luban --help` stays fast and optional layers cost nothing until named. Every stage function has
the signature `fn(cfg, ws, inputs: dict[str, Artifact], name: str | None) -> Artifact`; `inputs`
maps the roles the stage declares (its `Role`s: name, artifact kind, optional or not) to artifacts
named in the spec's `from:` or on the command line. The runner and the CLI check them against the
declaration before the stage runs: an unknown role, a missing one or an artifact of the wrong kind
is a one-line error, not a KeyError deep inside the stage.
Adding a stage is one line here; a spec may also `use:` a "module:ATTR" naming a `StageSpec` of
its own package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from luban.core.artifact import KINDS, Artifact
from luban.core.errors import ConfigError, NotFoundError, UsageError
from luban.core.registry import Registry, import_object


@dataclass(frozen=True)
class Role:
    """One input of a stage: its name in `from:`, the kind of artifact it must be, and whether it may be left out."""

    name: str
    kind: str  # an artifact kind: dataset, model, report, ...
    optional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"role '{self.name}': unknown artifact kind '{self.kind}' (kinds: {', '.join(KINDS)})")

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}{', optional' if self.optional else ''})"


MODEL = Role("model", "model")
DATA = Role("data", "dataset")


@dataclass(frozen=True)
class StageSpec:
    name: str
    function: str  # "module:function"
    config: str  # "module:Class"
    inputs: tuple[Role, ...]  # the first one is the role of a plain `from: x`
    summary: str
    more: str | None = None  # kind of any further inputs, under any role name (curation reads any datasets)

    def load_function(self) -> Any:
        return import_object(self.function, "stage function", self.name)

    def load_config_class(self) -> Any:
        return import_object(self.config, "stage config", self.name)

    def role(self, name: str) -> Role:
        """The declared role `name`; an undeclared one is a ConfigError listing the declared ones."""
        for r in self.inputs:
            if r.name == name:
                return r
        if self.more:
            return Role(name, self.more, optional=True)
        raise ConfigError(f"{self.name} takes no input '{name}'",
                          f"its inputs are: {', '.join(map(str, self.inputs))}" if self.inputs else
                          "it takes no inputs: remove `from:`")

    def missing(self, given: Iterable[str]) -> list[Role]:
        """The required roles not among `given`."""
        names = set(given)
        return [r for r in self.inputs if not r.optional and r.name not in names]

    def check_inputs(self, inputs: Mapping[str, Artifact]) -> None:
        """Every input a declared role of the declared kind, and every required role given."""
        for name, art in inputs.items():
            want = self.role(name).kind
            if art.kind != want:
                raise UsageError(f"input '{name}' of {self.name} must be a {want} artifact, "
                                 f"'{art.name or art.short_id}' is a {art.kind}", f"name a {want} for '{name}'")
        missing = self.missing(inputs)
        if missing:
            raise UsageError(f"{self.name} needs input(s) {', '.join(map(str, missing))}",
                             f"name them under `from:`, e.g. from: {{{missing[0].name}: <stage or artifact>}}")


STAGES: Registry[StageSpec] = Registry("stage", {
    s.name: s
    for s in [
        StageSpec("data.curate", "luban.data.curate:curate", "luban.data.curate:CurateConfig",
                  (Role("data", "dataset", optional=True),), "read raw files, clean, filter, dedup, desensitize "
                  "-> dataset", more="dataset"),
        StageSpec("data.format", "luban.data.formats:format_stage", "luban.data.formats:FormatConfig",
                  (Role("data", "dataset", optional=True),), "load SFT / preference files, validate and split "
                  "-> dataset", more="dataset"),
        StageSpec("models.tiny", "luban.models.tiny:tiny_stage", "luban.models.tiny:TinyConfig",
                  (Role("corpus", "dataset", optional=True),),
                  "train a tokenizer and build a small random causal LM -> model"),
        StageSpec("models.import", "luban.models.loading:import_stage", "luban.models.loading:ImportConfig", (),
                  "register a local Hugging Face model directory -> model"),
        StageSpec("train.pretrain", "luban.train.pretrain:pretrain", "luban.train.pretrain:PretrainConfig",
                  (MODEL, DATA), "continued pretraining with packing -> model"),
        StageSpec("train.sft", "luban.train.sft:sft", "luban.train.sft:SFTConfig", (MODEL, DATA),
                  "supervised fine-tuning (full / LoRA / QLoRA) -> model"),
        StageSpec("train.dpo", "luban.train.dpo:dpo", "luban.train.dpo:DPOConfig", (MODEL, DATA),
                  "preference optimisation: DPO / IPO / ORPO / SimPO / CPO on prompt-chosen-rejected -> model"),
        StageSpec("train.reward", "luban.train.reward:reward", "luban.train.reward:RewardConfig", (MODEL, DATA),
                  "reward model (sequence classifier) on prompt-chosen-rejected pairs -> model"),
        StageSpec("train.grpo", "luban.train.grpo:grpo", "luban.train.grpo:GRPOConfig",
                  (MODEL, DATA, Role("reward_model", "model", optional=True)),
                  "GRPO with rule rewards and/or a reward model -> model"),
        StageSpec("train.distill", "luban.train.distill:distill", "luban.train.distill:DistillConfig",
                  (MODEL, DATA, Role("teacher", "model")),
                  "logit distillation of a teacher into a smaller student -> model"),
        StageSpec("evaluate.qa", "luban.evaluate.qa:evaluate_qa", "luban.evaluate.qa:QAEvalConfig",
                  (MODEL, Role("data", "dataset", optional=True), Role("baseline", "model", optional=True)),
                  "exact match and ROUGE-L on held-out questions -> report"),
        StageSpec("evaluate.tasks", "luban.evaluate.tasks_stage:evaluate_tasks",
                  "luban.evaluate.tasks_stage:TasksEvalConfig",
                  (Role("model", "model", optional=True), Role("data", "dataset", optional=True)),
                  "evaluation tasks (generate, multiple choice, perplexity, LLM judge) on a model or endpoint -> report"),
        StageSpec("evaluate.safety", "luban.evaluate.safety_stage:evaluate_safety",
                  "luban.evaluate.safety_stage:SafetyEvalConfig", (Role("model", "model", optional=True),),
                  "refusal of must-refuse and over-refusal of must-answer prompts (model or endpoint) -> report"),
        StageSpec("compliance.report", "luban.compliance.stage:compliance_report",
                  "luban.compliance.config:ComplianceConfig", (),
                  "self-assessment against the Interim Measures, TC260-003, GB 45438, logs and cross-border rules -> report"),
        StageSpec("compress.onnx", "luban.compress.onnx_export:onnx_stage",
                  "luban.compress.onnx_export:OnnxExportConfig", (MODEL,),
                  "export a causal LM to ONNX with KV cache -> model"),
        StageSpec("compress.gguf", "luban.compress.gguf_export:gguf_stage",
                  "luban.compress.gguf_export:GGUFExportConfig", (MODEL,),
                  "convert a Hugging Face model to GGUF with llama.cpp's converter -> model"),
        StageSpec("compress.merge", "luban.compress.merge:merge_stage", "luban.compress.merge:MergeConfig",
                  (MODEL,), "merge a LoRA adapter into its base and export -> model"),
        StageSpec("compress.quantize", "luban.compress.quantize:quantize_stage",
                  "luban.compress.quantize:QuantizeConfig", (MODEL,),
                  "torch int8, bitsandbytes 4/8-bit, GGUF f16/q8_0/k-quants or ONNX int8, compared with its parent -> model"),
        StageSpec("compress.prune", "luban.compress.prune:prune_stage", "luban.compress.prune:PruneConfig", (MODEL,),
                  "drop the least influential layers and narrow the MLPs -> model"),
        StageSpec("compress.sweep", "luban.stages:compress_sweep", "luban.compress.sweep:SweepConfig", (MODEL,),
                  "build every variant, evaluate each, name the smallest (or fastest) that passes the gates -> report"),
    ]
}, base=StageSpec, error=NotFoundError)


def compress_sweep(cfg: Any, ws: Any, inputs: dict[str, Artifact], name: str | None = None) -> Artifact:
    """Stage `compress.sweep`: compress builds and measures the variants; evaluate scores their tasks and reads
    the gates. The two layers may not import each other, so they meet here, where every stage is known."""
    from luban.compress.sweep import sweep
    from luban.evaluate.gates import check_gates
    from luban.evaluate.runner import evaluate

    def tasks(path: Any) -> dict[str, float]:
        return dict(evaluate(path, list(cfg.tasks))["metrics"])

    def gates(metrics: dict[str, float]) -> list[dict[str, Any]]:
        return [{"metric": str(r.gate), "passed": r.passed, "why": r.describe()} for r in check_gates(cfg.gates, metrics)]

    return sweep(cfg, ws, inputs, name, tasks=tasks, gates=gates if cfg.gates else None)


def get_stage(name: str) -> StageSpec:
    """The stage `name` (or "module:ATTR"); an unknown name is a NotFoundError with a did-you-mean."""
    return STAGES.get(name)


def recipes() -> list[str]:
    """The training recipes, `luban train RECIPE`: the registered `train.*` stages."""
    return [n.split(".", 1)[1] for n in STAGES if n.startswith("train.")]
