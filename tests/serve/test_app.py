"""The server through the official `openai` SDK: sync, async, streaming with usage, n, logprobs,
JSON mode, embeddings, models, several models and LoRA adapters, /health and /metrics."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from typing import Any as Server

import httpx
import openai
import pytest

CAP = 40  # the server fixture's --max-tokens-cap (tests/serve/conftest.py)

MSG = [{"role": "user", "content": "What is the warranty of the X100?"}]


@pytest.fixture
def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0, timeout=60)


def test_chat_completion_counts_usage_like_the_tokenizer(client: openai.OpenAI, tiny_model_dir) -> None:
    from transformers import AutoTokenizer

    r = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=5, temperature=0)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompt = tok.apply_chat_template(MSG, tokenize=False, add_generation_prompt=True)
    assert r.object == "chat.completion" and r.model == "tiny"
    assert r.usage.prompt_tokens == len(tok(prompt, add_special_tokens=False).input_ids)
    assert r.usage.completion_tokens <= 5 and r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.choices[0].finish_reason in ("stop", "length")
    assert r.choices[0].message.role == "assistant"


def test_greedy_is_deterministic_and_seed_reproduces(client: openai.OpenAI) -> None:
    a = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=8, temperature=0)
    b = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=8, temperature=0)
    assert a.choices[0].message.content == b.choices[0].message.content
    s1 = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=8, seed=7, temperature=1.5)
    s2 = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=8, seed=7, temperature=1.5)
    assert s1.choices[0].message.content == s2.choices[0].message.content


def test_streaming_with_include_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=6, stream=True,
                                            stream_options={"include_usage": True}, temperature=0)
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes in (["stop"], ["length"])
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    full = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=6, temperature=0)
    assert text == full.choices[0].message.content
    assert chunks[-1].usage.completion_tokens == full.usage.completion_tokens


def test_n_choices_and_logprobs(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=4, n=3, logprobs=True,
                                       top_logprobs=2, temperature=1.0,
                                       extra_body={"ignore_eos": True})
    assert [c.index for c in r.choices] == [0, 1, 2]
    lp = r.choices[0].logprobs.content
    assert len(lp) == 4 and all(e.logprob <= 0 and len(e.top_logprobs) == 2 for e in lp)
    assert r.usage.completion_tokens == sum(4 for _ in r.choices)


def test_stop_strings_cut_the_text_at_their_first_match(client: openai.OpenAI) -> None:
    # the random tiny model continues this prompt with " from from from ..."; ignore_eos makes the text as
    # long as asked, so the stop string below is always there, and it spans two tokens ("om" + " f")
    full = client.completions.create(model="tiny", prompt="Support is open from", max_tokens=8, temperature=0,
                                     extra_body={"ignore_eos": True})
    text = full.choices[0].text
    assert len(text) >= 8 and full.choices[0].finish_reason == "length"
    stop = text[3:6]
    for stream in (False, True):
        kwargs: dict[str, Any] = {"model": "tiny", "prompt": "Support is open from", "max_tokens": 8,
                                  "temperature": 0, "stop": [stop, "never there"],
                                  "extra_body": {"ignore_eos": True}}
        if stream:
            chunks = [c for c in client.completions.create(**kwargs, stream=True) if c.choices]
            got = "".join(c.choices[0].text for c in chunks)
            finish = [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason]
        else:
            cut = client.completions.create(**kwargs)
            got, finish = cut.choices[0].text, [cut.choices[0].finish_reason]
        assert got == text[: text.index(stop)] and finish == ["stop"]
    # chat: its greedy answer is blank lines, so a stop of two newlines ends it before any text
    chat = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=8, temperature=0,
                                          extra_body={"ignore_eos": True})
    content = chat.choices[0].message.content or ""
    assert "\n\n" in content and chat.choices[0].finish_reason == "length"
    cut_chat = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=8, temperature=0,
                                              stop=["\n\n"], extra_body={"ignore_eos": True})
    assert cut_chat.choices[0].message.content == content[: content.index("\n\n")]
    assert cut_chat.choices[0].finish_reason == "stop"


def test_max_tokens_is_capped_by_the_server(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="tiny", messages=MSG, max_completion_tokens=400,
                                       extra_body={"ignore_eos": True})
    assert r.usage.completion_tokens == CAP and r.choices[0].finish_reason == "length"


def test_json_schema_output_is_valid_json(client: openai.OpenAI, json_prefix: Any) -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
              "additionalProperties": False}
    r = client.chat.completions.create(model="tiny", messages=MSG, temperature=0,
                                       response_format={"type": "json_schema",
                                                        "json_schema": {"name": "stock", "schema": schema}})
    assert r.choices[0].finish_reason == "stop"  # the grammar ended the sequence, not the token cap
    obj = json.loads(r.choices[0].message.content)
    assert set(obj) == {"ok"} and isinstance(obj["ok"], bool)
    # json_object: a random model nests objects without end, so the token cap cuts it - still a JSON prefix
    r2 = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=CAP,
                                        response_format={"type": "json_object"}, temperature=0)
    content = r2.choices[0].message.content or ""
    assert r2.choices[0].finish_reason == "length" and r2.usage.completion_tokens == CAP
    assert content.startswith("{") and json_prefix(content)
    assert not json_prefix(content + "x")  # the check itself can fail


def test_async_client_concurrent_requests(server: Server) -> None:
    async def main() -> list[str]:
        c = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0)
        rs = await asyncio.gather(*(c.chat.completions.create(model="tiny", messages=MSG, max_tokens=6,
                                                              temperature=0) for _ in range(6)))
        await c.close()
        return [r.choices[0].message.content or "" for r in rs]

    outs = asyncio.run(main())
    assert len(set(outs)) == 1  # batched rows give the same greedy output as each other


def test_completions_and_token_prompts(client: openai.OpenAI) -> None:
    r = client.completions.create(model="tiny", prompt=["Acme Robotics", "X100"], max_tokens=3, n=2,
                                  temperature=0, logprobs=1, echo=False)
    assert sorted(c.index for c in r.choices) == [0, 1, 2, 3]
    assert r.choices[0].logprobs.tokens
    ids = client.completions.create(model="tiny", prompt=[5, 6, 7], max_tokens=2, temperature=0)
    assert ids.usage.prompt_tokens == 3
    chunks = list(client.completions.create(model="tiny", prompt="Acme", max_tokens=3, stream=True,
                                            stream_options={"include_usage": True}))
    assert chunks[-1].usage.completion_tokens >= 1


def test_embeddings_float_and_base64(client: openai.OpenAI) -> None:
    r = client.embeddings.create(model="tiny", input=["robot vacuum", "智能门锁"])  # SDK asks base64
    assert len(r.data) == 2 and len(r.data[0].embedding) == 64
    assert abs(sum(x * x for x in r.data[0].embedding) - 1) < 1e-3
    f = client.embeddings.create(model="tiny", input="robot vacuum", encoding_format="float", dimensions=16)
    assert len(f.data[0].embedding) == 16 and f.usage.prompt_tokens > 0


def test_models_health_and_adapter_changes_output(client: openai.OpenAI, server: Server) -> None:
    ids = {m.id for m in client.models.list()}
    assert ids == {"tiny", "llama", "tiny:support"}
    assert client.models.retrieve("tiny:support").id == "tiny:support"
    base = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=8, temperature=0,
                                          extra_body={"ignore_eos": True})
    lora = client.chat.completions.create(model="tiny:support", messages=MSG, max_tokens=8, temperature=0,
                                          extra_body={"ignore_eos": True})
    other = client.chat.completions.create(model="llama", messages=MSG, max_tokens=2)
    assert lora.model == "tiny:support" and other.model == "llama"
    assert base.choices[0].message.content != lora.choices[0].message.content
    assert httpx.get(server.url + "/health").json()["status"] == "ok"


def test_metrics_are_prometheus_text(client: openai.OpenAI, server: Server) -> None:
    client.chat.completions.create(model="tiny", messages=MSG, max_tokens=2)
    text = httpx.get(server.url + "/metrics").text
    assert 'luban_tokens_total{kind="completion",model="tiny"}' in text
    assert "luban_engine_running" in text and 'route="/v1/chat/completions",status="200"' in text
