"""POST /v1/embeddings: text inputs to vectors, as floats or base64 (the OpenAI SDK's default).

Base64 is the little-endian float32 bytes of each vector, which is what the SDK decodes.
`dimensions` shortens the vector and re-normalises it (as OpenAI's text-embedding-3 models do).
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

from luban.serve.backends.base import Backend
from luban.serve.errors import APIError
from luban.serve.limits import Limits
from luban.serve.protocol import EmbeddingRequest
from luban.serve.responses import usage


def _texts(req: EmbeddingRequest, limits: Limits) -> list[str]:
    inp = req.input
    if isinstance(inp, str):
        items: list[Any] = [inp]
    else:
        items = list(inp)
    if not items or any(not isinstance(x, str) for x in items):
        raise APIError(400, "input must be a non-empty string or a list of non-empty strings "
                            "(token arrays are not supported).", param="input")
    if any(not x for x in items):
        raise APIError(400, "input must not contain empty strings.", param="input")
    if len(items) > limits.max_prompt_items:
        raise APIError(400, f"at most {limits.max_prompt_items} inputs per request.", param="input")
    return items


async def create(req: EmbeddingRequest, backend: Backend, limits: Limits) -> dict[str, Any]:
    if not backend.capabilities.embeddings:
        raise APIError(400, f"model '{req.model}' does not support embeddings.", param="model")
    texts = _texts(req, limits)
    ctx = backend.capabilities.context_length
    for i, t in enumerate(texts):
        n = backend.count_tokens(t)
        if n > ctx:
            raise APIError(400, f"input {i} is {n} tokens; this model's maximum context length is {ctx} tokens.",
                           param="input", code="context_length_exceeded")
    vectors, n_tokens = await backend.embed(texts)
    data = []
    for i, vec in enumerate(vectors):
        if req.dimensions is not None:
            if req.dimensions > len(vec):
                raise APIError(400, f"dimensions must be at most {len(vec)} for this model.", param="dimensions")
            vec = vec[: req.dimensions]
            norm = math.sqrt(sum(x * x for x in vec)) or 1.0
            vec = [x / norm for x in vec]
        emb: Any = (base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
                    if req.encoding_format == "base64" else vec)
        data.append({"object": "embedding", "index": i, "embedding": emb})
    u = usage(n_tokens, 0)
    return {"object": "list", "data": data, "model": req.model,
            "usage": {"prompt_tokens": u["prompt_tokens"], "total_tokens": u["total_tokens"]}}
