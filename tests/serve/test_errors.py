"""Every bad input gets OpenAI's error object with the right status, and the SDK maps it."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

MSG = [{"role": "user", "content": "hi"}]


@pytest.fixture
def client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0, timeout=60)


def _error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["message"]
    return err


def test_unknown_model_is_404_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="nope", messages=MSG)
    assert e.value.body["code"] == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="tiny:no-such-adapter", messages=MSG)
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="nope", input="x")


def test_invalid_json_is_400(server: Any) -> None:
    r = httpx.post(server.url + "/v1/chat/completions", content=b'{"model": "tiny", "messages": [',
                   headers={"content-type": "application/json"})
    assert _error(r, 400)["type"] == "invalid_request_error"


def test_wrong_types_name_the_param(server: Any) -> None:
    r = httpx.post(server.url + "/v1/chat/completions",
                   json={"model": "tiny", "messages": MSG, "temperature": "hot"})
    assert _error(r, 400)["param"] == "temperature"
    r = httpx.post(server.url + "/v1/chat/completions", json={"model": "tiny", "messages": "hello"})
    assert _error(r, 400)["param"].startswith("messages")
    r = httpx.post(server.url + "/v1/completions", json={"model": "tiny"})
    assert _error(r, 400)["param"] == "prompt"


def test_negative_max_tokens_is_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="tiny", messages=MSG, max_tokens=-1)
    assert e.value.body["param"] == "max_tokens"
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model="tiny", prompt="x", max_tokens=0)


def test_prompt_beyond_context_window_states_the_limits(client: openai.OpenAI) -> None:
    long = "robot vacuum warranty " * 400  # the tiny model's window is 512 tokens
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": long}])
    assert "maximum context length is 512 tokens" in e.value.message
    assert e.value.body["code"] == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as e2:
        client.completions.create(model="tiny", prompt="Acme", max_tokens=600)
    assert "512" in e2.value.message and "600 in the completion" in e2.value.message


def test_unknown_route_and_method_use_the_error_format(server: Any) -> None:
    assert _error(httpx.get(server.url + "/v1/nothing"), 404)["type"] == "invalid_request_error"
    _error(httpx.get(server.url + "/v1/chat/completions"), 405)


def test_bad_requests_for_features(server: Any, client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="tiny", messages=MSG, tool_choice="required")
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="tiny", messages=MSG, response_format={"type": "json_schema"})
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model="tiny", prompt=[[1, 10**9]], max_tokens=1)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="tiny", input=[""])
    bad_schema = {"type": "object", "properties": {"a": {"type": "strnig"}}}
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="tiny", messages=MSG, response_format={
            "type": "json_schema", "json_schema": {"name": "x", "schema": bad_schema}})
