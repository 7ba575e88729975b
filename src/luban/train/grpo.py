"""Recipe: reinforcement learning with GRPO (Shao et al., 2024) over TRL's GRPOTrainer.

The policy samples `num_generations` answers per prompt; their rewards, normalised within the group, are the
advantages (no value model, no critic). Rewards are a weighted sum of rule-based terms (`luban.train.rewards`:
length, regex/format, keyword, exact_match against a reference column) and/or a reward model artifact
(`inputs["reward_model"]`, as made by the `reward` recipe), given as `kind: reward_model`.
Prompts come from a chat dataset (every turn but the last assistant one; that answer becomes the `reference`
column) or from a dataset with a `prompt` column (string or messages) and optional reference columns.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import InputPathOrName, StageConfig, dump_config
from luban.core.errors import UsageError
from luban.core.shards import read_split
from luban.core.workspace import Workspace
from luban.models.loading import load_tokenizer
from luban.train import preflight
from luban.train.adapters import LoraSection, Method, load_base, lora_config
from luban.train.args import TrainArgs, trl_args
from luban.train.datasets import clean_messages
from luban.train.report import write_report
from luban.train.rewards import RewardSpec, build_reward
from luban.train.run import drop_checkpoints, fit, prepare_run, run_folder
from luban.train.saving import save_model, save_run_files
from luban.train.tracking import TrackingCallback

STAGE = "train.grpo"


class GRPOConfig(StageConfig):
    """GRPO. Example: `luban train grpo examples/train/grpo.yaml --model sft-model --data questions`."""

    rewards: list[RewardSpec] = Field(..., min_length=1, description="reward terms, summed with their weights")
    num_generations: int = Field(4, ge=2, description="answers sampled per prompt (the group)")
    max_completion_length: int = Field(64, ge=1)
    temperature: float = Field(1.0, gt=0)
    beta: float = Field(0.0, ge=0, description="KL penalty to the base; 0 drops the reference model (TRL default)")
    method: Method = "lora"
    lora: LoraSection = Field(default_factory=LoraSection)
    train: TrainArgs = Field(default_factory=lambda: TrainArgs(lr=1e-5, packing=False, batch_size=8))
    chat_template: InputPathOrName | None = None
    split: str = "train"

    @field_validator("rewards")
    @classmethod
    def _one_reward_model(cls, v: list[RewardSpec]) -> list[RewardSpec]:
        if sum(r.kind == "reward_model" for r in v) > 1:
            raise ValueError("at most one reward_model term (it reads inputs.reward_model)")
        return v


def grpo(cfg: GRPOConfig, ws: Workspace, inputs: dict[str, Artifact], name: str | None = None, *,
         resume: bool = False) -> Artifact | None:
    """Optimise `inputs["model"]` for the rewards on the prompts of `inputs["data"]`; returns a model artifact."""
    base, data = inputs["model"], inputs["data"]
    preflight.check_model(base.path)
    if cfg.method == "qlora":
        preflight.check_cuda_for("qlora")
    if cfg.train.batch_size % cfg.num_generations:
        raise UsageError(f"train.batch_size={cfg.train.batch_size} is not a multiple of num_generations="
                         f"{cfg.num_generations}", "each step must hold whole groups of answers to one prompt")
    tokenizer = load_tokenizer(base.path)
    tokenizer.padding_side = "left"  # generation pads on the left
    preflight.resolve_template(tokenizer, base.path, cfg.chat_template)
    prompts = load_prompts(data, cfg.split)
    reward_funcs, reward_tokenizers, parents = _rewards(cfg, inputs)

    config = dump_config(cfg)
    run_dir = run_folder(ws, STAGE, name, config, inputs)
    checkpoint = prepare_run(run_dir, resume)
    model = load_base(base.path, cfg.method, cfg.lora, cfg.train.precision)
    trainer = _trainer(cfg, model, tokenizer, prompts, reward_funcs, reward_tokenizers, run_dir)
    stats = fit(trainer, TrackingCallback(run_dir, "GRPO", cfg.train.max_minutes), checkpoint)
    if stats is None:  # a worker rank of a multi-process launch: rank 0 writes the artifact
        return None
    curve = [r["reward"] for r in trainer.state.log_history if "reward" in r]
    stats.update(method=cfg.method, prompts=len(prompts), first_reward=curve[0] if curve else None,
                 final_reward=curve[-1] if curve else None)
    write_report(run_dir, f"GRPO ({cfg.method}) of {base.name or base.short_id}", stats)

    parents = [artifact_parent(base, "base"), artifact_parent(data, "data"), *parents]
    with ws.create("model", name, STAGE, config, parents=parents) as p:
        save_model(trainer, tokenizer, base.path, p.path)
        save_run_files(run_dir, p.path)
        p.stats.update(stats, adapter=cfg.method != "full")
    assert p.result is not None
    drop_checkpoints(run_dir)
    return p.result


def load_prompts(art: Artifact, split: str) -> Any:
    """Conversational `prompt` column (+ `reference` from chat data, + any other columns of prompt data)."""
    from datasets import Dataset

    table = read_split(art, split)
    rows: list[dict[str, Any]] = []
    if "messages" in table.column_names:
        for msgs in table.column("messages").to_pylist():
            msgs = clean_messages(msgs)
            last = max((i for i, m in enumerate(msgs) if m["role"] == "assistant"), default=len(msgs))
            ref = msgs[last]["content"] if last < len(msgs) else ""
            rows.append({"prompt": msgs[:last], "reference": ref})
    elif "prompt" in table.column_names:
        for row in table.to_pylist():
            p = row.pop("prompt")
            rows.append({**row, "prompt": [{"role": "user", "content": p}] if isinstance(p, str)
                         else clean_messages(p)})
    else:
        raise UsageError(f"dataset '{art.name or art.short_id}' has columns {table.column_names} but the grpo "
                         "recipe needs 'prompt' or 'messages'", "build it with `luban data format`")
    if not rows or any(not r["prompt"] for r in rows):
        raise UsageError(f"dataset '{art.name or art.short_id}' has empty prompts", "check the data stage")
    return Dataset.from_list(rows)


def _rewards(cfg: GRPOConfig, inputs: dict[str, Artifact]) -> tuple[list[Any], list[Any], list[Any]]:
    """Reward callables (or the reward model), their tokenizers (None for rules), lineage parents."""
    funcs: list[Any] = []
    toks: list[Any] = []
    parents: list[Any] = []
    for spec in cfg.rewards:
        if spec.kind == "reward_model":
            if "reward_model" not in inputs:
                raise UsageError("a reward_model reward needs a reward model input",
                                 "pass --input reward_model=NAME (made by `luban train reward`)")
            rm = inputs["reward_model"]
            from transformers import AutoModelForSequenceClassification

            funcs.append(AutoModelForSequenceClassification.from_pretrained(rm.path, num_labels=1))
            toks.append(load_tokenizer(rm.path))
            parents.append(artifact_parent(rm, "reward_model"))
        else:
            funcs.append(build_reward(spec))
            toks.append(None)
    return funcs, toks, parents


def _trainer(cfg: GRPOConfig, model: Any, tokenizer: Any, prompts: Any, funcs: list[Any], toks: list[Any],
             run_dir: Any) -> Any:
    from trl import GRPOConfig as TRLGRPOConfig
    from trl import GRPOTrainer

    args = trl_args(TRLGRPOConfig, cfg.train, run_dir, num_generations=cfg.num_generations,
                    max_completion_length=cfg.max_completion_length, temperature=cfg.temperature, beta=cfg.beta,
                    reward_weights=[r.weight for r in cfg.rewards], include_num_input_tokens_seen="no")
    peft = lora_config(cfg.lora) if cfg.method != "full" else None
    return GRPOTrainer(model=model, reward_funcs=funcs, args=args, train_dataset=prompts,
                       processing_class=tokenizer, reward_processing_classes=toks, peft_config=peft)
