"""Hugging Face transformers backend (CPU or CUDA) on the continuous-batching engine.

Design choices:
- Weights, tokenizer, chat template and EOS ids come from the model directory itself
  (`generation_config.json` eos ids plus the tokenizer's eos), never from a hard-coded family table.
- LoRA adapters are loaded once into one `PeftModel` (`load_adapter` per name) and chosen per
  request; the base weights are shared, nothing is reloaded.
- `count_tokens` and the engine use the same `encode`, so `usage.prompt_tokens` is exactly what the
  model saw. BOS is added only when the tokenizer has one and the text does not start with it
  (chat templates usually write it themselves).
- Options (from `ModelSpec.options`): device, dtype, max_batch, max_queue, threads, kv_memory (bytes),
  prefix_cache (bytes for the prefix cache, 0 = off; default: an eighth of kv_memory, at most 1 GB).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from luban.serve.backends.base import Backend, Capabilities, GenerationRequest, ModelSpec, Occupancy, Step
from luban.serve.backends.chat import clean_text, render_with_tools


class HFBackend(Backend):
    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.model_id = spec.model_id
        self.capabilities = Capabilities(context_length=0)
        self.engine: Any = None
        self.tokenizer: Any = None
        self.model: Any = None
        self.constraints: Any = None
        self._embed_lock = threading.Lock()

    def load(self) -> None:
        import torch

        from luban.models.loading import load_causal_lm, load_tokenizer, serving_dtype
        from luban.serve.constrain import ConstraintFactory
        from luban.serve.engine.scheduler import Engine

        opts = self.spec.options
        if opts.get("threads"):
            torch.set_num_threads(int(opts["threads"]))
        path = Path(self.spec.source)
        self.tokenizer = load_tokenizer(path)
        self.dtype = serving_dtype(opts.get("dtype", "auto"), opts.get("device"))
        model = load_causal_lm(path, dtype=self.dtype, device=opts.get("device"))
        if self.spec.adapters:
            from peft import PeftModel

            items = list(self.spec.adapters.items())
            model = PeftModel.from_pretrained(model, items[0][1], adapter_name=items[0][0])
            for name, adapter_dir in items[1:]:
                model.load_adapter(adapter_dir, adapter_name=name)
            model.eval()
        self.model = model
        cfg = model.config.get_text_config()
        eos = self._eos_ids(path)
        vocab = int(model.get_output_embeddings().weight.shape[0])
        ctx = int(getattr(cfg, "max_position_embeddings", 0) or 2048)
        self.constraints = ConstraintFactory(self.tokenizer, vocab, eos)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else eos[0]
        self.engine = Engine(model, eos, ctx, vocab, self._token_text,
                             max_batch=int(opts.get("max_batch", 32)), max_queue=int(opts.get("max_queue", 256)),
                             pad_id=pad, peft=bool(self.spec.adapters), adaptive_threads=not opts.get("threads"),
                             memory_budget=int(opts["kv_memory"]) if opts.get("kv_memory") else None,
                             prefix_cache=int(opts["prefix_cache"]) if "prefix_cache" in opts else None)
        self.engine.start()
        self.capabilities = Capabilities(context_length=ctx, embeddings=True, logprobs=True, constrained=True,
                                         adapters=tuple(self.spec.adapters), vocab_size=vocab,
                                         prompt_logprobs=True)

    def _eos_ids(self, path: Path) -> list[int]:
        ids: list[int] = []
        gen = path / "generation_config.json"
        if gen.is_file():
            raw = json.loads(gen.read_text()).get("eos_token_id")
            ids += raw if isinstance(raw, list) else ([raw] if raw is not None else [])
        if self.tokenizer.eos_token_id is not None:
            ids.append(int(self.tokenizer.eos_token_id))
        return list(dict.fromkeys(int(i) for i in ids)) or [0]

    def _token_text(self, token_id: int) -> str:
        text: str = self.tokenizer.decode([token_id])
        return text

    def encode(self, text: str) -> list[int]:
        text = clean_text(text)
        bos = self.tokenizer.bos_token
        add = bos is not None and not text.startswith(bos)
        ids: list[int] = self.tokenizer(text, add_special_tokens=add)["input_ids"]
        return ids

    def render_chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> str:
        return render_with_tools(self.tokenizer, messages, tools)

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[Step, None]:
        prompt_ids = request.prompt if isinstance(request.prompt, list) else self.encode(request.prompt)
        p = request.params
        matcher = self.constraints.matcher(p.constraint) if p.constraint is not None else None
        steps = self.engine.stream(request, prompt_ids, self.tokenizer, matcher)
        try:
            async for step in steps:
                yield step
        finally:
            await steps.aclose()  # cancels the sequence now, not when the generator is collected

    async def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        return await asyncio.to_thread(self._embed, texts)

    def _embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """Mean of the last hidden states over real tokens, L2-normalised (cosine-ready, like OpenAI's)."""
        import torch

        base = self.model.get_base_model() if self.spec.adapters else self.model
        ids = [self.encode(t)[: self.capabilities.context_length] for t in texts]
        out: list[list[float]] = []
        with self._embed_lock, torch.inference_mode():
            for chunk in range(0, len(ids), 16):
                batch = ids[chunk:chunk + 16]
                width = max(len(x) for x in batch)
                inp = torch.zeros((len(batch), width), dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for i, x in enumerate(batch):
                    inp[i, : len(x)], mask[i, : len(x)] = torch.tensor(x, dtype=torch.long), 1
                dev = next(base.parameters()).device
                hidden = base.model(input_ids=inp.to(dev), attention_mask=mask.to(dev)).last_hidden_state
                m = mask.to(dev).unsqueeze(-1).to(hidden.dtype)
                vec = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
                out += torch.nn.functional.normalize(vec.float(), dim=-1).cpu().tolist()
        return out, sum(len(x) for x in ids)

    async def aclose(self) -> None:
        if self.engine is not None:
            await asyncio.to_thread(self.engine.stop)

    def occupancy(self) -> Occupancy | None:
        return self.engine.occupancy() if self.engine is not None else None
