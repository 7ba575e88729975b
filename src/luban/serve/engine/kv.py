"""A padded, batched KV cache whose rows can join and leave between decode steps.

Design choices (measured on 2 CPU cores, see docs/serving.md):
- One cache tensor per layer of shape [rows, kv_heads, capacity, head_dim], left-padded: every row's
  real tokens end at the same column, so a decode step is ONE forward of [rows, 1] tokens with an
  attention mask that hides each row's padding and per-row `position_ids`. This beats a cache per
  sequence that would be re-stacked (copied) at every step.
- transformers' `DynamicLayer` concatenates on every `update` (a full copy per token); `BufferLayer`
  writes into pre-allocated capacity and returns a view, growing by doubling.
- Joining rows (a batch of prefilled prompts) and leaving rows cost a copy, but only at that step.
- Leading columns that are padding in every row are trimmed when rows leave, so a long finished
  request does not keep the batch wide.
"""

from __future__ import annotations

from typing import cast

import torch
from transformers.cache_utils import DynamicCache, DynamicLayer

HEADROOM = 64


class BufferLayer(DynamicLayer):
    """A cache layer with spare capacity along the sequence dimension."""

    def __init__(self) -> None:
        super().__init__()
        self.kbuf: torch.Tensor | None = None
        self.vbuf: torch.Tensor | None = None
        self.length = 0

    def set_buffers(self, kbuf: torch.Tensor, vbuf: torch.Tensor, length: int) -> None:
        self.kbuf, self.vbuf, self.length = kbuf, vbuf, length
        self.keys, self.values = kbuf[:, :, :length], vbuf[:, :, :length]
        self.device, self.is_initialized = kbuf.device, True

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: object,
               **kwargs: object) -> tuple[torch.Tensor, torch.Tensor]:
        n = key_states.shape[-2]
        if self.kbuf is None or self.vbuf is None:
            b, h, _, d = key_states.shape
            kbuf = key_states.new_empty((b, h, n + HEADROOM, d))
            vbuf = value_states.new_empty((b, h, n + HEADROOM, d))
            self.set_buffers(kbuf, vbuf, 0)
        assert self.kbuf is not None and self.vbuf is not None
        if self.length + n > self.kbuf.shape[2]:
            self.set_buffers(_grow(self.kbuf, self.length, n), _grow(self.vbuf, self.length, n), self.length)
        assert self.kbuf is not None and self.vbuf is not None
        self.kbuf[:, :, self.length:self.length + n] = key_states
        self.vbuf[:, :, self.length:self.length + n] = value_states
        self.set_buffers(self.kbuf, self.vbuf, self.length + n)
        return cast(torch.Tensor, self.keys), cast(torch.Tensor, self.values)  # set by set_buffers


def _grow(buf: torch.Tensor, length: int, need: int) -> torch.Tensor:
    cap = max(2 * buf.shape[2], length + need + HEADROOM)
    new = buf.new_empty((buf.shape[0], buf.shape[1], cap, buf.shape[3]))
    new[:, :, :length] = buf[:, :, :length]
    return new


def new_cache(num_layers: int) -> DynamicCache:
    """An empty cache of `BufferLayer`s (a DynamicCache, so every model's code path accepts it)."""
    cache = DynamicCache()
    cache.layer_class_to_replicate = None
    cache.layers = [BufferLayer() for _ in range(num_layers)]
    return cache


def select_rows(cache: DynamicCache, mask: torch.Tensor, keep: torch.Tensor) -> tuple[DynamicCache, torch.Tensor]:
    """Keep rows `keep` (a long tensor) and drop leading columns that are padding in all kept rows."""
    mask = mask[keep]
    real = mask.any(dim=0).nonzero()
    start = int(real[0]) if len(real) else mask.shape[1]
    for layer in cache.layers:
        assert isinstance(layer, BufferLayer) and layer.kbuf is not None and layer.vbuf is not None
        layer.set_buffers(layer.kbuf[keep, :, start:], layer.vbuf[keep, :, start:], layer.length - start)
    return cache, mask[:, start:]


def merge(a: DynamicCache | None, amask: torch.Tensor | None, b: DynamicCache,
          bmask: torch.Tensor) -> tuple[DynamicCache, torch.Tensor]:
    """Stack the rows of `b` under those of `a`, left-padding the shorter to the same width."""
    if a is None or amask is None or amask.shape[0] == 0:
        return b, bmask
    width = max(amask.shape[1], bmask.shape[1])
    rows_a, rows_b = amask.shape[0], bmask.shape[0]
    mask = amask.new_zeros((rows_a + rows_b, width))
    mask[:rows_a, width - amask.shape[1]:] = amask
    mask[rows_a:, width - bmask.shape[1]:] = bmask
    for la, lb in zip(a.layers, b.layers):
        assert isinstance(la, BufferLayer) and isinstance(lb, BufferLayer)
        bufs = []
        for xa, xb in ((la.keys, lb.keys), (la.values, lb.values)):
            assert xa is not None and xb is not None
            h, d = xa.shape[1], xa.shape[3]
            buf = xa.new_zeros((rows_a + rows_b, h, width + HEADROOM, d))
            buf[:rows_a, :, width - xa.shape[2]:width] = xa
            buf[rows_a:, :, width - xb.shape[2]:width] = xb
            bufs.append(buf)
        la.set_buffers(bufs[0], bufs[1], width)
    return a, mask
