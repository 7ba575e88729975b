"""Prefix caching: the KV cache of a prompt prefix that requests share, kept and reused instead of recomputed.

Design choices:
- Prompts are cut into blocks of `BLOCK` tokens, each block's hash chained to the one before it (and to the
  LoRA adapter's name: an adapter changes the keys and values), so a hash names a whole prefix, as in vLLM's
  automatic prefix caching. Only whole blocks are cached; the tokens past the last one are computed.
- A prefix is stored the second time it is seen, and only the part that was shared: every prompt's block
  hashes go into a bounded `seen` set, and a prompt whose first k blocks were seen before stores those k
  blocks. A system prompt or a few-shot template is stored once, after its second request; prompts that
  share nothing ("hello 1", "hello 2", ...) store nothing, so a stream of distinct prompts costs no memory.
- An entry is one tensor pair per layer, [1, kv_heads, tokens, head_dim], copied out of the prefill's cache.
  Every block hash of an entry points to it (`index`), so a prompt that shares only the first blocks of an
  entry reuses those: a hit copies that many columns into the new sequence's cache.
- The cache is bounded in bytes (`capacity`) and evicts the least recently used entry. Its bytes count
  against the engine's memory budget: the engine evicts entries before it makes a request wait for memory.
  An entry's bytes are its tensors' plus what holding them costs besides (`entry_bytes`: the tensor objects,
  the lists and the index, measured at about 1.5 KB an entry and 0.35 KB a tensor): for a small model's
  one-block entry that is as much again as its keys and values, and a cache counting only tensors would hold
  twice its capacity.
- A bounded cache still grows until it is full: prompts that share one block (a 16-token chat header plus a
  few words) each store an entry on their second sighting. The soak (bench/serve_soak.py) reads
  `luban_prefix_cache_bytes` beside the server's RSS to tell that filling from a leak.
- Token ids are compared on a hit, so a hash collision costs a miss, never a wrong answer.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from transformers.cache_utils import DynamicCache

from luban.serve.engine import kv

BLOCK = 16  # tokens per block: vLLM's default block size
SEEN = 8192  # block hashes remembered to detect a shared prefix (about 1 MB; ~260 prompts of 500 tokens)
ENTRY_OVERHEAD = 1536  # bytes an entry costs besides its tensors: Entry, ids and hashes lists, index slots
TENSOR_OVERHEAD = 384  # bytes a tensor costs besides its data: the Python object, TensorImpl, Storage, malloc


def entry_bytes(keys: list[torch.Tensor], values: list[torch.Tensor]) -> int:
    """What holding these keys and values costs in memory: their data and the objects around it."""
    tensors = keys + values
    return sum(t.numel() * t.element_size() for t in tensors) + ENTRY_OVERHEAD + TENSOR_OVERHEAD * len(tensors)


def block_hashes(ids: list[int], salt: str) -> list[int]:
    """One chained hash per whole block of `ids`: hashes[k] names the prefix ids[:(k + 1) * BLOCK]."""
    out, h = [], hash(salt)
    for k in range(len(ids) // BLOCK):
        h = hash((h, *ids[k * BLOCK:(k + 1) * BLOCK]))
        out.append(h)
    return out


@dataclass(eq=False)
class Entry:
    ids: list[int]  # the prefix's tokens, a whole number of blocks
    hashes: list[int]
    keys: list[torch.Tensor]  # per layer [1, kv_heads, tokens, head_dim]
    values: list[torch.Tensor]
    nbytes: int


class PrefixCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[int, Entry] = OrderedDict()  # by last block hash, least recently used first
        self.index: dict[int, Entry] = {}  # any block hash -> an entry holding that prefix
        self.seen: OrderedDict[int, None] = OrderedDict()
        self.bytes = 0
        self.queries = self.hits = self.hit_tokens = 0

    def lookup(self, ids: list[int], salt: str) -> tuple[Entry, int] | None:
        """The entry holding the longest cached prefix of `ids` (at least one token is left to compute) and
        that prefix's length; None on a miss."""
        self.queries += 1
        hashes = block_hashes(ids[:len(ids) - 1], salt)
        for j in range(len(hashes), 0, -1):
            entry = self.index.get(hashes[j - 1])
            n = j * BLOCK
            if entry is not None and entry.ids[:n] == ids[:n]:
                self.entries.move_to_end(entry.hashes[-1])
                self.hits += 1
                self.hit_tokens += n
                return entry, n
        return None

    def shared(self, ids: list[int], salt: str, cached: int) -> int:
        """Record the prompt `ids` as seen; return how many of its first tokens an earlier prompt shared and
        are worth storing (0 when no more than the `cached` tokens it already reused)."""
        hashes = block_hashes(ids[:len(ids) - 1], salt)
        shared = 0
        for j in range(len(hashes), 0, -1):
            if hashes[j - 1] in self.seen:
                shared = j * BLOCK
                break
        for h in hashes:
            self.seen[h] = None
            self.seen.move_to_end(h)
        while len(self.seen) > SEEN:
            self.seen.popitem(last=False)
        return shared if shared > cached else 0

    def insert(self, ids: list[int], salt: str, keys: list[torch.Tensor], values: list[torch.Tensor]) -> None:
        """Store the KV of the prefix `ids` (a whole number of blocks), evicting old entries to make room."""
        nbytes = entry_bytes(keys, values)
        if nbytes > self.capacity:
            return
        while self.entries and self.bytes + nbytes > self.capacity:
            self.evict()
        hashes = block_hashes(ids, salt)
        old = self.entries.pop(hashes[-1], None)
        if old is not None:
            self.bytes -= old.nbytes
        entry = Entry(list(ids), hashes, keys, values, nbytes)
        self.entries[hashes[-1]] = entry
        for h in hashes:
            self.index[h] = entry
        self.bytes += nbytes

    def evict(self) -> None:
        """Drop the least recently used entry; its prefixes stay findable through other entries holding them."""
        _, entry = self.entries.popitem(last=False)
        self.bytes -= entry.nbytes
        for pos, h in enumerate(entry.hashes):
            if self.index.get(h) is entry:
                other = next((e for e in reversed(self.entries.values())
                              if len(e.hashes) > pos and e.hashes[pos] == h), None)
                if other is None:
                    del self.index[h]
                else:
                    self.index[h] = other

    def shrink_to(self, nbytes: int) -> None:
        """Evict until the cache holds at most `nbytes`."""
        while self.entries and self.bytes > nbytes:
            self.evict()


def seeded_cache(entry: Entry, n: int, extra: int, num_layers: int) -> DynamicCache:
    """A new one-row cache holding the first `n` tokens of `entry`, with room for `extra` more."""
    cache = kv.new_cache(num_layers)
    for layer, k, v in zip(cache.layers, entry.keys, entry.values):
        assert isinstance(layer, kv.BufferLayer)
        kbuf = k.new_empty((1, k.shape[1], n + extra + kv.HEADROOM, k.shape[3]))
        vbuf = v.new_empty((1, v.shape[1], n + extra + kv.HEADROOM, v.shape[3]))
        kbuf[:, :, :n] = k[:, :, :n]
        vbuf[:, :, :n] = v[:, :, :n]
        layer.set_buffers(kbuf, vbuf, n)
    return cache


def row_prefix(cache: DynamicCache, row: int, start: int, n: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Copies of `n` cached columns from `start` in one row of `cache`, per layer (keys, values)."""
    keys, values = [], []
    for layer in cache.layers:
        assert isinstance(layer, kv.BufferLayer) and layer.kbuf is not None and layer.vbuf is not None
        keys.append(layer.kbuf[row:row + 1, :, start:start + n].clone())
        values.append(layer.vbuf[row:row + 1, :, start:start + n].clone())
    return keys, values
