"""The one small interface every serving backend implements (transformers, ONNX Runtime, llama.cpp, remote).

Design choices:
- The HTTP layer (`luban.serve.app`) owns everything that is the same for all backends: the OpenAI
  protocol, stop *strings*, `n` (it calls `generate` n times), tool-call parsing, usage, errors.
  A backend owns what needs the model: the chat template, tokenization, the decode loop, stop *tokens*,
  sampling, constrained decoding (a `Constraint` it may turn into a token mask) and embeddings.
- `generate` is an async iterator of `Step`s, one per emitted token (or per chunk for a remote upstream).
  The caller cancels a generation by closing the iterator (`await it.aclose()`): a disconnecting client
  or a matched stop string frees the sequence at the next decode step.
- Text is detokenized by the backend (`Step.text` is the new text since the previous step), so a
  multi-byte character split over two tokens is never emitted half.
- A backend that cannot do something says so in `Capabilities`; the app answers 400 instead of guessing.
- What the app asks of a backend is a method of the Protocol, never a `getattr` probe: whether it
  passes whole requests through to an upstream (`passes_through` / `forward`) and how busy its engine
  is (`occupancy`). Backends subclass `Backend` explicitly and inherit the defaults (generate here,
  no engine to report), so mypy checks each one against the contract.
- Backends are registered by name in `luban.serve.backends.registry` (`BACKENDS`), one file each.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from luban.core.errors import UsageError

if TYPE_CHECKING:
    from starlette.responses import Response


@dataclass(frozen=True)
class Capabilities:
    """What a loaded model can do; `context_length` is prompt + completion tokens."""

    context_length: int
    chat: bool = True
    completions: bool = True
    embeddings: bool = False
    logprobs: bool = False
    constrained: bool = False  # json_object / json_schema through a token mask or upstream support
    tools: bool = True
    adapters: tuple[str, ...] = ()  # LoRA adapter names selectable as "model:adapter"
    vocab_size: int = 0  # > 0 when `generate` accepts token-id prompts (ids must be below it)
    prompt_logprobs: bool = False  # the prompt's own logprobs (completions' `echo` with `logprobs`)


@dataclass(frozen=True)
class Constraint:
    """Structured output: `json_object` (any JSON object) or `json_schema` (with `schema`)."""

    kind: Literal["json_object", "json_schema"]
    schema: dict[str, Any] | None = None


@dataclass
class SamplingParams:
    """Per-sequence sampling. temperature 0 means greedy; `seed` makes sampling reproducible."""

    max_tokens: int = 16
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = off
    seed: int | None = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    logprobs: bool = False
    top_logprobs: int = 0
    stop_token_ids: tuple[int, ...] = ()  # in addition to the model's own eos ids
    ignore_eos: bool = False
    constraint: Constraint | None = None
    prompt_logprobs: int | None = None  # None: off; else the prompt's logprobs with this many alternatives


@dataclass
class GenerationRequest:
    """One sequence to generate. `prompt` is text (already chat-templated) or token ids."""

    prompt: str | list[int]
    params: SamplingParams = field(default_factory=SamplingParams)
    adapter: str | None = None  # LoRA adapter name, None = base model
    request_id: str = ""
    deadline: float | None = None  # time.monotonic() after which the sequence stops ("length")


@dataclass
class TokenLogprob:
    token: str
    logprob: float
    bytes: list[int] | None = None


@dataclass
class Step:
    """One increment of output. `finish_reason` is set on the last step ("stop" | "length")."""

    text: str
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[tuple[TokenLogprob, list[TokenLogprob]]] | None = None  # (chosen, top alternatives)
    finish_reason: str | None = None
    prompt_tokens: int = 0  # set on every step: the exact prompt length the tokenizer counted
    completion_tokens: int = 0  # cumulative
    # sent once, in a step of its own before the first token, when `SamplingParams.prompt_logprobs` is set
    prompt_logprobs: list[PromptLogprob] | None = None


@dataclass
class PromptLogprob:
    """One prompt token: its text (as the detokenizer emits it, so the texts add up to the prompt), its
    logprob given the tokens before it and the most likely alternatives there; both None for the first token."""

    token: str
    logprob: float | None
    top: list[TokenLogprob] | None


@dataclass(frozen=True)
class Occupancy:
    """How busy a backend's engine is now (read at /metrics scrape time and for capacity decisions)."""

    running: int  # sequences being decoded
    waiting: int  # sequences queued, not yet admitted
    steps: int  # decode steps run since the model was loaded (a counter)
    prefix_queries: int = 0  # prompts looked up in the prefix cache (counters from here on)
    prefix_hits: int = 0  # prompts that reused a cached prefix
    prefix_hit_tokens: int = 0  # prompt tokens whose KV came from the cache instead of a forward
    prefix_cache_bytes: int = 0  # memory the prefix cache holds now (a gauge)


class QueueFull(Exception):
    """Raised by `generate` when the backend is at capacity; the app answers 429 with Retry-After."""

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__("the server is at capacity")
        self.retry_after = retry_after


@runtime_checkable
class Backend(Protocol):
    """A loaded model that can render chats, count tokens, generate and (maybe) embed."""

    model_id: str
    capabilities: Capabilities

    def load(self) -> None:
        """Load weights and tokenizer; called once before the server reports healthy."""

    def render_chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> str:
        """Apply the model's chat template with the generation prompt appended."""
        ...

    def count_tokens(self, text: str) -> int:
        """Exactly what the tokenizer counts for `text` as a prompt (the `usage.prompt_tokens`)."""
        ...

    def generate(self, request: GenerationRequest) -> AsyncGenerator[Step, None]:
        """Stream the sequence's steps; closing the generator (`aclose`) cancels it."""
        ...

    async def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """Embedding vectors and the total number of input tokens; raise UsageError if unsupported."""
        ...

    async def aclose(self) -> None:
        """Stop background work and free the model."""

    def occupancy(self) -> Occupancy | None:
        """How busy the engine is now; None for a backend with no engine of its own (a remote upstream)."""
        return None

    def passes_through(self) -> bool:
        """True when the app hands whole OpenAI requests to `forward` (an upstream answers them itself)
        instead of rendering, counting and generating through this backend."""
        return False

    async def forward(self, path: str, payload: dict[str, Any]) -> Response:
        """Send the client's request `payload` to upstream `path` ("chat/completions", "completions",
        "embeddings") and return the upstream's answer; called only when `passes_through()` is true."""
        raise UsageError(f"model '{self.model_id}' generates here and passes no request through",
                         "call it through chat/completions, completions or embeddings")


@dataclass
class ModelSpec:
    """What to serve: the public `model_id`, where it lives (`source`: a directory, a .gguf file or an
    upstream URL), which backend, backend options (e.g. {"device": "cuda"}) and LoRA adapters by name."""

    model_id: str
    source: str
    backend: str = "hf"
    options: dict[str, Any] = field(default_factory=dict)
    adapters: dict[str, str] = field(default_factory=dict)  # adapter name -> adapter directory
