"""Tool calls: forced calls through constrained decoding, OpenAI's streaming delta format, and
parsing Hermes-style calls out of free text."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from luban.serve.tools import parse_calls

MSG = [{"role": "user", "content": "Is the X100 in stock?"}]
STOCK = {"type": "function", "function": {
    "name": "check_stock", "description": "Stock of a product",
    "parameters": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
                   "additionalProperties": False}}}
ORDER = {"type": "function", "function": {
    "name": "cancel_order", "parameters": {"type": "object", "properties": {"now": {"type": "boolean"}},
                                           "required": ["now"], "additionalProperties": False}}}


@pytest.fixture
def client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0, timeout=60)


def test_named_tool_choice_returns_a_valid_call(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="tiny", messages=MSG, tools=[STOCK, ORDER], temperature=0,
                                       tool_choice={"type": "function", "function": {"name": "check_stock"}})
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.id.startswith("call_") and call.function.name == "check_stock"
    assert isinstance(json.loads(call.function.arguments)["ok"], bool)


def test_streaming_tool_call_deltas_follow_openai(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="tiny", messages=MSG, tools=[STOCK], tool_choice="required",
                                                 stream=True, stream_options={"include_usage": True}))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    first = deltas[0].tool_calls[0]
    assert deltas[0].role == "assistant" and first.index == 0 and first.id and first.type == "function"
    assert first.function.name == "check_stock" and first.function.arguments == ""
    rest = [d.tool_calls[0] for d in deltas[1:] if d.tool_calls]
    assert len(rest) >= 2 and all(t.index == 0 and t.id is None and t.function.name is None for t in rest)
    args = "".join(t.function.arguments for t in rest)
    assert isinstance(json.loads(args)["ok"], bool)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].usage.completion_tokens >= len(rest)


def test_required_with_several_tools_picks_one_of_them(client: openai.OpenAI) -> None:
    short = [{"type": "function", "function": {"name": n, "parameters": STOCK["function"]["parameters"]}}
             for n in ("a", "b")]
    for stream in (False, True):
        if stream:
            chunks = list(client.chat.completions.create(model="tiny", messages=MSG, tools=short,
                                                         tool_choice="required", stream=True, temperature=0))
            calls = [d.choices[0].delta.tool_calls[0] for d in chunks if d.choices and d.choices[0].delta.tool_calls]
            name, args = calls[0].function.name, calls[0].function.arguments
        else:
            r = client.chat.completions.create(model="tiny", messages=MSG, tools=short,
                                               tool_choice="required", temperature=0)
            call = r.choices[0].message.tool_calls[0]
            name, args = call.function.name, call.function.arguments
        assert name in ("a", "b")
        assert isinstance(json.loads(args), dict)


def test_tool_results_in_history_are_accepted(client: openai.OpenAI) -> None:
    history = MSG + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "check_stock", "arguments": '{"ok": true}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "in stock: 12"}]
    r = client.chat.completions.create(model="tiny", messages=history, tools=[STOCK], max_tokens=3)
    assert r.choices[0].finish_reason in ("stop", "length", "tool_calls")


def test_parse_hermes_calls_from_text() -> None:
    text = 'Let me check.<tool_call>\n{"name": "check_stock", "arguments": {"sku": "X100"}}\n</tool_call>'
    content, calls = parse_calls(text, "auto", None)
    assert content == "Let me check." and calls[0]["function"]["name"] == "check_stock"
    assert json.loads(calls[0]["function"]["arguments"]) == {"sku": "X100"}
    assert parse_calls("plain answer", "auto", None) == ("plain answer", [])
    assert parse_calls("<tool_call>not json</tool_call>", "auto", None)[1] == []
