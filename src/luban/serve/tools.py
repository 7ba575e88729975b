"""Tool calling: what `tool_choice` asks of the decoder, and reading tool calls out of the output.

Design choices:
- A forced call (`tool_choice` naming a function, or "required" with a single tool) constrains the
  output to that function's `parameters` schema, so the generated text IS the arguments JSON and
  is streamed as OpenAI's `function.arguments` deltas while it is generated. Small models then
  call tools reliably, which prompting alone cannot promise.
- "required" with several tools constrains to `{"name": one of them, "arguments": {...}}`.
- "auto" lets the model choose; calls written in the Hermes convention
  (`<tool_call>{"name": ..., "arguments": ...}</tool_call>`) are parsed out of the text.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from luban.serve.backends.base import Constraint
from luban.serve.errors import APIError
from luban.serve.protocol import ChatCompletionRequest

TOOL_OPEN = "<tool_call>"
_CALL_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


@dataclass
class ToolPlan:
    mode: Literal["none", "auto", "forced_args", "forced_call"]
    name: str | None = None  # the function, when mode is forced_args
    constraint: Constraint | None = None


def plan(req: ChatCompletionRequest) -> ToolPlan:
    tools = req.tools or []
    choice = req.tool_choice or ("auto" if tools else "none")
    if not tools or choice == "none":
        if not isinstance(choice, str) or choice == "required":
            raise APIError(400, "tool_choice requires `tools` to be given.", param="tool_choice")
        return ToolPlan("none")
    by_name = {t.function.name: t for t in tools}
    if not isinstance(choice, str):
        if choice.function.name not in by_name:
            raise APIError(400, f"tool_choice names function '{choice.function.name}', which is not in `tools`.",
                           param="tool_choice")
        return _forced_args(by_name[choice.function.name].function.name, by_name)
    if choice == "required":
        if len(tools) == 1:
            return _forced_args(tools[0].function.name, by_name)
        options = [{"type": "object", "properties": {"name": {"const": t.function.name},
                                                     "arguments": _schema(t.function.parameters)},
                    "required": ["name", "arguments"], "additionalProperties": False} for t in tools]
        return ToolPlan("forced_call", constraint=Constraint("json_schema", {"anyOf": options}))
    return ToolPlan("auto")


def _schema(params: dict[str, Any] | None) -> dict[str, Any]:
    return dict(params) if params else {"type": "object"}


def _forced_args(name: str, by_name: dict[str, Any]) -> ToolPlan:
    return ToolPlan("forced_args", name, Constraint("json_schema", _schema(by_name[name].function.parameters)))


def call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


def tool_call(name: str, arguments: str, cid: str | None = None) -> dict[str, Any]:
    return {"id": cid or call_id(), "type": "function", "function": {"name": name, "arguments": arguments}}


def parse_calls(text: str, mode: str, name: str | None) -> tuple[str | None, list[dict[str, Any]]]:
    """(remaining content or None, tool calls) for the finished output text."""
    if mode == "forced_args":
        return None, [tool_call(name or "", text)]
    if mode == "forced_call":
        obj = _loads(text)
        if isinstance(obj, dict) and "name" in obj:
            return None, [tool_call(str(obj["name"]), json.dumps(obj.get("arguments", {}), ensure_ascii=False))]
        return text, []
    if mode != "auto" or TOOL_OPEN not in text:
        return text, []
    calls = []
    for raw in _CALL_RE.findall(text):
        obj = _loads(raw)
        if isinstance(obj, dict) and isinstance(obj.get("name"), str):
            calls.append(tool_call(obj["name"], json.dumps(obj.get("arguments", {}), ensure_ascii=False)))
    if not calls:
        return text, []
    content = text[: text.index(TOOL_OPEN)].strip()
    return content or None, calls


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
