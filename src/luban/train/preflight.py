"""Checks that run before any training step, each failing with one line that says what to change.

The pains they prevent come from other trainers' issue trackers: a chat template that never emits the stop
token (the tuned model rambles), a role the template silently drops, samples longer than the context that are
cut without a word, QLoRA asked for on a machine without CUDA, and a base directory without weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from luban.core.errors import UsageError
from luban.core.workspace import Workspace
from luban.models.chat_templates import TEMPLATES, template_for_model, template_text
from luban.models.loading import check_model_dir


def check_output_name(ws: Workspace, name: str | None, force: bool) -> None:
    """Artifact names are refs; re-pointing one that exists needs --force (as `git tag -f`)."""
    if name and not force and ws.exists(name):
        raise UsageError(f"an artifact named '{name}' already exists in {ws.root}",
                         "choose another --name, or pass --force to point the name at the new model")


def check_model(path: Path) -> None:
    check_model_dir(path, need_weights=True)


def check_cuda_for(method: str) -> None:
    """What a 4/8-bit base needs, each missing part a one-line error: a CUDA GPU, then bitsandbytes (the
    `qlora` extra, not installed by default: it is CUDA-only)."""
    import torch

    if not torch.cuda.is_available():
        raise UsageError(f"method '{method}' loads the base in 4/8-bit through bitsandbytes, which needs a CUDA GPU "
                         "and none is visible", "use method: lora on this machine (same adapter, full-precision base)")
    try:
        import bitsandbytes  # noqa: F401 - imported by transformers when it loads the base; here only checked
    except ImportError:
        raise UsageError(f"method '{method}' loads the base in 4/8-bit through bitsandbytes, which is not installed",
                         "pip install 'luban[qlora]', or use method: lora") from None


def resolve_template(tokenizer: Any, model_dir: Path, override: str | None) -> None:
    """Give the tokenizer a chat template: `override` (catalog name or .jinja path), else its own, else
    the catalog's template for the model family."""
    if override:
        if override in TEMPLATES:
            tokenizer.chat_template = template_text(override)
        elif Path(override).is_file():
            tokenizer.chat_template = Path(override).read_text(encoding="utf-8")
        else:
            raise UsageError(f"chat_template '{override}' is neither a known template nor a file",
                             f"use one of {', '.join(TEMPLATES)} or a path to a .jinja file")
    elif not tokenizer.chat_template:
        tokenizer.chat_template = template_text(template_for_model(model_dir))


def training_template(tokenizer: Any) -> str:
    """The template used to render training data: the tokenizer's own when it marks assistant turns with
    `{% generation %}`, else TRL's marked copy of the same family's template."""
    tpl = tokenizer.chat_template
    if "{% generation %}" in tpl or "{%- generation %}" in tpl:
        return str(tpl)
    try:
        from trl.chat_template_utils import get_training_chat_template

        return str(get_training_chat_template(tokenizer))
    except Exception:  # noqa: BLE001 - TRL raises ValueError for unknown templates; we say what to do
        raise UsageError("the chat template does not mark assistant turns with {% generation %}, so the loss "
                         "cannot be masked to assistant text",
                         f"set chat_template to a catalog template ({', '.join(TEMPLATES)})") from None


def stop_token_ids(tokenizer: Any, model_dir: Path) -> set[int]:
    """End-of-turn ids: generation_config eos ids plus the tokenizer's eos."""
    import json

    ids: set[int] = set()
    gen = model_dir / "generation_config.json"
    if gen.is_file():
        eos = json.loads(gen.read_text(encoding="utf-8")).get("eos_token_id")
        ids.update(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def check_template(tokenizer: Any, template: str, roles: dict[str, list[dict[str, str]]], stops: set[int]) -> None:
    """The template renders every role the data uses, shows its content, masks assistant text and trains
    the stop token (inside the assistant mask)."""
    for role, convo in roles.items():
        try:
            text = tokenizer.apply_chat_template(convo, tokenize=False, chat_template=template)
        except Exception as e:  # noqa: BLE001 - jinja raise_exception / TemplateError
            raise UsageError(f"the chat template cannot render role '{role}' that the training data uses "
                             f"({str(e).splitlines()[0][:120]})",
                             "map the role in the data (e.g. to 'user') or choose a template that has it") from None
        missing = next((m for m in convo if m["role"] == role and m["content"].strip()
                        and m["content"].strip() not in text), None)
        if missing is not None:
            raise UsageError(f"the chat template drops role '{role}' that the training data uses (its text does "
                             "not appear in the rendered prompt)",
                             "map the role in the data (e.g. to 'user') or choose a template that has it")
    sample = next((c for c in roles.values() if any(m["role"] == "assistant" for m in c)), None)
    if sample is None:
        raise UsageError("the training data has no assistant turns, so there is nothing to learn",
                         "check the dataset: every conversation needs at least one assistant message")
    enc = tokenizer.apply_chat_template(sample, tokenize=True, return_dict=True, return_assistant_tokens_mask=True,
                                        chat_template=template)
    trained = [t for t, m in zip(enc["input_ids"], enc["assistant_masks"], strict=True) if m]
    if not trained:
        raise UsageError("the chat template marks no assistant tokens, so nothing would be trained",
                         "check the {% generation %} markers of the template")
    if not stops & set(trained):
        names = ", ".join(repr(tokenizer.convert_ids_to_tokens(i)) for i in sorted(stops))
        raise UsageError(f"the assistant turns of the chat template never contain a stop token ({names}); the "
                         "tuned model would not learn to stop",
                         "put the end-of-turn token inside {% generation %} or fix generation_config eos_token_id")


def check_lengths(lengths: list[int], max_seq_length: int, context: int, truncate: bool) -> None:
    """Every sample fits in `max_seq_length`, which fits in the model's context."""
    if max_seq_length > context:
        raise UsageError(f"train.max_seq_length={max_seq_length} is longer than the model's context ({context})",
                         f"set train.max_seq_length <= {context}")
    over = [n for n in lengths if n > max_seq_length]
    if over and not truncate:
        raise UsageError(f"{len(over)} of {len(lengths)} training samples are longer than train.max_seq_length="
                         f"{max_seq_length} tokens (longest {max(over)}; model context {context})",
                         f"raise train.max_seq_length (up to {context}) or set train.truncate=true to cut them")


def model_context(model_dir: Path) -> int:
    import json

    cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    text = cfg.get("text_config", cfg)
    return int(text.get("max_position_embeddings") or text.get("seq_length") or 1 << 30)
