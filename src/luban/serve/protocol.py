"""OpenAI request types (pydantic) for chat completions, completions and embeddings.

Design choices:
- Field names, defaults and bounds follow OpenAI's API reference, so a bad value is a 400 from
  validation with the parameter named (`param`), not a surprise deep in the engine.
- Unknown fields are ignored (not rejected): SDKs add fields faster than servers do.
- Luban extensions are few and marked: `top_k`, `ignore_eos`.
- Responses are plain dicts built in `luban.serve.responses`: the streaming hot path should not
  validate every chunk twice.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_N = 16


class _Req(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StreamOptions(_Req):
    include_usage: bool = False


class FunctionCall(_Req):
    name: str
    arguments: str = ""


class ToolCall(_Req):
    id: str = ""
    type: Literal["function"] = "function"
    function: FunctionCall


class TextPart(_Req):
    type: Literal["text"] = "text"
    text: str


class ChatMessage(_Req):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class FunctionDef(_Req):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(_Req):
    type: Literal["function"] = "function"
    function: FunctionDef


class ToolChoiceFunction(_Req):
    name: str


class ToolChoiceNamed(_Req):
    type: Literal["function"] = "function"
    function: ToolChoiceFunction


class JsonSchemaFormat(_Req):
    name: str = "response"
    description: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Req):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class _Sampling(_Req):
    model: str = Field(min_length=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: int | None = Field(None, ge=0, le=1_000_000, description="Luban extension: top-k sampling")
    n: int = Field(1, ge=1, le=MAX_N)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    seed: int | None = None
    presence_penalty: float = Field(0.0, ge=-2, le=2)
    frequency_penalty: float = Field(0.0, ge=-2, le=2)
    ignore_eos: bool = Field(False, description="Luban extension: generate max_tokens tokens")
    user: str | None = None


class ChatCompletionRequest(_Sampling):
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    logprobs: bool = False
    top_logprobs: int | None = Field(None, ge=0, le=20)
    response_format: ResponseFormat | None = None
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | ToolChoiceNamed | None = None
    parallel_tool_calls: bool | None = None


class CompletionRequest(_Sampling):
    prompt: str | list[str] | list[int] | list[list[int]]
    max_tokens: int | None = Field(16, ge=0, description="0 only with echo: score the prompt, generate nothing")
    logprobs: int | None = Field(None, ge=0, le=20)
    echo: bool = False
    suffix: str | None = None
    best_of: int | None = Field(None, ge=1, le=MAX_N)


class EmbeddingRequest(_Req):
    model: str = Field(min_length=1)
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1)
    user: str | None = None
