"""Memory and time advisor: will this fine-tune fit this GPU, how long will an epoch take, what to change.

The estimate is arithmetic over the architecture, counted the way PyTorch actually holds the tensors:
- weights: parameters x bytes of the load dtype (QLoRA: 4-bit NF4 linear layers at ~0.52 bytes/param
  including double-quantised constants, embeddings and head kept in 16-bit; Dettmers et al. 2023);
- gradients and AdamW states: for every trainable parameter, gradient in the parameter dtype plus two
  moments (full fine-tuning in the load dtype; LoRA adapters are kept in fp32 by PEFT: 4+4+8 bytes);
- activations, per token and layer, summing the tensors autograd saves (two RMSNorm inputs, the
  q/k/v/o projection inputs and outputs, the SwiGLU gate/up/act/product), in the spirit of Korthikanti
  et al. 2022 ("Reducing Activation Recomputation", sbh(34 + 5as/h)); plus the fp32 logits, their
  log-softmax and its gradient (3 x tokens x vocab x 4 bytes), which dominate for small models with
  large vocabularies. Gradient checkpointing keeps one hidden state per layer plus one layer in flight.
- runtime overhead: on CUDA ~1 GiB for the context and kernels plus 10% allocator fragmentation; on CPU
  ~220 MiB for PyTorch's thread pools, kernel caches and malloc arenas (measured on 2 cores with models
  from 5M to 50M parameters: a constant, not a fraction).
Time is FLOPs over throughput: 6N per token for full training (Kaplan et al. 2020), 4N for LoRA (no weight
gradients for frozen layers), +2N with checkpointing, at a model FLOPs utilisation of 35% of the GPU's
dense bf16 peak. A test measures the estimate against the peak memory of real CPU training.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from luban.core.errors import NotFoundError, UsageError
from luban.models.catalog import ModelCard

Method = Literal["full", "lora", "qlora"]
GIB = 1024**3
DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}
CPU_RUNTIME = 220 * 1024**2  # bytes; see module docstring
MFU = 0.35  # typical model FLOPs utilisation of HF/TRL training on one GPU

# name -> (memory GiB, dense bf16/fp16 TFLOPs); vendor data sheets.
GPUS: dict[str, tuple[float, float]] = {
    "H100-80G": (80, 989), "H800-80G": (80, 989), "H200-141G": (141, 989), "H20-96G": (96, 148),
    "A100-80G": (80, 312), "A100-40G": (40, 312), "A800-80G": (80, 312), "L40S-48G": (48, 362),
    "A10-24G": (24, 125), "4090-24G": (24, 165), "3090-24G": (24, 71), "V100-32G": (32, 125),
    "T4-16G": (16, 65), "910B-64G": (64, 320),
}


@dataclass(frozen=True)
class Dims:
    """What the estimate needs from a model's config.json."""

    name: str
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    tied: bool
    context: int

    @property
    def linear_params(self) -> int:
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        per_layer = self.hidden * q * 2 + self.hidden * kv * 2 + 3 * self.hidden * self.intermediate
        return self.layers * per_layer

    @property
    def embedding_params(self) -> int:
        return self.vocab * self.hidden * (1 if self.tied else 2)

    @property
    def params(self) -> int:
        return self.linear_params + self.embedding_params + (2 * self.layers + 1) * self.hidden

    def lora_params(self, rank: int) -> int:
        """Adapters on every linear layer of every block (q, k, v, o, gate, up, down)."""
        q, kv, h, i = self.heads * self.head_dim, self.kv_heads * self.head_dim, self.hidden, self.intermediate
        per_layer = rank * ((h + q) * 2 + (h + kv) * 2 + (h + i) * 3)
        return self.layers * per_layer


def dims_from_card(card: ModelCard) -> Dims:
    return Dims(card.key, card.hidden, card.layers, card.heads, card.kv_heads,
                card.head_dim or card.hidden // card.heads, card.intermediate, card.vocab,
                card.tied_embeddings, card.context)


def dims_from_dir(path: Path) -> Dims:
    """Dimensions from a Hugging Face model directory's config.json."""
    cfg_file = path / "config.json"
    if not cfg_file.is_file():
        raise NotFoundError(f"{path} has no config.json", "point at a Hugging Face model directory")
    c = json.loads(cfg_file.read_text(encoding="utf-8"))
    c = c.get("text_config", c)
    heads = int(c["num_attention_heads"])
    hidden = int(c["hidden_size"])
    return Dims(path.name, hidden, int(c["num_hidden_layers"]), heads,
                int(c.get("num_key_value_heads") or heads), int(c.get("head_dim") or hidden // heads),
                int(c["intermediate_size"]), int(c["vocab_size"]), bool(c.get("tie_word_embeddings", False)),
                int(c.get("max_position_embeddings", 0)))


@dataclass(frozen=True)
class Plan:
    method: Method = "lora"
    seq_len: int = 2048
    batch: int = 1  # per device micro-batch
    grad_accum: int = 1
    gradient_checkpointing: bool = False
    dtype: Literal["bf16", "fp16", "fp32"] = "bf16"
    lora_rank: int = 16
    gpus: int = 1
    zero3: bool = False  # shard weights, gradients and optimizer states across `gpus`
    device: Literal["cuda", "cpu"] = "cuda"


@dataclass(frozen=True)
class Estimate:
    plan: Plan
    params: int
    trainable: int
    weights: float  # bytes per device
    gradients: float
    optimizer: float
    activations: float
    overhead: float
    seconds_per_epoch: float | None

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer + self.activations + self.overhead


def activation_bytes(d: Dims, plan: Plan) -> float:
    """Bytes autograd keeps for one micro-batch (see module docstring)."""
    tokens = plan.batch * plan.seq_len
    q, kv = d.heads * d.head_dim, d.kv_heads * d.head_dim
    per_token_layer = 4 * d.hidden + 3 * q + 4 * kv + 4 * d.intermediate
    act = DTYPE_BYTES[plan.dtype]
    if plan.gradient_checkpointing:
        blocks = tokens * (d.layers * d.hidden + per_token_layer) * act
    else:
        blocks = tokens * d.layers * per_token_layer * act
    logits = 3 * tokens * d.vocab * 4
    return float(blocks + logits + tokens * d.hidden * act * 2)


def estimate(d: Dims, plan: Plan, gpu: str | None = None, dataset_tokens: int | None = None) -> Estimate:
    """Per-device memory (bytes) and, given a GPU and a dataset size, seconds per epoch."""
    if plan.method == "qlora" and plan.device != "cuda":
        raise UsageError("QLoRA needs a CUDA GPU (bitsandbytes)", "use method lora on CPU")
    b = DTYPE_BYTES[plan.dtype]
    n = d.params
    weights: float
    grads: float
    opt: float
    if plan.method == "full":
        trainable = n
        weights, grads, opt = n * b, n * b, 2 * n * b
    else:
        trainable = d.lora_params(plan.lora_rank)
        if plan.method == "qlora":
            base = d.linear_params * 0.516 + (n - d.linear_params) * 2
        else:
            base = n * b
        weights, grads, opt = base + trainable * 4, trainable * 4, trainable * 8
    if plan.zero3 and plan.gpus > 1:
        weights, grads, opt = weights / plan.gpus, grads / plan.gpus, opt / plan.gpus
    acts = activation_bytes(d, plan)
    if plan.device == "cuda":
        overhead = 1.0 * GIB + 0.10 * (weights + grads + opt + acts)
    else:
        overhead = CPU_RUNTIME
    seconds = None
    if gpu and dataset_tokens:
        tflops = resolve_gpu(gpu)[1]
        flops_per_token = (6 if plan.method == "full" else 4) * n + (2 * n if plan.gradient_checkpointing else 0)
        flops_per_token += 6 * d.layers * plan.seq_len * d.heads * d.head_dim  # causal attention, fwd+bwd
        seconds = dataset_tokens * flops_per_token / (plan.gpus * tflops * 1e12 * MFU)
    return Estimate(plan, n, trainable, weights, grads, opt, acts, overhead, seconds)


def resolve_gpu(name: str) -> tuple[float, float]:
    """(memory GiB, TFLOPs) of a named GPU: 'A100-80G', 'a100', '4090', 'H100' (case-insensitive)."""
    key = name.upper().replace("RTX", "").replace(" ", "").strip("-")
    for known, spec in GPUS.items():
        if key == known.upper() or known.upper().startswith(key + "-"):
            return spec
    raise NotFoundError(f"unknown GPU '{name}'", f"known: {', '.join(GPUS)}; or give --gpu-memory in GiB")


@dataclass(frozen=True)
class Advice:
    requested: Estimate
    fits: bool
    recommended: Estimate | None  # None when nothing tried fits
    steps: list[str]  # what was changed to get from requested to recommended


def advise(d: Dims, plan: Plan, memory_gib: float, gpu: str | None = None,
           dataset_tokens: int | None = None) -> Advice:
    """Does `plan` fit in `memory_gib` per device? If not, the first change (in order of least harm to
    quality and speed) that fits: gradient checkpointing, smaller micro-batch with accumulation to keep
    the effective batch, LoRA, QLoRA, then ZeRO-3 across more GPUs."""
    budget = memory_gib * GIB * 0.95

    def est(p: Plan) -> Estimate:
        return estimate(d, p, gpu, dataset_tokens)

    first = est(plan)
    if first.total <= budget:
        return Advice(first, True, first, [])
    steps: list[str] = []
    p = plan
    candidates: list[tuple[str, Plan]] = []
    if not p.gradient_checkpointing:
        p = replace(p, gradient_checkpointing=True)
        candidates.append(("turn on gradient checkpointing", p))
    while p.batch > 1:
        p = replace(p, batch=p.batch // 2, grad_accum=p.grad_accum * 2)
        candidates.append((f"micro-batch {p.batch} with gradient accumulation {p.grad_accum}", p))
    if p.method == "full":
        p = replace(p, method="lora")
        candidates.append((f"LoRA rank {p.lora_rank} instead of full fine-tuning", p))
    if p.method == "lora" and p.device == "cuda":
        p = replace(p, method="qlora")
        candidates.append(("QLoRA (4-bit base weights)", p))
    for gpus in (2, 4, 8, 16, 32, 64):
        if gpus > p.gpus:
            candidates.append((f"{gpus} GPUs with DeepSpeed ZeRO-3 (`--launch zero3 --gpus {gpus}`)",
                               replace(p, gpus=gpus, zero3=True)))
    for why, cand in candidates:
        steps.append(why)
        e = est(cand)
        if e.total <= budget:
            return Advice(first, False, e, steps)
    return Advice(first, False, None, steps)
