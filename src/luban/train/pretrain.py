"""Recipe: continued pretraining of all weights on plain text, packed into full blocks, over TRL's SFTTrainer.

setup (pre-flight, tokenize documents + end-of-text) -> train (documents concatenated and cut into
`max_seq_length` blocks, no padding) -> save (full HF directory + run/ tracking) -> artifact with lineage to
its base model (role "base") and its corpus (role "data").
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import StageConfig, dump_config
from luban.core.errors import NotFoundError, UsageError
from luban.core.shards import to_hf_dataset
from luban.core.workspace import Workspace
from luban.models.chat_templates import template_for_model
from luban.models.loading import load_tokenizer
from luban.train import preflight
from luban.train.adapters import LoraSection, load_base
from luban.train.args import TrainArgs, trl_args
from luban.train.datasets import load_split, tokenize_text
from luban.train.report import write_report
from luban.train.run import drop_checkpoints, fit, prepare_run, run_folder
from luban.train.saving import save_model, save_run_files
from luban.train.tracking import TrackingCallback

STAGE = "train.pretrain"


class PretrainConfig(StageConfig):
    """Continued pretraining. Example: `luban train pretrain examples/train/pretrain.yaml train.max_steps=200`."""

    train: TrainArgs = Field(default_factory=lambda: TrainArgs(lr=1e-3, max_seq_length=256, batch_size=8))
    text_column: str = "text"
    split: str = "train"


def pretrain(cfg: PretrainConfig, ws: Workspace, inputs: dict[str, Artifact], name: str | None = None, *,
             resume: bool = False) -> Artifact | None:
    """Continue pretraining `inputs["model"]` on the text column of `inputs["data"]`; returns a full model."""
    base, data = inputs["model"], inputs["data"]
    base_dir = base.path
    preflight.check_model(base_dir)
    tokenizer = load_tokenizer(base_dir)
    if not tokenizer.chat_template and _has_family(base_dir):
        preflight.resolve_template(tokenizer, base_dir, None)
    if cfg.text_column == "text":
        raw = load_split(data, "text", "pretrain", cfg.split)
    else:
        raw = _load_text_column(data, cfg)
    ds = tokenize_text(raw, tokenizer, "text")
    # long documents are cut into blocks by packing; only the block length must fit the context
    preflight.check_lengths([], cfg.train.max_seq_length, preflight.model_context(base_dir), True)

    config = dump_config(cfg)
    run_dir = run_folder(ws, STAGE, name, config, inputs)
    checkpoint = prepare_run(run_dir, resume)
    model = load_base(base_dir, "full", LoraSection(), cfg.train.precision)
    trainer = _trainer(cfg, model, tokenizer, ds, run_dir)
    tracking = TrackingCallback(run_dir, "Pretraining", cfg.train.max_minutes)
    stats = fit(trainer, tracking, checkpoint)
    if stats is None:  # a worker rank of a multi-process launch: rank 0 writes the artifact
        return None
    stats.update(documents=len(raw), corpus_tokens=int(sum(ds["length"])))
    write_report(run_dir, f"Continued pretraining of {base.name or base.short_id}", stats)

    parents = [artifact_parent(base, "base"), artifact_parent(data, "data")]
    with ws.create("model", name, STAGE, config, parents=parents) as p:
        save_model(trainer, tokenizer, base_dir, p.path)
        save_run_files(run_dir, p.path)
        p.stats.update(stats, adapter=False)
    assert p.result is not None
    drop_checkpoints(run_dir)
    return p.result


def _trainer(cfg: PretrainConfig, model: Any, tokenizer: Any, ds: Any, run_dir: Any) -> Any:
    from trl import SFTConfig as TRLSFTConfig
    from trl import SFTTrainer

    # "wrapped" packing concatenates documents and cuts full blocks (GPT-2 / nanoGPT style): no padding at all
    args = trl_args(TRLSFTConfig, cfg.train, run_dir, max_length=cfg.train.max_seq_length, packing=True,
                    packing_strategy="wrapped", padding_free=False)
    return SFTTrainer(model=model, args=args, train_dataset=ds.remove_columns("length"), processing_class=tokenizer)


def _has_family(base_dir: Any) -> bool:
    """Pretraining needs no template, but the saved model should carry one when the catalog knows it."""
    try:
        template_for_model(base_dir)
        return True
    except NotFoundError:
        return False


def _load_text_column(data: Artifact, cfg: PretrainConfig) -> Any:
    ds = to_hf_dataset(data, cfg.split)
    if cfg.text_column not in ds.column_names:
        raise UsageError(f"dataset '{data.name or data.short_id}' has columns {ds.column_names} but no "
                         f"text_column '{cfg.text_column}'", "set text_column to the column holding documents")
    return ds.rename_column(cfg.text_column, "text").select_columns(["text"])
