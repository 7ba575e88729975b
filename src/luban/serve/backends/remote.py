"""Remote backend: any OpenAI-compatible upstream (vLLM, Ollama, llama.cpp server, a commercial API).

Design choices:
- Chat, completions and embeddings are *passed through*: the app validates the request as usual,
  then `forward` sends the client's own JSON (only `model` renamed to the upstream's id) and streams
  the upstream's bytes back unchanged. The upstream's tool-call deltas, logprobs, JSON mode and usage
  reach the client exactly as produced, nothing is re-tokenized or re-templated on our side.
- Upstream errors keep their status and OpenAI error object (and Retry-After on 429); an upstream
  that cannot be reached, or answers something that is not JSON, becomes a 502 in OpenAI's format.
- The source is the upstream base URL, optionally with `#model` naming the upstream model
  (`http://vllm:8000/v1#Qwen/Qwen2.5-7B-Instruct`); without it an upstream serving exactly one model
  is used as is. The API key comes from option `api_key_env` (an environment variable name, default
  `LUBAN_REMOTE_API_KEY`), never from the command line.
- `generate` (for in-process callers such as the gateway) streams upstream `/v1/completions`.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx
from starlette.responses import JSONResponse, Response, StreamingResponse

from luban.core.errors import LubanError, UsageError
from luban.serve.backends.base import Backend, Capabilities, GenerationRequest, ModelSpec, Step

PASSED_HEADERS = ("retry-after", "x-request-id")


class RemoteBackend(Backend):

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.model_id = spec.model_id
        url, _, model = spec.source.partition("#")
        url = url.rstrip("/")
        self.base_url = url if url.endswith("/v1") else url + "/v1"
        self.upstream_model = model or str(spec.options.get("upstream_model", ""))
        key = os.environ.get(str(spec.options.get("api_key_env", "LUBAN_REMOTE_API_KEY")), "")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        timeout = float(spec.options.get("timeout", 600))
        self.timeout = httpx.Timeout(timeout, connect=10.0)
        self.capabilities = Capabilities(context_length=int(spec.options.get("context_length", 1 << 20)),
                                         embeddings=True, logprobs=True, constrained=True)
        self._client: httpx.AsyncClient | None = None

    def load(self) -> None:
        """Check the upstream answers `/models` and settle which of its models to call."""
        try:
            r = httpx.get(f"{self.base_url}/models", headers=self.headers, timeout=self.timeout)
        except httpx.HTTPError as err:
            raise LubanError(f"upstream {self.base_url} is unreachable ({err.__class__.__name__})",
                             "start it or fix the URL") from err
        if r.status_code != 200:
            raise UsageError(f"upstream {self.base_url}/models answered HTTP {r.status_code}",
                             "check the URL and the API key variable (option api_key_env)")
        served = [m.get("id") for m in r.json().get("data", [])]
        if self.upstream_model:
            return
        if len(served) == 1:
            self.upstream_model = str(served[0])
        elif self.model_id in served:
            self.upstream_model = self.model_id
        else:
            raise UsageError(f"upstream {self.base_url} serves {len(served)} models ({', '.join(map(str, served))})",
                             "name one after '#' in the URL, e.g. http://host:8000/v1#MODEL")

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.base_url, headers=self.headers, timeout=self.timeout)
        return self._client

    def passes_through(self) -> bool:
        return True  # the app hands whole requests to `forward`

    async def forward(self, path: str, payload: dict[str, Any]) -> Response:
        """Send `payload` to upstream `path` ("chat/completions", ...); a Starlette response back."""

        from luban.serve.errors import APIError

        body = {**payload, "model": self.upstream_model}
        request = self.client.build_request("POST", "/" + path, json=body)
        try:
            upstream = await self.client.send(request, stream=True)
        except httpx.HTTPError as err:
            raise APIError(502, f"upstream {self.base_url} failed: {err.__class__.__name__}",
                           type="server_error") from err
        headers = {k: v for k, v in upstream.headers.items() if k.lower() in PASSED_HEADERS}
        if upstream.status_code != 200 or not body.get("stream"):
            raw = await upstream.aread()
            await upstream.aclose()
            try:
                data = json.loads(raw)
            except ValueError as err:
                raise APIError(502, f"upstream {self.base_url} answered HTTP {upstream.status_code} "
                               "with a body that is not JSON", type="server_error") from err
            if isinstance(data, dict) and upstream.status_code == 200:
                data["model"] = payload.get("model", data.get("model"))
            return JSONResponse(data, status_code=upstream.status_code, headers=headers)

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for piece in upstream.aiter_raw():
                    yield piece
            finally:
                await upstream.aclose()  # a client that went away closes the upstream stream too

        return StreamingResponse(relay(), media_type="text/event-stream", headers=headers)

    def render_chat(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> str:
        raise UsageError(f"model '{self.model_id}' is remote: its chat template lives upstream",
                         "send chat requests through the server, which passes them through")

    def count_tokens(self, text: str) -> int:
        # The upstream's tokenizer is unknown here; its own `usage` is what passthrough reports.
        return max(1, len(text.encode("utf-8")) // 4)

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[Step, None]:
        p = request.params
        body: dict[str, Any] = {"model": self.upstream_model, "prompt": request.prompt, "stream": True,
                                "max_tokens": p.max_tokens, "temperature": p.temperature, "top_p": p.top_p,
                                "presence_penalty": p.presence_penalty, "frequency_penalty": p.frequency_penalty,
                                "stream_options": {"include_usage": True}}
        if p.seed is not None:
            body["seed"] = p.seed
        count, prompt_tokens, finish = 0, 0, None
        async with self.client.stream("POST", "/completions", json=body) as r:
            if r.status_code != 200:
                raise LubanError(f"upstream {self.base_url} answered HTTP {r.status_code}: "
                                 f"{(await r.aread())[:200]!r}")
            async for line in r.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if chunk.get("usage"):
                    prompt_tokens = int(chunk["usage"].get("prompt_tokens", 0))
                    count = int(chunk["usage"].get("completion_tokens", count))
                for c in chunk.get("choices", []):
                    count += 1 if c.get("text") else 0
                    finish = c.get("finish_reason") or finish
                    if c.get("text"):
                        yield Step(text=c["text"], prompt_tokens=prompt_tokens, completion_tokens=count)
        yield Step(text="", finish_reason=finish or "stop", prompt_tokens=prompt_tokens, completion_tokens=count)

    async def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        r = await self.client.post("/embeddings", json={"model": self.upstream_model, "input": texts})
        if r.status_code != 200:
            raise LubanError(f"upstream {self.base_url} embeddings answered HTTP {r.status_code}")
        data = r.json()
        return [d["embedding"] for d in data["data"]], int(data.get("usage", {}).get("prompt_tokens", 0))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
