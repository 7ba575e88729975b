"""An ONNX decoder graph called like a transformers causal LM, so the batching engine can drive it.

Design choices:
- The engine (`luban.serve.engine.scheduler`) calls `model(input_ids, attention_mask, position_ids,
  cache=...)` with a cache of `BufferLayer`s and reads `.logits`. `OrtCausalLM` feeds the cache's
  keys and values as `past_key_values.*`, and appends the new positions of each `present.*` output to
  the cache, so the engine's join, leave and left-padding logic is the same for both backends.
- The graph from `luban.compress.onnx_export` is traced with left padding and a non-empty past, so
  it honours `attention_mask` and `position_ids` per row: a batch of [rows, 1] is one `run`.
- A graph without `position_ids` (older Optimum exports) derives positions from the mask itself;
  Optimum's merged decoders also take `use_cache_branch`.
- The graph returns logits for every input position; only the last is kept (the engine's
  `logits_to_keep=1`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from luban.serve.engine.kv import BufferLayer


@dataclass
class OrtOutput:
    logits: torch.Tensor  # [rows, 1, vocab] float32


class OrtCausalLM:
    def __init__(self, session: Any, past_names: list[str], past_shape: tuple[int, int], past_dtype: str) -> None:
        """`past_names` in graph order (layer 0 key, layer 0 value, ...); `past_shape` = (kv heads, head dim)."""
        self.session = session
        self.past_names = past_names
        self.past_shape = past_shape
        self.past_dtype = np.dtype(past_dtype)
        self.input_names = {i.name for i in session.get_inputs()}
        self.num_layers = len(past_names) // 2
        outputs = [o.name for o in session.get_outputs()]
        # present.{i}.key answers past_key_values.{i}.key (Optimum's naming); else the graph's order.
        wanted = [n.replace("past_key_values", "present", 1) for n in past_names]
        self.output_names = [outputs[0], *wanted] if set(wanted) <= set(outputs) else outputs

    def __call__(self, **kwargs: Any) -> OrtOutput:
        return self.forward(**kwargs)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor,
                cache: Any, use_cache: bool = True, logits_to_keep: int = 1) -> OrtOutput:
        rows, new = input_ids.shape
        feed: dict[str, np.ndarray] = {"input_ids": input_ids.cpu().numpy().astype(np.int64, copy=False),
                                       "attention_mask": attention_mask.cpu().numpy().astype(np.int64, copy=False)}
        if "position_ids" in self.input_names:
            feed["position_ids"] = position_ids.cpu().numpy().astype(np.int64, copy=False)
        past_len = attention_mask.shape[1] - new
        if "use_cache_branch" in self.input_names:
            feed["use_cache_branch"] = np.array([past_len > 0])
        heads, dim = self.past_shape
        layers: list[BufferLayer] = cache.layers
        for i, layer in enumerate(layers):
            for name, x in ((self.past_names[2 * i], layer.keys), (self.past_names[2 * i + 1], layer.values)):
                feed[name] = (np.zeros((rows, heads, 0, dim), dtype=self.past_dtype) if x is None
                              else np.ascontiguousarray(x.numpy()))
        logits, *present = self.session.run(self.output_names, feed)
        for i, layer in enumerate(layers):
            keys, values = present[2 * i][:, :, -new:], present[2 * i + 1][:, :, -new:]
            layer.update(torch.from_numpy(np.ascontiguousarray(keys)), torch.from_numpy(np.ascontiguousarray(values)))
        last = np.ascontiguousarray(logits[:, -1:, :], dtype=np.float32)
        return OrtOutput(torch.from_numpy(last))
