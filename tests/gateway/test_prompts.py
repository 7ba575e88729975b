"""Prompt templates: versions with lineage, strict sandboxed rendering, and the pre_call hook."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from luban.core.errors import ConfigError, NotFoundError, UsageError
from luban.core.lineage import lineage
from luban.core.workspace import Workspace
from luban.gateway.hooks import CallContext, CallerKey, Refusal
from luban.gateway.prompts import PromptHook, PromptLibrary, parse_spec

SUPPORT = """\
description: Support assistant
system: "You are the support assistant of {{ company }}. Answer in {{ language }}."
examples:
  - {role: user, content: "Where is my order?"}
  - {role: assistant, content: "Let me check that for you."}
variables:
  company: {description: the customer's company}
  language: {description: answer language, default: English}
"""


@pytest.fixture
def lib(ws: Workspace) -> PromptLibrary:
    return PromptLibrary(ws, ttl_s=0.0)


def _ctx(body: dict, key: CallerKey | None = None, route: str = "chat.completions") -> CallContext:
    return CallContext(request_id="r1", route=route, body=body, key=key)


def test_versions_count_up_with_lineage(lib: PromptLibrary, ws: Workspace, tmp_path: Path) -> None:
    src = tmp_path / "support.yaml"
    src.write_text(SUPPORT)
    v1 = lib.add("support", src.read_text(), source=src)
    v2 = lib.add("support", SUPPORT.replace("support assistant of", "helpful agent of"))
    assert (v1.ref, v2.ref) == ("support@1", "support@2")
    assert lib.names() == {"support": [1, 2]}
    assert lib.get("support").version == 2
    art = ws.get("support@2")
    assert art.kind == "prompt"
    assert art.parent("previous").id == v1.artifact_id
    tree = lineage(ws, ws.get("support@1"))
    assert any(c.type == "file" and c.sha256 for c in tree.children)
    assert "-system: You are the support assistant" in lib.diff("support", 1, 2)
    assert "+system: You are the helpful agent" in lib.diff("support", 1)


def test_unchanged_template_is_refused(lib: PromptLibrary) -> None:
    lib.add("support", SUPPORT)
    with pytest.raises(UsageError, match="unchanged from support@1"):
        lib.add("support", SUPPORT)


def test_plain_text_is_a_system_prompt(lib: PromptLibrary) -> None:
    pv = lib.add("terse", "Answer in one sentence, {{ name }}.")
    head, tail = pv.render({"name": "Ann"})
    assert head == [{"role": "system", "content": "Answer in one sentence, Ann."}] and tail is None


@pytest.mark.parametrize(("text", "match"), [
    ("system: 'Hi {{ name '\n", "system line 1"),
    ("examples: [{role: robot, content: hi}]\n", "role 'robot'"),
    ("system: hi\nvariables: {unused: {}}\n", "unused are declared but no part uses them"),
    ("system: hi\ntemperature: 3\n", "'temperature'"),
    ("", "empty"),
])
def test_bad_templates_are_refused_at_add(lib: PromptLibrary, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        lib.add("bad", text)


def test_bad_names_and_specs(lib: PromptLibrary) -> None:
    with pytest.raises(UsageError, match="not a valid template name"):
        lib.add("has space", "hi")
    with pytest.raises(UsageError, match="not a prompt template name"):
        parse_spec("support@latest")
    assert parse_spec("support@3") == ("support", 3) and parse_spec("support") == ("support", None)


def test_render_defaults_missing_and_unknown_variables(lib: PromptLibrary) -> None:
    pv = lib.add("support", SUPPORT)
    head, _ = pv.render({"company": "Acme"})
    assert head[0]["content"] == "You are the support assistant of Acme. Answer in English."
    assert [m["role"] for m in head] == ["system", "user", "assistant"]
    with pytest.raises(UsageError, match="support@1' needs variable 'company'"):
        pv.render({})
    with pytest.raises(UsageError, match="has no variable 'compnay'"):
        pv.render({"company": "Acme", "compnay": "x"})


def test_sandbox_blocks_attribute_escapes(lib: PromptLibrary) -> None:
    pv = lib.add("evil", "{{ x.__class__.__mro__ }}")
    with pytest.raises(UsageError, match="evil@1"):
        pv.render({"x": "a"})


def test_unknown_template_and_version(lib: PromptLibrary) -> None:
    lib.add("support", SUPPORT)
    with pytest.raises(NotFoundError, match="no prompt template 'suport'.*did you mean 'support'"):
        lib.resolve("suport")
    with pytest.raises(NotFoundError, match="no prompt template 'support@7'.*versions: 1"):
        lib.resolve("support@7")


def test_hook_renders_before_the_request_messages(lib: PromptLibrary) -> None:
    lib.add("support", SUPPORT)
    hook = PromptHook(library=lib)
    body = {"model": "m", "messages": [{"role": "user", "content": "My vacuum is broken"}],
            "luban": {"prompt": "support@1", "variables": {"company": "Acme", "language": "German"}}}
    ctx = _ctx(body)
    asyncio.run(hook.pre_call(ctx))
    assert "luban" not in ctx.body
    assert ctx.body["messages"][0] == {"role": "system",
                                       "content": "You are the support assistant of Acme. Answer in German."}
    assert ctx.body["messages"][-1] == {"role": "user", "content": "My vacuum is broken"}
    assert ctx.extra["prompt"] == "support@1"


def test_hook_uses_the_keys_prompt_and_a_user_template(lib: PromptLibrary) -> None:
    lib.add("summarize", "system: Be brief.\nuser: 'Summarize: {{ text }}'\n")
    hook = PromptHook(library=lib)
    ctx = _ctx({"model": "m", "luban": {"variables": {"text": "long story"}}},
               key=CallerKey(id="k1", prompt="summarize"))
    asyncio.run(hook.pre_call(ctx))
    assert ctx.body["messages"] == [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": "Summarize: long story"}]


def test_hook_sees_a_new_version_after_its_ttl(ws: Workspace) -> None:
    lib = PromptLibrary(ws, ttl_s=0.0)
    lib.add("p", "one")
    hook = PromptHook(library=lib)
    ctx = _ctx({"messages": [], "luban": {"prompt": "p"}})
    asyncio.run(hook.pre_call(ctx))
    lib.add("p", "two")
    ctx2 = _ctx({"messages": [], "luban": {"prompt": "p"}})
    asyncio.run(hook.pre_call(ctx2))
    assert (ctx.body["messages"][0]["content"], ctx2.body["messages"][0]["content"]) == ("one", "two")


@pytest.mark.parametrize(("body", "route", "match"), [
    ({"luban": {"prompt": "nope"}}, "chat.completions", "no prompt template 'nope'"),
    ({"luban": {"prompt": "support@9", "variables": {"company": "A"}}}, "chat.completions", "support@9"),
    ({"luban": {"prompt": "support"}}, "chat.completions", "needs variable 'company'"),
    ({"luban": {"prompt": "support", "variables": ["A"]}}, "chat.completions", "must be an object"),
    ({"luban": "support"}, "chat.completions", '"luban" must be an object'),
    ({"luban": {"variables": {"a": 1}}}, "chat.completions", "without"),
    ({"luban": {"prompt": "support", "variables": {"company": "A"}}}, "embeddings", "chat completions only"),
])
def test_hook_refuses_with_400_invalid_prompt(lib: PromptLibrary, body: dict, route: str, match: str) -> None:
    lib.add("support", SUPPORT)
    with pytest.raises(Refusal, match=match) as err:
        asyncio.run(PromptHook(library=lib).pre_call(_ctx({"messages": [], **body}, route=route)))
    assert (err.value.status, err.value.code) == (400, "invalid_prompt")


def test_hook_without_a_prompt_leaves_the_body_alone(lib: PromptLibrary) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    ctx = _ctx(dict(body))
    asyncio.run(PromptHook(library=lib).pre_call(ctx))
    assert ctx.body == body
