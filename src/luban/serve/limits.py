"""Server-side limits and the context-window check, shared by chat and completions.

OpenAI's wording for a too-long request names both numbers; we do the same so the client knows by
how much to shorten the prompt or lower `max_tokens`.
"""

from __future__ import annotations

from dataclasses import dataclass

from luban.serve.errors import APIError


@dataclass(frozen=True)
class Limits:
    max_tokens_cap: int | None = None  # never generate more than this per choice (tests, shared servers)
    request_timeout: float | None = 600.0  # seconds; a sequence past it finishes with "length"
    max_prompt_items: int = 64  # prompts per /v1/completions or inputs per /v1/embeddings call
    drain_timeout: float = 25.0  # seconds running requests get after SIGTERM (Kubernetes' grace period is 30)
    max_body_mb: float = 16.0  # request bodies over this get 413 (the gateway's default limit too)


def completion_budget(prompt_tokens: int, requested: int | None, context_length: int,
                      limits: Limits, param: str) -> int:
    """The number of tokens to generate, or a 400 when prompt + request exceed the context window."""
    if prompt_tokens >= context_length:
        raise APIError(400, f"This model's maximum context length is {context_length} tokens. However, your "
                            f"prompt is {prompt_tokens} tokens, leaving no room for the completion. Please "
                            "reduce the length of the prompt.", param=param, code="context_length_exceeded")
    if requested is not None and prompt_tokens + requested > context_length:
        raise APIError(400, f"This model's maximum context length is {context_length} tokens. However, you "
                            f"requested {prompt_tokens + requested} tokens ({prompt_tokens} in the prompt, "
                            f"{requested} in the completion). Please reduce the length of the prompt or "
                            "max_tokens.", param="max_tokens", code="context_length_exceeded")
    budget = requested if requested is not None else context_length - prompt_tokens
    if limits.max_tokens_cap is not None:
        budget = min(budget, limits.max_tokens_cap)
    return budget


def clamp_seed(seed: int | None, offset: int = 0) -> int | None:
    """torch seeds are 64-bit; any integer a client sends maps onto one deterministically."""
    return None if seed is None else (seed + offset) % (2**63)
