"""GGUF backend through llama-cpp-python (optional extra `gguf`): quantized models on CPU or edge boxes.

Design choices:
- `llama_cpp` is imported in `load`, so the server and its tests run without the extra; a missing
  extra is a one-line UsageError naming `pip install 'luban[gguf]'`.
- One llama.cpp context per model and an asyncio lock around it: llama.cpp's Python context is not
  thread-safe, so requests to a GGUF model decode one at a time, in arrival order (waiting requests
  beyond `max_queue` get the usual 429). Successive requests that share a prefix reuse its KV cache
  (`Llama.generate(reset=True)` keeps the matching prefix).
- Sampling runs inside llama.cpp with OpenAI's meaning of the knobs: temperature 0 is greedy,
  top_k 0 and min_p 0 are off, penalties are OpenAI's presence/frequency ones, `seed` re-seeds.
  `response_format` becomes a llama.cpp grammar (`LlamaGrammar.from_json_schema`).
- The chat template is the GGUF's own `tokenizer.chat_template`, rendered with the same message
  normalisation and tool prompt as the other backends; text is decoded incrementally as UTF-8 so a
  character split over tokens is never emitted half.
- Stop tokens, max_tokens, context limit and deadline go through the shared `finish_token`.
"""

from __future__ import annotations

import asyncio
import codecs
import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from luban.core.errors import NotFoundError, UsageError
from luban.serve.backends.base import (
    Backend,
    Capabilities,
    GenerationRequest,
    ModelSpec,
    Occupancy,
    QueueFull,
    Step,
)
from luban.serve.backends.chat import render_with_tools


def find_gguf(source: Path) -> Path:
    if source.is_file() and source.suffix == ".gguf":
        return source
    found = sorted(source.glob("*.gguf")) if source.is_dir() else []
    if len(found) == 1:
        return found[0]
    raise NotFoundError(f"{source} is not a .gguf file or a folder holding exactly one",
                        "point at the .gguf file itself")


class GGUFTemplate:
    """Just enough of a tokenizer for `render_with_tools`: the GGUF's Jinja chat template, rendered in
    the environment transformers uses (trim/lstrip blocks, `tojson` without HTML escaping,
    `raise_exception`, and `{% generation %}` blocks, which only mark assistant text for training)."""

    def __init__(self, template: str, bos: str, eos: str) -> None:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        self.chat_template = template
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[_generation_tag()])
        env.globals["raise_exception"] = _raise
        env.filters["tojson"] = _tojson
        self._template = env.from_string(template)
        self.bos, self.eos = bos, eos

    def apply_chat_template(self, messages: list[dict[str, Any]], tools: Any = None, tokenize: bool = False,
                            add_generation_prompt: bool = True) -> str:
        return self._template.render(messages=messages, tools=tools, add_generation_prompt=add_generation_prompt,
                                     bos_token=self.bos, eos_token=self.eos)


def _generation_tag() -> Any:
    from jinja2 import nodes
    from jinja2.ext import Extension

    class GenerationTag(Extension):
        tags = {"generation"}  # not ClassVar: jinja2 declares `tags` an instance attribute

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

        def _body(self, caller: Any) -> str:
            return str(caller())

    return GenerationTag


def _tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None,
            sort_keys: bool = False) -> str:
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _raise(message: str) -> None:
    raise UsageError(f"the chat template rejected the messages: {message}")


class Utf8Stream:
    """Token bytes in, complete UTF-8 text out (a split multi-byte character is held back)."""

    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def add(self, piece: bytes) -> str:
        text: str = self.decoder.decode(piece)
        return text

    def flush(self) -> str:
        text: str = self.decoder.decode(b"", final=True)
        return text


class LlamaCppBackend(Backend):
    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.model_id = spec.model_id
        self.capabilities = Capabilities(context_length=0)
        self.llm: Any = None
        self.template: GGUFTemplate | None = None
        self.eos: frozenset[int] = frozenset()
        self.lock = asyncio.Lock()
        self.waiting = 0
        self.steps = 0
        self.max_queue = int(spec.options.get("max_queue", 256))

    def load(self) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as err:
            raise UsageError("serving .gguf models needs llama-cpp-python", "pip install 'luban[gguf]'") from err
        path = find_gguf(Path(self.spec.source))
        opts = self.spec.options
        self.llm = Llama(model_path=str(path), n_ctx=int(opts.get("context_length", 0)), verbose=False,
                         n_threads=int(opts["threads"]) if opts.get("threads") else None,
                         n_gpu_layers=-1 if opts.get("device") == "cuda" else 0, seed=0)
        meta = self.llm.metadata
        eos_id = int(self.llm.token_eos())
        extra = meta.get("tokenizer.ggml.eot_token_id")
        self.eos = frozenset({eos_id} | ({int(extra)} if extra is not None else set()))
        template = meta.get("tokenizer.chat_template")
        if template:
            self.template = GGUFTemplate(template, self._piece(self.llm.token_bos()), self._piece(eos_id))
        self.capabilities = Capabilities(context_length=int(self.llm.n_ctx()), chat=template is not None,
                                         constrained=True, vocab_size=int(self.llm.n_vocab()))

    def _piece(self, token_id: int) -> str:
        if token_id < 0:
            return ""
        return bytes(self.llm.detokenize([token_id], special=True)).decode("utf-8", errors="replace")

    def render_chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> str:
        if self.template is None:
            raise UsageError(f"model '{self.model_id}' has no chat template in its GGUF",
                             "use /v1/completions, or convert the model with its tokenizer_config.json")
        return render_with_tools(self.template, messages, tools)

    def encode(self, text: str) -> list[int]:
        bos = self.template.bos if self.template else ""
        add_bos = not (bos and text.startswith(bos))
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def _grammar(self, request: GenerationRequest) -> Any:
        c = request.params.constraint
        if c is None:
            return None
        from llama_cpp import LlamaGrammar

        schema = c.schema if c.kind == "json_schema" and c.schema else {"type": "object"}
        return LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[Step, None]:
        from luban.serve.engine.sequence import Sequence, finish_token
        from luban.serve.sampling import RowState

        if self.waiting >= self.max_queue:
            raise QueueFull(retry_after=max(1, self.waiting))
        prompt_ids = request.prompt if isinstance(request.prompt, list) else self.encode(request.prompt)
        p = request.params
        steps: list[Any] = []
        detok: Any = _Detok(self.llm, Utf8Stream())  # add/flush like Detokenizer, over token bytes
        seq = Sequence(request, list(prompt_ids), steps.append, RowState(p, [], None), detok)
        self.waiting += 1
        async with self.lock:
            self.waiting -= 1
            if p.seed is not None:
                self.llm.set_seed(p.seed)
            tokens = self.llm.generate(prompt_ids, top_k=p.top_k, top_p=p.top_p, min_p=0.0, typical_p=1.0,
                                       temp=p.temperature, repeat_penalty=1.0, reset=True,
                                       frequency_penalty=p.frequency_penalty, presence_penalty=p.presence_penalty,
                                       grammar=self._grammar(request))
            pending: asyncio.Future[Any] | None = None
            try:
                while not seq.done:
                    # shielded: a cancelled request (the client left) must not release the lock, or close the
                    # generator, while a llama.cpp step is still running in its thread on this one context
                    pending = asyncio.get_running_loop().run_in_executor(None, next, tokens, None)
                    tok = await asyncio.shield(pending)
                    if tok is None:
                        break
                    finish_token(seq, int(tok), None, self.eos, self.capabilities.context_length, self._piece)
                    self.steps += 1
                    for step in steps:
                        yield step
                    steps.clear()
            finally:
                if pending is not None and not pending.done():
                    await asyncio.wait([pending])
                tokens.close()

    async def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        raise UsageError(f"model '{self.model_id}' is served by llama.cpp without embeddings",
                         "serve an embedding model with the hf backend for /v1/embeddings")

    async def aclose(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None

    def occupancy(self) -> Occupancy | None:
        """One sequence decodes at a time (llama.cpp's context is not batched here); the rest wait."""
        return Occupancy(running=int(self.lock.locked()), waiting=self.waiting, steps=self.steps)


class _Detok:
    """`Detokenizer`'s add/flush over llama.cpp token bytes."""

    def __init__(self, llm: Any, stream: Utf8Stream) -> None:
        self.llm, self.stream = llm, stream

    def add(self, token_id: int) -> str:
        return self.stream.add(bytes(self.llm.detokenize([token_id])))

    def flush(self) -> str:
        return self.stream.flush()
