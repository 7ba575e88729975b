"""Continuous batching for a transformers causal LM: sequences join and leave at every decode step.

Design choices:
- One engine thread per model runs the loop; torch releases the GIL inside its kernels, so the
  asyncio server stays responsive. Results go back through each sequence's `sink` (thread-safe).
- Each iteration: drop finished or cancelled rows; prefill newly admitted prompts together (left
  padded, `logits_to_keep=1` so the LM head runs on the last position only) and merge their caches
  into the running batch (`luban.serve.engine.kv`); then ONE forward of [rows, 1] for all rows.
- The waiting queue is bounded: `submit` raises `QueueFull` (the app answers 429 + Retry-After).
- LoRA: with a peft model, each forward passes `adapter_names` (one per row; "__base__" for none),
  so requests for different adapters and for the base share the same batch and the same weights.
- An exception in a forward fails the sequences in that batch (each gets its own error, so one traceback
  is not shared and grown by every request that re-raises it), not the engine: the next step starts from
  an empty batch and the waiting requests are served.
- Memory (`memory_budget`, bytes for KV caches and prefill scores): a sequence whose prompt and
  `max_tokens` alone would need more is refused at submit (`RequestTooLarge`, a 400), and admission stops
  while the running rows' reservations would pass it, so concurrent long requests wait instead of taking
  the process down. Default: half the memory available when the engine starts (CUDA: 90% of free).
- Prefill shapes are bounded (`prefill_groups`, `width_bucket`): rows go in power-of-two groups and the
  left-padded width is rounded up (at most 25%). On CPU in bfloat16 every distinct matmul shape gets a
  oneDNN primitive (and ideep cache entry) of about 1 MB that stays cached, up to 1,024 of each; with prompts
  of every length that was ~16 KB of RSS per request, growing for hours. The caches are also capped
  (`KERNEL_CACHE`, unless set in the environment): decode needs a few entries per batch size.
- `model` is a transformers causal LM, or anything called the same way that fills the cache's
  `BufferLayer`s (the ONNX Runtime backend's `OrtCausalLM`); then pass `num_layers` and `device`.
- Sliding-window models (Mistral's `sliding_window`, Qwen2's `use_sliding_window`, `layer_types`
  mixing "sliding_attention" and "full_attention"): the engine passes only a 2D padding mask and
  the model builds its causal and window masks from it. Every `BufferLayer` keeps the whole past,
  so memory grows with the full context rather than the window, but the output is the same as
  `generate()`'s (tested): in each row the real tokens are contiguous columns, so column distance
  is token distance, which is what transformers' window mask measures.
- CPU threads (`adaptive_threads=True`, the HF backend's default when `--threads` is not given):
  the engine leaves one core to the HTTP server (and whatever else runs on the machine) at every batch
  size. torch's intra-op threads spin at a barrier after every operator, so a forward spread over all
  cores stalls whenever the OS preempts one of its threads for the server, a client or a neighbour.
  Measured on 2 cores, 50M-parameter model: 16 streams 88 tok/s on 2 threads, 211 on 1; one stream
  (2026-12-01, bf16, other jobs at nice 19) 28-40 tok/s on 2 threads, 60-65 on 1, while a bare [1, 1]
  decode step took 11.4 ms on 1 thread and no less on 2 (p10 11.2 ms, median 53 ms). The exception is
  a prefill while no stream decodes (a lone request, or a burst arriving at an idle engine): it is
  compute-bound, so it takes every core (52 prompt tokens: 20-23 ms on 1 thread, 14-17 ms on 2), which
  shortens the time to first token; decode steps then go back to sparing a core.
- Prefix caching (`prefix_cache` bytes, `luban.serve.engine.prefix`): a prompt whose first blocks are cached is
  prefilled alone, its cache seeded with the cached keys and values and only the rest computed (right-padded
  to a bucketed width, the padding's columns dropped after). The cache's bytes count against
  `memory_budget`: admission evicts entries before it makes a request wait.
- Prompt logprobs (`echo` with `logprobs`, `luban.serve.engine.prompt_logprobs`): those prompts are prefilled
  in groups of their own, keeping every position's logits, and never use the prefix cache.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import psutil
import torch

from luban.core.errors import UsageError
from luban.serve.backends.base import GenerationRequest, Occupancy, QueueFull, Step
from luban.serve.constrain import apply_masks
from luban.serve.engine import kv
from luban.serve.engine.detokenize import Detokenizer
from luban.serve.engine.prefix import PrefixCache, row_prefix, seeded_cache
from luban.serve.engine.prompt_logprobs import prompt_logprobs
from luban.serve.engine.sequence import Sequence, finish_token
from luban.serve.sampling import RowState, make_generator, sample

KERNEL_CACHE = "256"  # oneDNN primitives and ideep cache entries kept (each env var's default is 1024)


class RequestTooLarge(UsageError):
    """A sequence that would need more memory than the engine's budget even when running alone."""


def bound_kernel_caches() -> None:
    """Cap oneDNN's primitive cache and ideep's LRU cache (CPU matmuls in bf16/fp16). Both read their
    variable lazily, at the first such matmul, so this works after `import torch` but before a forward."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", KERNEL_CACHE)
    os.environ.setdefault("LRU_CACHE_CAPACITY", KERNEL_CACHE)


def width_bucket(width: int) -> int:
    """A prefill width rounded up: to 16 tokens up to 128, then four steps per doubling (<= 25% padding)."""
    step = 16 if width <= 128 else 1 << (width.bit_length() - 3)
    return -(-width // step) * step


def prefill_groups(seqs: list[Sequence]) -> list[list[Sequence]]:
    """`seqs` in power-of-two groups, largest first (13 -> 8 + 4 + 1), so prefill row counts are few."""
    groups, i = [], 0
    while i < len(seqs):
        size = 1 << ((len(seqs) - i).bit_length() - 1)
        groups.append(seqs[i:i + size])
        i += size
    return groups


def _fmt_bytes(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.1f} MB"


class Engine:
    def __init__(self, model: Any, eos_ids: list[int], context_length: int, vocab_size: int,
                 token_text: Any, *, max_batch: int = 32, max_queue: int = 256,
                 max_prefill_tokens: int = 8192, pad_id: int = 0, peft: bool = False,
                 num_layers: int | None = None, device: torch.device | None = None,
                 adaptive_threads: bool = False, memory_budget: int | None = None,
                 prefix_cache: int | None = 0) -> None:
        self.model, self.eos_ids = model, frozenset(eos_ids)
        self.context_length, self.vocab_size, self.token_text = context_length, vocab_size, token_text
        self.max_batch, self.max_queue, self.max_prefill_tokens = max_batch, max_queue, max_prefill_tokens
        self.pad_id, self.peft = pad_id, peft
        self.device = device if device is not None else next(model.parameters()).device
        base = model.get_base_model() if peft else model
        # transformers 5 renamed `past_key_values` to `cache`; accept both generations of the API.
        self.cache_kw = "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"
        self.num_layers = num_layers or int(model.config.get_text_config().num_hidden_layers)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self.max_threads = min(cores, torch.get_num_threads())
        self.adaptive = adaptive_threads and self.device.type == "cpu" and self.max_threads > 1
        self.waiting: deque[Sequence] = deque()
        self.running: list[Sequence] = []
        self.cache: Any = None
        self.mask: torch.Tensor | None = None  # [rows, width] 1 = real token
        self.positions: torch.Tensor | None = None  # [rows] position of each row's next input token
        self.last: list[int] = []  # each row's last sampled token (the next input)
        self.cond = threading.Condition()
        self.stopped = False
        self.steps = 0
        self.thread = threading.Thread(target=self._loop, name="luban-engine", daemon=True)
        if self.device.type == "cpu":
            bound_kernel_caches()
        self.kv_per_token, self.score_heads = self._geometry(model)
        self.memory_budget = memory_budget if memory_budget is not None else self._default_budget()
        if prefix_cache is None:  # default: an eighth of the budget, at most 1 GB
            prefix_cache = min(self.memory_budget // 8, 2**30)
        self.prefix = PrefixCache(prefix_cache) if prefix_cache > 0 else None

    def _geometry(self, model: Any) -> tuple[int, int]:
        """(KV-cache bytes per token, attention heads); (0, 0) when the model does not say."""
        try:
            cfg = model.config.get_text_config()
            heads = int(cfg.num_attention_heads)
            kv_heads = int(getattr(cfg, "num_key_value_heads", None) or heads)
            head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // heads)
            size = next(model.parameters()).element_size()
        except (AttributeError, StopIteration, TypeError, ValueError):
            return 0, 0
        return 2 * self.num_layers * kv_heads * head_dim * size, heads

    def _default_budget(self) -> int:
        if self.device.type == "cuda":
            return int(0.9 * torch.cuda.mem_get_info(self.device)[0])
        return int(0.5 * psutil.virtual_memory().available)

    def sequence_bytes(self, prompt_tokens: int, max_tokens: int, scores_prompt: bool = False) -> int:
        """Memory one sequence may need: its KV cache at full length (x2: buffers grow by doubling and are
        copied when rows join) plus the float32 attention scores of its prefill (and, when it scores its
        prompt, the float32 logits and log-softmax of every prompt position)."""
        width = width_bucket(prompt_tokens)
        logits = 8 * self.vocab_size * width if scores_prompt else 0
        return 2 * self.kv_per_token * (width + max_tokens) + 4 * self.score_heads * width * width + logits

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        if self.adaptive:
            torch.set_num_threads(self.max_threads)  # torch's thread count is process-wide: give it back

    def submit(self, seq: Sequence) -> None:
        """Queue `seq`; `QueueFull` (429) past `max_queue`, `RequestTooLarge` (400) past the memory budget."""
        need = self.sequence_bytes(len(seq.prompt_ids), seq.request.params.max_tokens, seq.scores_prompt)
        if self.kv_per_token and need > self.memory_budget:
            raise RequestTooLarge(
                f"this request needs about {_fmt_bytes(need)} of memory per choice for its KV cache "
                f"({len(seq.prompt_ids)} prompt tokens + {seq.request.params.max_tokens} max_tokens), more than "
                f"the {_fmt_bytes(self.memory_budget)} this server allows", "shorten the prompt or lower max_tokens")
        seq.reserved = need
        with self.cond:
            if len(self.waiting) >= self.max_queue:  # clients that left while waiting hold no place
                self.waiting = deque(s for s in self.waiting if not s.cancelled)
            if len(self.waiting) >= self.max_queue:
                raise QueueFull(retry_after=max(1, len(self.waiting) // max(1, self.max_batch)))
            self.waiting.append(seq)
            self.cond.notify()

    async def stream(self, request: GenerationRequest, prompt_ids: list[int], tokenizer: Any,
                     matcher: Any = None) -> AsyncIterator[Step]:
        """Submit one request and yield its steps as the engine thread produces them; a consumer that stops
        early (client gone, timeout) cancels the sequence, which the engine drops at its next step."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Step | BaseException] = asyncio.Queue()
        p = request.params
        def sink(item: Step | BaseException) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        seq = Sequence(request, list(prompt_ids), sink,
                       RowState(p, [], make_generator(p.seed)), Detokenizer(tokenizer), matcher)
        self.submit(seq)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.finish_reason is not None:
                    return
        finally:
            seq.cancelled = True  # no-op when finished; otherwise the engine drops it at the next step

    def _loop(self) -> None:
        with torch.inference_mode():
            while True:
                with self.cond:
                    while not self.stopped and not self.waiting and not self.running:
                        self.cond.wait()
                    if self.stopped:
                        break
                    admitted = self._admit()
                try:
                    self._compact()
                    if self.adaptive and admitted:
                        # no stream decoding: the (compute-bound) prefill may take every core
                        self._use_threads(self.max_threads if not self.running else self.max_threads - 1)
                    for chunk in self._chunks(admitted):
                        self._prefill(chunk)
                    self._compact()
                    if self.running:
                        if self.adaptive:
                            self._use_threads(self.max_threads - 1)
                        self._decode()
                        self.steps += 1
                except Exception as err:  # noqa: BLE001 - fail these sequences, keep serving
                    for seq in dict.fromkeys(self.running + admitted):
                        if not seq.done:
                            seq.done = True
                            failed = RuntimeError(f"the model failed on this batch: {type(err).__name__}: {err}")
                            failed.__cause__ = err
                            seq.sink(failed)
                    del err  # its traceback holds the batch's tensors
                    self.running, self.cache, self.mask, self.positions, self.last = [], None, None, None, []
        for seq in list(self.waiting) + self.running:
            if not seq.done:  # a finished row may wait for the next step's compaction
                seq.done = True
                seq.sink(RuntimeError("the engine stopped"))

    def _use_threads(self, n: int) -> None:
        # checked every iteration: torch's count is process-wide and another thread (embeddings) may set it
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)

    def _admit(self) -> list[Sequence]:
        """Waiting sequences that fit the batch and the memory budget, first come first served."""
        out: list[Sequence] = []
        reserved = sum(s.reserved for s in self.running)
        while self.waiting and len(self.running) + len(out) < self.max_batch:
            seq = self.waiting[0]
            if seq.cancelled:
                self.waiting.popleft()
                continue
            if self.prefix is not None and reserved + seq.reserved + self.prefix.bytes > self.memory_budget:
                self.prefix.shrink_to(max(0, self.memory_budget - reserved - seq.reserved))
            if self.kv_per_token and (self.running or out) and reserved + seq.reserved > self.memory_budget:
                break  # waits for running rows to leave
            self.waiting.popleft()
            reserved += seq.reserved
            out.append(seq)
        return out

    def _chunks(self, seqs: list[Sequence]) -> list[list[Sequence]]:
        """Split admitted prompts so one prefill pads at most `max_prefill_tokens` tokens; a prompt with a
        cached prefix goes alone, and prompts that score themselves go together."""
        hits: list[list[Sequence]] = []
        plain: list[Sequence] = []
        for s in seqs:
            if self.prefix is not None and not s.scores_prompt:
                s.prefix = self.prefix.lookup(s.prompt_ids, s.adapter)
            if s.prefix is not None:
                hits.append([s])
            else:
                plain.append(s)
        chunks: list[list[Sequence]] = []
        cur: list[Sequence] = []
        for s in sorted(plain, key=lambda s: (s.scores_prompt, len(s.prompt_ids))):
            if cur and ((len(cur) + 1) * len(s.prompt_ids) > self.max_prefill_tokens
                        or s.scores_prompt != cur[0].scores_prompt):
                chunks.append(cur)
                cur = []
            cur.append(s)
        chunks += [cur] if cur else []
        return hits + [g for c in chunks for g in prefill_groups(c)]

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor, cache: Any,
                 seqs: list[Sequence], keep: int | torch.Tensor = 1) -> torch.Tensor:
        """The logits of the last `keep` positions (0: all; a tensor: those positions), [rows, positions, vocab]."""
        extra: dict[str, Any] = {"adapter_names": [s.adapter for s in seqs]} if self.peft else {}
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True,
                         logits_to_keep=keep, **{self.cache_kw: cache}, **extra)
        logits: torch.Tensor = out.logits
        return logits

    def _prefill(self, seqs: list[Sequence]) -> None:
        if seqs[0].prefix is not None:
            self._prefill_cached(seqs[0])
            return
        width = width_bucket(max(len(s.prompt_ids) for s in seqs))
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, width - len(s.prompt_ids):] = torch.tensor(s.prompt_ids)
            mask[i, width - len(s.prompt_ids):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        pos = (mask.cumsum(1) - 1).clamp(min=0)
        cache = kv.new_cache(self.num_layers)
        scoring = seqs[0].scores_prompt  # `_chunks` never mixes scoring and plain prompts
        logits = self._forward(ids, mask, pos, cache, seqs, keep=0 if scoring else 1)
        if scoring:
            for i, s in enumerate(seqs):
                self._send_prompt_logprobs(s, logits[i, width - len(s.prompt_ids):width - 1])
        else:
            for i, s in enumerate(seqs):
                self._store_prefix(s, cache, i, width - len(s.prompt_ids))
        tokens = self._sample(seqs, logits[:, -1, :].float())  # sampling and logprobs in float32
        self._join(seqs, cache, mask, tokens)

    def _prefill_cached(self, seq: Sequence) -> None:
        """Prefill `seq` from its cached prefix: only the rest of the prompt goes through the model, right-padded
        to a bucketed width (causal attention keeps the padding out of the real tokens; its columns are dropped)."""
        assert seq.prefix is not None
        entry, n = seq.prefix
        seq.prefix = None  # the entry may be evicted later: the sequence holds no reference
        rest = seq.prompt_ids[n:]
        width = width_bucket(len(rest))
        cache = seeded_cache(entry, n, width, self.num_layers)
        ids = torch.full((1, width), self.pad_id, dtype=torch.long)
        ids[0, :len(rest)] = torch.tensor(rest)
        total = n + len(rest)
        mask = torch.ones((1, n + width), dtype=torch.long, device=self.device)
        # the padding's positions may pass the context window: clamped (its outputs are dropped anyway)
        pos = torch.arange(n, n + width, device=self.device).clamp(max=self.context_length - 1).unsqueeze(0)
        last = torch.tensor([len(rest) - 1], device=self.device)  # the LM head runs on that position only
        logits = self._forward(ids.to(self.device), mask, pos, cache, [seq], keep=last)
        for layer in cache.layers:
            assert isinstance(layer, kv.BufferLayer) and layer.kbuf is not None and layer.vbuf is not None
            layer.set_buffers(layer.kbuf, layer.vbuf, total)
        self._store_prefix(seq, cache, 0, 0, cached=n)
        row = logits[:, 0] if logits.shape[1] == 1 else logits[:, len(rest) - 1]  # a model that keeps every position
        tokens = self._sample([seq], row.float())
        self._join([seq], cache, mask[:, :total], tokens)

    def _store_prefix(self, seq: Sequence, cache: Any, row: int, start: int, cached: int = 0) -> None:
        """Cache the part of `seq`'s prompt that an earlier prompt shared (its KV from `start` in `row`)."""
        if self.prefix is None:
            return
        n = self.prefix.shared(seq.prompt_ids, seq.adapter, cached)
        if n:
            keys, values = row_prefix(cache, row, start, n)
            self.prefix.insert(seq.prompt_ids[:n], seq.adapter, keys, values)

    def _send_prompt_logprobs(self, seq: Sequence, logits: torch.Tensor) -> None:
        p = seq.request.params
        entries = prompt_logprobs(logits, seq.prompt_ids, p.prompt_logprobs or 0, seq.detok.tokenizer,
                                  self.token_text)
        finished = p.max_tokens == 0
        seq.sink(Step(text="", prompt_logprobs=entries, finish_reason="length" if finished else None,
                      prompt_tokens=len(seq.prompt_ids)))
        if finished:
            seq.done = True  # nothing to generate: the sampled token is dropped at the next compaction

    def _join(self, seqs: list[Sequence], cache: Any, mask: torch.Tensor, tokens: list[int]) -> None:
        """Add freshly prefilled rows (their cache, mask and first sampled tokens) to the running batch."""
        self.cache, self.mask = kv.merge(self.cache, self.mask, cache, mask)
        new_pos = torch.tensor([len(s.prompt_ids) for s in seqs], device=self.device)
        self.positions = new_pos if self.positions is None else torch.cat([self.positions, new_pos])
        self.running += seqs
        self.last += tokens

    def _decode(self) -> None:
        assert self.mask is not None and self.positions is not None
        ids = torch.tensor(self.last, dtype=torch.long, device=self.device).unsqueeze(1)
        self.mask = torch.cat([self.mask, self.mask.new_ones((self.mask.shape[0], 1))], dim=1)
        logits = self._forward(ids, self.mask, self.positions.unsqueeze(1), self.cache, self.running)[:, -1].float()
        self.positions = self.positions + 1
        self.last = self._sample(self.running, logits)

    def _sample(self, seqs: list[Sequence], logits: torch.Tensor) -> list[int]:
        constrained = [i for i, s in enumerate(seqs) if s.matcher is not None and not s.done]
        raw = None
        if constrained:
            raw = logits.clone()
            apply_masks(logits, constrained, [seqs[i].matcher for i in constrained], self.vocab_size)
        picked = sample(logits, [s.row for s in seqs], raw)
        for s, tok, lp in zip(seqs, picked.tokens, picked.logprobs):
            if not s.done:
                finish_token(s, tok, lp, self.eos_ids, self.context_length, self.token_text)
        return picked.tokens

    def _compact(self) -> None:
        keep = [i for i, s in enumerate(self.running) if not (s.done or s.cancelled)]
        if len(keep) == len(self.running):
            return
        if not keep:
            self.running, self.cache, self.mask, self.positions, self.last = [], None, None, None, []
            return
        assert self.mask is not None and self.positions is not None
        idx = torch.tensor(keep, dtype=torch.long, device=self.device)
        self.cache, self.mask = kv.select_rows(self.cache, self.mask, idx)
        self.positions = self.positions[idx]
        self.running = [self.running[i] for i in keep]
        self.last = [self.last[i] for i in keep]

    def occupancy(self) -> Occupancy:
        """Sequences running and waiting now, and decode steps so far (for /metrics)."""
        pc = self.prefix
        if pc is None:
            return Occupancy(running=len(self.running), waiting=len(self.waiting), steps=self.steps)
        return Occupancy(running=len(self.running), waiting=len(self.waiting), steps=self.steps,
                         prefix_queries=pc.queries, prefix_hits=pc.hits, prefix_hit_tokens=pc.hit_tokens,
                         prefix_cache_bytes=pc.bytes)
