"""ONNX Runtime backend: a decoder graph with KV cache (from `luban.compress.onnx_export` or Optimum).

Design choices:
- The directory holds `model.onnx` next to the tokenizer files and config.json, as the exporter writes
  it; cache shapes (layers, kv heads, head dim, float dtype) are read from the graph's own inputs, so
  a graph exported by `optimum-cli export onnx` (same input/output names) loads unchanged.
- Concurrent requests share one batch: the transformers backend's continuous-batching engine
  (`luban.serve.engine.scheduler`) drives the graph through `OrtCausalLM`
  (`luban.serve.backends.onnx_model`), so a decode step is ONE `InferenceSession.run` of
  [rows, 1] tokens over a left-padded past, and requests join and leave between steps. The queue
  is bounded (429 with Retry-After when full) and served first come, first served.
- Everything around the forward pass is therefore shared with the transformers backend: chat
  rendering, the incremental detokenizer, `finish_token` (stop tokens, max_tokens, context limit,
  deadline), the batched sampler and llguidance masks for `response_format`, so both answer alike.
- Options (from `ModelSpec.options`): device, threads, max_batch, max_queue, context_length.
- The graph outputs logits only, so `/v1/embeddings` is not offered for ONNX models.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from luban.core.errors import NotFoundError, UsageError
from luban.serve.backends.base import Backend, Capabilities, GenerationRequest, ModelSpec, Occupancy, Step
from luban.serve.backends.chat import render_with_tools

ORT_FLOATS = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(bfloat16)": "float32"}


def find_graph(source: Path) -> Path:
    """`source` itself when it is an .onnx file, else `source/model.onnx`."""
    if source.is_file() and source.suffix == ".onnx":
        return source
    if (source / "model.onnx").is_file():
        return source / "model.onnx"
    raise NotFoundError(f"no model.onnx in {source}",
                        "export one with the compress.onnx stage (luban.compress.onnx_export.export_onnx)")


def eos_ids(folder: Path, tokenizer: Any) -> list[int]:
    """EOS ids from generation_config.json plus the tokenizer's own eos token."""
    ids: list[int] = []
    gen = folder / "generation_config.json"
    if gen.is_file():
        raw = json.loads(gen.read_text()).get("eos_token_id")
        ids += raw if isinstance(raw, list) else ([raw] if raw is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    return list(dict.fromkeys(int(i) for i in ids)) or [0]


class OnnxBackend(Backend):
    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.model_id = spec.model_id
        self.capabilities = Capabilities(context_length=0)
        self.session: Any = None
        self.tokenizer: Any = None
        self.constraints: Any = None
        self.eos: frozenset[int] = frozenset()
        self.past_names: list[str] = []
        self.past_shape: tuple[int, int] = (0, 0)  # (kv heads, head dim)
        self.past_dtype = "float32"
        self.engine: Any = None

    def load(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise UsageError("the ONNX backend needs onnxruntime", "pip install 'luban[onnx]'") from e
        import torch

        from luban.models.loading import load_tokenizer
        from luban.serve.backends.onnx_model import OrtCausalLM
        from luban.serve.constrain import ConstraintFactory
        from luban.serve.engine.scheduler import Engine

        source = Path(self.spec.source)
        graph = find_graph(source)
        folder = graph.parent
        self.tokenizer = load_tokenizer(folder)
        opts = ort.SessionOptions()
        if self.spec.options.get("threads"):
            opts.intra_op_num_threads = int(self.spec.options["threads"])
        self.session = ort.InferenceSession(str(graph), opts, providers=self._providers(ort))
        inputs = {i.name: i for i in self.session.get_inputs()}
        past = [n for n in inputs if n.startswith("past_key_values.")]
        ordered = [f"past_key_values.{i}.{kv}" for i in range(len(past) // 2) for kv in ("key", "value")]
        self.past_names = ordered if set(ordered) == set(past) else past
        if "input_ids" not in inputs or not self.past_names:
            raise UsageError(f"{graph} is not a decoder graph with a KV cache",
                             "export it with luban.compress.onnx_export.export_onnx")
        first = inputs[self.past_names[0]]
        self.past_shape = (int(first.shape[1]), int(first.shape[3]))
        self.past_dtype = ORT_FLOATS.get(first.type, "float32")
        self.input_names = set(inputs)
        eos = eos_ids(folder, self.tokenizer)
        self.eos = frozenset(eos)
        config = json.loads((folder / "config.json").read_text()) if (folder / "config.json").is_file() else {}
        ctx = int(config.get("max_position_embeddings") or self.spec.options.get("context_length") or 2048)
        vocab = int(self.session.get_outputs()[0].shape[-1]) if isinstance(
            self.session.get_outputs()[0].shape[-1], int) else len(self.tokenizer)
        self.constraints = ConstraintFactory(self.tokenizer, vocab, eos)
        model = OrtCausalLM(self.session, self.past_names, self.past_shape, self.past_dtype)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else eos[0]
        opt = self.spec.options
        self.engine = Engine(model, eos, ctx, vocab, self._token_text, max_batch=int(opt.get("max_batch", 32)),
                             max_queue=int(opt.get("max_queue", 256)), pad_id=pad, num_layers=model.num_layers,
                             device=torch.device("cpu"))
        self.engine.start()
        self.capabilities = Capabilities(context_length=ctx, logprobs=True, constrained=True, vocab_size=vocab)

    def _providers(self, ort: Any) -> list[str]:
        wanted = self.spec.options.get("device", "cpu")
        if wanted == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
        return ["CPUExecutionProvider"]

    def encode(self, text: str) -> list[int]:
        bos = self.tokenizer.bos_token
        add = bos is not None and not text.startswith(bos)
        ids: list[int] = self.tokenizer(text, add_special_tokens=add)["input_ids"]
        return ids

    def render_chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> str:
        return render_with_tools(self.tokenizer, messages, tools)

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def _token_text(self, token_id: int) -> str:
        text: str = self.tokenizer.decode([token_id])
        return text

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
        raise UsageError(f"model '{self.model_id}' is served by ONNX Runtime, which has no embeddings here",
                         "serve the model with the hf backend for /v1/embeddings")

    async def aclose(self) -> None:
        if self.engine is not None:
            await asyncio.to_thread(self.engine.stop)
        self.session = None

    def occupancy(self) -> Occupancy | None:
        return self.engine.occupancy() if self.engine is not None else None
