"""The on-disk format of a torch int8 dynamic-quantized model, and loading it back.

A directory holds the parent's config.json, tokenizer and generation config, plus:
- `quantization.json`: `{"method": "torch-int8-dynamic", "modules": [...], "torch": "2.x"}`;
- `model.int8.safetensors`: for every quantized Linear `<m>`, `<m>.weight_int8` (int8, out x in),
  `<m>.weight_scale` (float32, one per output channel, zero point 0) and `<m>.bias`; every other
  parameter or buffer (embeddings, norms, the LM head) under its own name, in its own dtype.

Design choices:
- Plain tensors in safetensors rather than `torch.save` of packed parameters: no pickle, readable by any
  safetensors reader, and independent of the packed layout a torch release happens to use.
- Per-output-channel symmetric scales (what `per_channel_dynamic_qconfig` computes); activations are
  quantized per batch at run time by torch's dynamic Linear (fbgemm / onednn kernels, CPU only).
- The LM head stays in full precision: it is tied to the embeddings in small models, and the serving
  engine reads its `.weight` to learn the vocabulary size.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

QUANT_FILE = "quantization.json"
INT8_WEIGHTS = "model.int8.safetensors"
METHOD = "torch-int8-dynamic"


def quantized_method(path: Path) -> str | None:
    """The quantization method recorded in `path`, or None for a plain checkpoint."""
    f = Path(path) / QUANT_FILE
    return str(json.loads(f.read_text()).get("method")) if f.is_file() else None


def quantize_linears(model: Any, modules: list[str]) -> Any:
    """Swap the Linear layers named in `modules` for torch's dynamic int8 Linear (per-channel weights)."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao (not pinned here)
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, {m: per_channel_dynamic_qconfig for m in modules}, dtype=torch.qint8,
                                inplace=True)


def int8_state(model: Any, modules: list[str]) -> dict[str, Any]:
    """The tensors of a quantized `model` in the format above."""
    out: dict[str, Any] = {}
    quantized = set(modules)
    seen: set[int] = set()
    for name, tensor in model.state_dict().items():
        owner = name.rsplit(".", 1)[0] if "." in name else name
        if owner.rsplit("._packed_params", 1)[0] in quantized or owner in quantized:
            continue
        if hasattr(tensor, "is_quantized") and not tensor.is_quantized and hasattr(tensor, "contiguous"):
            if tensor.data_ptr() in seen:  # a tied head: written once, tied again on load
                continue
            seen.add(tensor.data_ptr())
            out[name] = tensor.contiguous()
    named = dict(model.named_modules())
    for m in modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            weight, bias = named[m]._packed_params._weight_bias()
        out[f"{m}.weight_int8"] = weight.int_repr().contiguous()
        out[f"{m}.weight_scale"] = weight.q_per_channel_scales().float().contiguous()
        if bias is not None:
            out[f"{m}.bias"] = bias.detach().contiguous()
    return out


def load_int8_dynamic(path: Path) -> Any:
    """Rebuild the model from config.json, quantize the recorded Linears and fill in the saved tensors."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForCausalLM

    meta = json.loads((Path(path) / QUANT_FILE).read_text())
    modules: list[str] = list(meta["modules"])
    config = AutoConfig.from_pretrained(path)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    tensors = load_file(str(Path(path) / INT8_WEIGHTS))
    quantize_linears(model, modules)
    named = dict(model.named_modules())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in modules:
            scale = tensors.pop(f"{m}.weight_scale").double()
            q = torch._make_per_channel_quantized_tensor(tensors.pop(f"{m}.weight_int8"), scale,
                                                         torch.zeros(scale.shape[0], dtype=torch.long), 0)
            named[m].set_weight_bias(q, tensors.pop(f"{m}.bias", None))
    # Copied by name: a quantized Linear's own state-dict loader wants keys (scale, zero_point) we do not write.
    own = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    unexpected = [k for k in tensors if k not in own]
    tied = getattr(config, "tie_word_embeddings", False)
    persistent = set(model.state_dict())  # not the rotary tables, which the model recomputes
    missing = [k for k in own if k in persistent and k not in tensors and not (tied and k.endswith("lm_head.weight"))]
    if missing or unexpected:
        raise ValueError(f"{path}: int8 checkpoint does not match its config (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]})")
    with torch.no_grad():
        for k, v in tensors.items():
            own[k].copy_(v)
    if getattr(config, "tie_word_embeddings", False):
        model.tie_weights()
    return model.eval()
