"""Recipe: supervised fine-tuning on chat data — full weights, LoRA, DoRA or QLoRA — over TRL's SFTTrainer.

setup (pre-flight, tokenize with assistant-only labels) -> train -> save (model or adapter + tokenizer + chat
template + generation config + run/ tracking) -> artifact with lineage to its base model (role "base") and its
dataset (role "data").

Batching (`train.padding_free`, `train.packing`):
- padding-free (`padding_free: true`; the default under a flash-attention kernel): TRL's collator concatenates
  the `batch_size` samples of a step into one row and restarts `position_ids` at 0 for each; transformers builds a block-diagonal causal mask from those positions
  (`masking_utils.find_packed_sequence_indices`; flash-attention uses the sequence boundaries), so no sample
  attends to another and no pad token is computed, while the samples per optimizer step, the step count and
  the loss stay those of padded training;
- packing: best-fit-decreasing packs samples into `max_seq_length` blocks, trained padding-free the same way;
  `batch_size` then counts blocks, so an epoch has fewer, larger steps;
- `padding_free: false, packing: false`: classic right-padded batches; the default with any other attention
  kernel (sdpa, eager; so on CPU): there the block-diagonal mask spans the whole row, so attention costs the
  square of the row's length, more than the padding it saves (measured on the LoRA bench: 1,405 tokens/s
  padding-free vs 1,824 padded on 2 CPU cores, same loss).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import InputPathOrName, StageConfig, dump_config
from luban.core.workspace import Workspace
from luban.models.loading import load_tokenizer
from luban.train import preflight
from luban.train.adapters import LoraSection, Method, load_base, lora_config
from luban.train.args import TrainArgs, trl_args
from luban.train.datasets import load_split, roles_in, tokenize_chat, truncate
from luban.train.report import write_report
from luban.train.run import drop_checkpoints, fit, prepare_run, run_folder
from luban.train.saving import save_model, save_run_files
from luban.train.tracking import TrackingCallback

STAGE = "train.sft"


class SFTConfig(StageConfig):
    """Supervised fine-tuning. Example: `luban train sft examples/train/sft_lora.yaml train.max_steps=100`."""

    method: Method = "lora"
    lora: LoraSection = Field(default_factory=LoraSection)
    train: TrainArgs = Field(default_factory=TrainArgs)
    chat_template: InputPathOrName | None = Field(None, description="catalog template name or .jinja path; default: the "
                                                         "model's own, else its family's from the catalog")
    split: str = "train"


def sft(cfg: SFTConfig, ws: Workspace, inputs: dict[str, Artifact], name: str | None = None, *,
        resume: bool = False) -> Artifact | None:
    """Fine-tune `inputs["model"]` on the `messages` column of `inputs["data"]`; returns a model artifact
    (an adapter for lora/qlora, full weights for full)."""
    base, data = inputs["model"], inputs["data"]
    base_dir = base.path
    preflight.check_model(base_dir)
    if cfg.method == "qlora":
        preflight.check_cuda_for("qlora")
    tokenizer = load_tokenizer(base_dir)
    preflight.resolve_template(tokenizer, base_dir, cfg.chat_template)
    template = preflight.training_template(tokenizer)
    raw = load_split(data, "chat", "sft", cfg.split)
    preflight.check_template(tokenizer, template, roles_in(raw), preflight.stop_token_ids(tokenizer, base_dir))
    ds = tokenize_chat(raw, tokenizer, template)
    preflight.check_lengths(ds["length"], cfg.train.max_seq_length, preflight.model_context(base_dir),
                            cfg.train.truncate)
    if cfg.train.truncate:  # padding-free batches have no max_length in TRL: cut here, the same for every mode
        ds = truncate(ds, cfg.train.max_seq_length)

    config = dump_config(cfg)
    run_dir = run_folder(ws, STAGE, name, config, inputs)
    checkpoint = prepare_run(run_dir, resume)
    model = load_base(base_dir, cfg.method, cfg.lora, cfg.train.precision)
    trainer = _trainer(cfg, model, tokenizer, ds, run_dir)
    tracking = TrackingCallback(run_dir, "Fine-tuning", cfg.train.max_minutes)
    stats = fit(trainer, tracking, checkpoint)
    if stats is None:  # a worker rank of a multi-process launch: rank 0 writes the artifact
        return None
    stats.update(method=cfg.method, samples=len(ds), trainable_parameters=_trainable(trainer.model))
    write_report(run_dir, f"SFT ({cfg.method}) of {base.name or base.short_id}", stats)

    parents = [artifact_parent(base, "base"), artifact_parent(data, "data")]
    with ws.create("model", name, STAGE, config, parents=parents) as p:
        save_model(trainer, tokenizer, base_dir, p.path)
        save_run_files(run_dir, p.path)
        p.stats.update(stats, adapter=cfg.method != "full")
    assert p.result is not None
    drop_checkpoints(run_dir)
    return p.result


def resolve_padding_free(setting: bool | None, model: Any) -> bool:
    """`padding_free: null` means on when the attention kernel takes sequence boundaries (flash-attention's
    variable-length kernels), off otherwise."""
    if setting is not None:
        return setting
    impl = str(getattr(getattr(model, "config", None), "_attn_implementation", "") or "")
    return impl.startswith("flash_attention")


def _trainer(cfg: SFTConfig, model: Any, tokenizer: Any, ds: Any, run_dir: Any) -> Any:
    from trl import SFTConfig as TRLSFTConfig
    from trl import SFTTrainer

    packing = cfg.train.packing
    padding_free = packing or resolve_padding_free(cfg.train.padding_free, model)  # bfd packing needs it
    # TRL refuses max_length for padding-free batches without packing (it would not enforce it): the samples are
    # already checked against, or cut to, max_seq_length
    max_length = None if padding_free and not packing else cfg.train.max_seq_length
    args = trl_args(TRLSFTConfig, cfg.train, run_dir, max_length=max_length, packing=packing,
                    packing_strategy="bfd", padding_free=padding_free)
    peft = lora_config(cfg.lora) if cfg.method != "full" else None
    return SFTTrainer(model=model, args=args, train_dataset=ds.remove_columns("length"), processing_class=tokenizer,
                      peft_config=peft)


def _trainable(model: Any) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
