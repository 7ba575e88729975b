"""Loading a base model for training, full or with a LoRA / DoRA / QLoRA adapter (PEFT).

Design choices:
- `method` is one of full | lora | qlora; QLoRA loads the base in 4- or 8-bit through bitsandbytes, which
  exists only on CUDA, so it is refused up front elsewhere (a one-line error, not a bitsandbytes traceback);
- `target_modules: all-linear` is PEFT's own shortcut for every linear layer except the output head, the
  setting QLoRA (Dettmers et al., 2023) found necessary to match full fine-tuning;
- float32 on CPU, bf16/fp16 weights on GPU as `precision` says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from luban.core.config import StageConfig
from luban.train.args import resolve_precision
from luban.train.preflight import check_cuda_for

Method = Literal["full", "lora", "qlora"]


class LoraSection(StageConfig):
    """LoRA settings (Hu et al., 2021); `use_dora` switches to weight-decomposed LoRA (Liu et al., 2024)."""

    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] | str = "all-linear"
    use_dora: bool = False
    bits: Literal[4, 8] = Field(4, description="QLoRA only: load the base in 4-bit (NF4) or 8-bit")


def lora_config(section: LoraSection) -> Any:
    from peft import LoraConfig

    return LoraConfig(r=section.r, lora_alpha=section.alpha, lora_dropout=section.dropout,
                      target_modules=section.target_modules, use_dora=section.use_dora, task_type="CAUSAL_LM")


def load_base(model_dir: Path, method: str, lora: LoraSection, precision: str = "auto") -> Any:
    """The base model ready for the trainer (PEFT wrapping is left to TRL through `peft_config`)."""
    import torch
    from transformers import AutoModelForCausalLM

    if method == "qlora":
        check_cuda_for("qlora")
    chosen = resolve_precision(precision)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(chosen, torch.float32)
    kwargs: dict[str, Any] = {"dtype": dtype}
    if method == "qlora":
        from transformers import BitsAndBytesConfig

        if lora.bits == 4:
            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=dtype)
        else:
            kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
    return AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
