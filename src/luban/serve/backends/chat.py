"""Chat templating shared by backends that hold a Hugging Face tokenizer (transformers, ONNX).

Design choices:
- The model's own template renders the conversation (`apply_chat_template`), so the prompt is the one
  the model was trained on.
- OpenAI messages are normalised first: content parts become text, assistant `tool_calls` and `tool`
  results become text in the Hermes format (`<tool_call>{json}</tool_call>`, `<tool_response>`), which
  Qwen2.5 and most open tool-tuned models use. A template that knows `tools` gets them natively;
  otherwise the tool list is described in a system message in the same Hermes convention.
"""

from __future__ import annotations

import json
from typing import Any


def clean_text(text: str) -> str:
    """Replace lone UTF-16 surrogates (valid in JSON, not in UTF-8) so tokenizers and templates accept
    any string a client sends instead of failing with a 500."""
    if text.isascii():
        return text
    return text.encode("utf-8", "replace").decode("utf-8")


def content_text(content: Any) -> str:
    """OpenAI content: a string, None, or a list of parts ({"type": "text", "text": ...})."""
    if content is None:
        return ""
    if isinstance(content, str):
        return clean_text(content)
    return clean_text("".join(str(p.get("text", "")) for p in content if isinstance(p, dict)))


def normalise(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        role, text = m.get("role", "user"), content_text(m.get("content"))
        if role == "assistant" and m.get("tool_calls"):
            calls = [f"<tool_call>\n{json.dumps({'name': c['function']['name'], 'arguments': _args(c)})}\n"
                     "</tool_call>" for c in m["tool_calls"]]
            text = "\n".join(([text] if text else []) + calls)
        elif role == "tool":
            role, text = "user", f"<tool_response>\n{text}\n</tool_response>"
        elif role == "developer":
            role = "system"
        out.append({"role": role, "content": text})
    return out


def _args(call: dict[str, Any]) -> Any:
    raw = call["function"].get("arguments") or "{}"
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return raw


def tools_system_prompt(tools: list[dict[str, Any]]) -> str:
    """Hermes-convention tool list, compact: small models have small context windows."""
    specs = "\n".join(json.dumps(t.get("function", t), ensure_ascii=False, separators=(",", ":")) for t in tools)
    return ("You can call these functions:\n<tools>\n" + specs + "\n</tools>\nTo call one, answer "
            '<tool_call>{"name": <name>, "arguments": <arguments-object>}</tool_call>')


def render_with_tools(tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> str:
    """The prompt text for `messages` (OpenAI format) with the generation prompt appended."""
    msgs = normalise(messages)
    template = tokenizer.chat_template or ""
    tools = json.loads(clean_text(json.dumps(tools, ensure_ascii=False))) if tools else tools
    native = bool(tools) and "tools" in template
    if tools and not native:
        prompt = tools_system_prompt(tools)
        if msgs and msgs[0]["role"] == "system":
            msgs[0] = {"role": "system", "content": msgs[0]["content"] + "\n\n" + prompt}
        else:
            msgs.insert(0, {"role": "system", "content": prompt})
    text: str = tokenizer.apply_chat_template(msgs, tools=tools if native else None, tokenize=False,
                                              add_generation_prompt=True)
    return text
