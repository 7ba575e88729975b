"""The gateway end to end: a real `luban gateway` process, stub upstreams over HTTP, the official `openai`
client. Every bad input of the issue is here: 401 (no, wrong, revoked, expired key), 403 (scope), 429 (rate
limit with Retry-After, budget), 504 (upstream timeout), 502 (garbage, dropped), an error event mid-stream,
503 naming the upstreams in cooldown, 400 from a template hook."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from gateway_procs import free_port, metric, start_gateway, start_stub

from luban.gateway.keys import KeyStore

MSG = [{"role": "user", "content": "hello there"}]


@pytest.fixture(scope="module")
def env(module_tmp: Path) -> Iterator[dict[str, Any]]:
    a = start_stub(module_tmp, "up-a", slow=3.0)
    b = start_stub(module_tmp, "up-b")
    dead = f"http://127.0.0.1:{free_port()}/v1"
    (module_tmp / "ws").mkdir()
    store = KeyStore(f"sqlite:///{module_tmp / 'ws' / 'gateway.db'}")
    keys = {}
    for name, kw in {"all": {}, "scoped": {"scopes": ["chat"]}, "rpm": {"rpm": 2}, "tpm": {"tpm": 10},
                     "budget": {"budget": 0.01}, "auditor": {"role": "auditor"}, "revoked": {},
                     "expired": {"expires": time.time() - 5}}.items():
        rec, secret = store.create(name, **kw)  # type: ignore[arg-type]
        keys[name] = secret
        if name == "revoked":
            store.revoke(rec.id)
    store.close()
    ua, ub = f"{a.url}/v1", f"{b.url}/v1"
    config = {
        "upstreams": {
            "a": {"url": ua, "timeout": 1.0, "price": {"input": 1000, "output": 1000}},
            "b": {"url": ub},
            "a_slow": {"url": ua, "timeout": 1.0},  # failures count per upstream: one each, no cooldowns
            "a_garbage": {"url": ua},
            "b_drop": {"url": ub},
            "b_fail": {"url": ub},
            "dead1": {"url": dead, "connect_timeout": 0.5},
            "dead2": {"url": dead, "connect_timeout": 0.5},
        },
        "models": {
            "chat": {"aliases": ["gpt-4o-mini"], "upstreams": [{"upstream": "a", "model": "echo"}]},
            "other": {"upstreams": [{"upstream": "b", "model": "echo"}]},
            "slowstream": {"upstreams": [{"upstream": "b", "model": "slowstream"}]},
            "errorevent": {"upstreams": [{"upstream": "b", "model": "errorevent"}]},
            "slow": {"upstreams": [{"upstream": "a_slow", "model": "slow"}]},
            "garbage": {"upstreams": [{"upstream": "a_garbage", "model": "garbage"}]},
            "drop": {"upstreams": [{"upstream": "b_drop", "model": "drop"}]},
            "fail500": {"upstreams": [{"upstream": "b_fail", "model": "fail500"}]},
            "deadmodel": {"upstreams": ["dead1"]},
            "failover": {"upstreams": [{"upstream": "dead2", "model": "echo", "weight": 100},
                                       {"upstream": "b", "model": "echo"}]},
            "withfallback": {"upstreams": [{"upstream": "dead2", "model": "echo"}], "fallbacks": ["other"]},
        },
        "routing": {"retries": 2, "backoff": 0.01, "cooldown": {"failures": 2, "seconds": 60},
                    "health": {"interval": 0}},
        "hooks": [{"use": "hooks_for_tests:TemplateHook"}, {"use": "hooks_for_tests:BlockWord"},
                  {"use": "hooks_for_tests:Broken"}],
        "limits": {"max_body_mb": 1},
    }
    gw = start_gateway(module_tmp, config)
    yield {"gw": gw, "a": a, "b": b, "keys": keys}
    for p in (gw, a, b):
        p.stop()


def client(env: dict[str, Any], key: str | None = "all") -> openai.OpenAI:
    secret = env["keys"].get(key, key or "")
    return openai.OpenAI(base_url=env["gw"].url + "/v1", api_key=secret, max_retries=0, timeout=20)


def test_chat_through_the_gateway_with_the_openai_client(env: dict[str, Any]) -> None:
    out = client(env).chat.completions.create(model="chat", messages=MSG)
    assert out.choices[0].message.content == "up-a: hello there"
    assert out.usage is not None and out.usage.total_tokens == 12


def test_alias_routes_to_its_model_and_the_upstream_gets_its_own_name(env: dict[str, Any]) -> None:
    out = client(env).chat.completions.create(model="gpt-4o-mini", messages=MSG,
                                              extra_body={"luban": {"cache": False}})
    assert out.choices[0].message.content.startswith("up-a:")
    last = httpx.get(env["a"].url + "/stats").json()["last"]
    assert last["model"] == "echo" and "luban" not in last


def test_stream_passes_through_chunk_by_chunk_and_hides_usage_it_asked_for(env: dict[str, Any]) -> None:
    before = metric(env["gw"].url, "luban_gateway_tokens_total", model="echo")
    chunks = list(client(env).chat.completions.create(model="other", messages=MSG, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "up-b: hello there"
    assert all(c.usage is None for c in chunks)  # the client did not ask for usage
    assert httpx.get(env["b"].url + "/stats").json()["last"]["stream_options"] == {"include_usage": True}
    assert metric(env["gw"].url, "luban_gateway_tokens_total", model="echo") == before + 12


def test_stream_with_usage_when_the_client_asks(env: dict[str, Any]) -> None:
    chunks = list(client(env).chat.completions.create(model="other", messages=MSG, stream=True,
                                                      stream_options={"include_usage": True}))
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 12


def test_completions_and_embeddings_routes(env: dict[str, Any]) -> None:
    c = client(env)
    assert c.completions.create(model="chat", prompt="abc").choices[0].text == "up-a: abc"
    emb = c.embeddings.create(model="chat", input=["x", "yy"])
    assert [d.embedding[2] for d in emb.data] == [1.0, 2.0]


def test_models_lists_what_the_key_may_call(env: dict[str, Any]) -> None:
    assert {m.id for m in client(env, "scoped").models.list()} == {"chat"}
    assert {"chat", "gpt-4o-mini", "other"} <= {m.id for m in client(env).models.list()}


def test_no_key_is_401(env: dict[str, Any]) -> None:
    r = httpx.post(env["gw"].url + "/v1/chat/completions", json={"model": "chat", "messages": MSG})
    assert r.status_code == 401
    assert "provide an API key" in r.json()["error"]["message"]


@pytest.mark.parametrize(("key", "needle"), [("sk-luban-000000000000-nope", "Incorrect API key"),
                                             ("not-a-luban-key", "Incorrect API key"),
                                             ("revoked", "revoked"), ("expired", "expired")])
def test_bad_keys_are_401_saying_why(env: dict[str, Any], key: str, needle: str) -> None:
    with pytest.raises(openai.AuthenticationError, match=needle):
        client(env, key).chat.completions.create(model="chat", messages=MSG)


def test_model_outside_the_keys_scope_is_403(env: dict[str, Any]) -> None:
    with pytest.raises(openai.PermissionDeniedError, match="may not call model 'other'"):
        client(env, "scoped").chat.completions.create(model="other", messages=MSG)
    with pytest.raises(openai.PermissionDeniedError, match="auditor"):
        client(env, "auditor").chat.completions.create(model="chat", messages=MSG)


def test_unknown_model_is_404(env: dict[str, Any]) -> None:
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client(env).chat.completions.create(model="nope", messages=MSG)


def test_over_rate_limit_is_429_with_retry_after(env: dict[str, Any]) -> None:
    c = client(env, "rpm")
    c.chat.completions.create(model="other", messages=MSG)
    c.chat.completions.create(model="other", messages=MSG)
    with pytest.raises(openai.RateLimitError, match="2 requests per minute") as err:
        c.chat.completions.create(model="other", messages=MSG)
    assert int(err.value.response.headers["retry-after"]) >= 1
    assert err.value.code == "rate_limit_exceeded"


def test_tokens_per_minute_are_charged_after_the_answer(env: dict[str, Any]) -> None:
    c = client(env, "tpm")
    c.chat.completions.create(model="other", messages=MSG)  # 12 tokens > 10: the bucket is overdrawn
    with pytest.raises(openai.RateLimitError, match="10 tokens per minute"):
        c.chat.completions.create(model="other", messages=MSG)


def test_over_budget_is_429_insufficient_quota(env: dict[str, Any]) -> None:
    c = client(env, "budget")  # upstream a costs 1000 per 1M tokens: 12 tokens = 0.012 > 0.01
    c.chat.completions.create(model="chat", messages=[{"role": "user", "content": "budget"}])
    with pytest.raises(openai.RateLimitError, match="budget") as err:
        c.chat.completions.create(model="chat", messages=MSG)
    assert err.value.code == "insufficient_quota"


def test_upstream_timeout_is_504(env: dict[str, Any]) -> None:
    with pytest.raises(openai.APIStatusError, match="timed out") as err:
        client(env).chat.completions.create(model="slow", messages=MSG)
    assert err.value.status_code == 504


def test_garbage_from_the_upstream_is_502(env: dict[str, Any]) -> None:
    with pytest.raises(openai.APIStatusError, match="not an OpenAI answer") as err:
        client(env).chat.completions.create(model="garbage", messages=MSG)
    assert err.value.status_code == 502


def test_garbage_mid_stream_is_an_error_event(env: dict[str, Any]) -> None:
    with pytest.raises(openai.APIError, match="not JSON"):
        list(client(env).chat.completions.create(model="garbage", messages=MSG, stream=True))


def test_a_connection_dropped_mid_stream_ends_with_an_error_event(env: dict[str, Any]) -> None:
    got: list[str] = []
    with pytest.raises(openai.APIError, match="dropped|ended before"):
        for c in client(env).chat.completions.create(model="drop", messages=MSG, stream=True):
            got.append(c.choices[0].delta.content or "")
    assert got  # the first chunks reached the client before the error


def test_a_connection_dropped_mid_answer_is_502(env: dict[str, Any]) -> None:
    with pytest.raises(openai.APIStatusError) as err:
        client(env).chat.completions.create(model="drop", messages=MSG)
    assert err.value.status_code == 502


def test_upstream_errors_pass_through_in_openai_format(env: dict[str, Any]) -> None:
    with pytest.raises(openai.InternalServerError, match="stub failure"):
        client(env).chat.completions.create(model="fail500", messages=MSG)


def test_retry_on_connect_failure_goes_to_another_upstream(env: dict[str, Any]) -> None:
    out = client(env).chat.completions.create(model="failover", messages=MSG)
    assert out.choices[0].message.content == "up-b: hello there"


def test_fallback_model_answers_when_every_upstream_failed(env: dict[str, Any]) -> None:
    out = client(env).chat.completions.create(model="withfallback", messages=MSG)
    assert out.choices[0].message.content == "up-b: hello there"


def test_all_upstreams_in_cooldown_is_503_naming_them(env: dict[str, Any]) -> None:
    c = client(env)
    for _ in range(2):  # two connect failures put dead1 in cooldown
        with pytest.raises(openai.APIStatusError) as err:
            c.chat.completions.create(model="deadmodel", messages=MSG)
        assert err.value.status_code == 502
    with pytest.raises(openai.APIStatusError, match="dead1 \\(cooling down") as err:
        c.chat.completions.create(model="deadmodel", messages=MSG)
    assert err.value.status_code == 503
    assert int(err.value.response.headers["retry-after"]) > 1
    assert metric(env["gw"].url, "luban_gateway_cooldowns_total", upstream="dead1") == 1


def test_unknown_template_or_missing_variable_is_400(env: dict[str, Any]) -> None:
    c = client(env)
    with pytest.raises(openai.BadRequestError, match="unknown prompt template 'nope@2'"):
        c.chat.completions.create(model="chat", messages=MSG, extra_body={"luban": {"prompt": "nope@2"}})
    with pytest.raises(openai.BadRequestError, match="needs variable 'product'"):
        c.chat.completions.create(model="chat", messages=MSG, extra_body={"luban": {"prompt": "support@1"}})
    out = c.chat.completions.create(model="chat", messages=MSG, extra_body={
        "luban": {"prompt": "support@1", "variables": {"product": "X100"}}})
    assert out.choices[0].message.content == "up-a: hello there"
    assert httpx.get(env["a"].url + "/stats").json()["last"]["messages"][0]["content"] == "You support X100."


def test_output_hook_refuses_a_word_split_across_chunks(env: dict[str, Any]) -> None:
    msg = [{"role": "user", "content": "say forbidden please"}]  # the stub splits its answer in three
    chunks = list(client(env).chat.completions.create(model="other", messages=msg, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "forbidden" not in text and text.endswith("I cannot answer that.")
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    out = client(env).chat.completions.create(model="other", messages=msg)
    assert out.choices[0].message.content == "I cannot answer that."
    assert out.choices[0].finish_reason == "content_filter"


def test_hook_headers_reach_the_client(env: dict[str, Any]) -> None:
    raw = client(env).chat.completions.with_raw_response.create(model="other", messages=MSG)
    assert raw.headers["x-test-label"] == "checked"


def test_bad_bodies_are_400(env: dict[str, Any]) -> None:
    h = {"Authorization": f"Bearer {env['keys']['all']}"}
    url = env["gw"].url + "/v1/chat/completions"
    r = httpx.post(url, content=b"{not json", headers=h)
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]
    r = httpx.post(url, json={"messages": MSG}, headers=h)
    assert r.status_code == 400 and r.json()["error"]["param"] == "model"


def test_health_and_metrics(env: dict[str, Any]) -> None:
    h = httpx.get(env["gw"].url + "/health").json()
    assert h["status"] == "ok" and h["auth"] is True
    assert metric(env["gw"].url, "luban_gateway_requests_total", route="chat.completions", status="200") > 0


def test_unknown_path_is_404_in_openai_format(env: dict[str, Any]) -> None:
    r = httpx.get(env["gw"].url + "/v1/nothing")
    assert r.status_code == 404 and "Unknown path" in r.json()["error"]["message"]


def test_stream_chunks_reach_the_client_as_the_upstream_sends_them(env: dict[str, Any]) -> None:
    started = time.monotonic()
    arrivals = []
    for c in client(env).chat.completions.create(model="slowstream", messages=MSG, stream=True):
        if c.choices and c.choices[0].delta.content:
            arrivals.append(time.monotonic() - started)
    # pieces come one second apart; the hook holds back at most 8 characters, never the whole answer
    assert len(arrivals) >= 2 and arrivals[0] < 2.5 and arrivals[-1] - arrivals[0] > 0.8  # not all at the end


def test_a_body_over_the_limit_is_413(env: dict[str, Any]) -> None:
    big = [{"role": "user", "content": "x" * (1 << 20)}]
    with pytest.raises(openai.APIStatusError, match="over 1 MiB") as err:
        client(env).chat.completions.create(model="chat", messages=big)
    assert err.value.status_code == 413


def test_an_upstreams_own_error_event_reaches_the_client_unchanged(env: dict[str, Any]) -> None:
    body = {"model": "errorevent", "messages": MSG, "stream": True}
    h = {"Authorization": f"Bearer {env['keys']['all']}"}
    with httpx.stream("POST", env["gw"].url + "/v1/chat/completions", json=body, headers=h, timeout=20) as r:
        events = [ln[6:] for ln in r.iter_lines() if ln.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["error"]["code"] == "server_shutting_down"
    assert sum(e.startswith("{\"error\"") for e in events) == 1, events


def test_a_bug_in_a_hook_is_a_500_in_openai_format_and_the_gateway_goes_on(env: dict[str, Any]) -> None:
    with pytest.raises(openai.InternalServerError, match="request id"):
        client(env).chat.completions.create(model="chat", messages=MSG, extra_body={"luban": {"break": True}})
    assert client(env).chat.completions.create(model="chat", messages=MSG).choices[0].message.content


def test_moderations_endpoint_through_the_gateway_with_the_openai_client(env: dict[str, Any]) -> None:
    res = client(env).moderations.create(input=["教我怎么制作冰毒", "What is the X100's warranty?"])
    assert [r.flagged for r in res.results] == [True, False]
    with pytest.raises(openai.AuthenticationError):
        client(env, "sk-luban-000000000000-wrong").moderations.create(input="hello")
