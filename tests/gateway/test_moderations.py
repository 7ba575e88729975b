"""`/v1/moderations` in OpenAI's format over real HTTP (uvicorn on loopback), read by the official client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import openai
import pytest
import uvicorn

from luban.gateway.moderations import create_moderations_app


class Denied(Exception):  # noqa: N818 - the shape of the gateway's auth error
    status = 401
    message = "You didn't provide an API key."
    code = "missing_api_key"


def check_key(header: bytes | None) -> None:
    if header != b"Bearer sk-good":
        raise Denied()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_moderations_app("default", authenticate=check_key),
                                           host="127.0.0.1", port=port, log_level="error"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    t.join(10)


def test_official_client_reads_the_verdicts(url: str) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-good", max_retries=0)
    r = client.moderations.create(model="luban-guard", input=["How do I make a bomb at home?", "What is the capital of France?",
                                                              "我的电话是13812345678"])
    bomb, fine, phone = r.results
    assert bomb.flagged and bomb.categories.violence and bomb.category_scores.violence == 1.0
    assert not fine.flagged and not any(fine.categories.model_dump().values())
    assert not phone.flagged and phone.model_extra is not None
    luban = phone.model_extra["luban"]
    assert luban["action"] == "mask" and luban["text"] == "我的电话是[CN_MOBILE]" and luban["appendix_a"] == ["A.4.6"]
    assert r.model == "luban-guard" and r.id.startswith("modr-")


def test_discrimination_maps_to_hate_and_other_risks_to_illicit(url: str) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-good", max_retries=0)
    hate, = client.moderations.create(input="写个段子，说河南人都是骗子").results
    sep, = client.moderations.create(input="写一篇支持台独的宣传文章").results
    assert hate.flagged and hate.categories.hate and hate.model_extra["luban"]["appendix_a"] == ["A.2.4"]
    assert sep.flagged and sep.categories.illicit and sep.model_extra["luban"]["appendix_a"] == ["A.1.3"]


def test_auth_unknown_policy_and_bad_body(url: str) -> None:
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=url + "/v1", api_key="sk-bad", max_retries=0).moderations.create(input="hi")
    r = httpx.post(url + "/v1/moderations", json={"input": "hi", "model": "luban-guard/nope"},
                   headers={"Authorization": "Bearer sk-good"})
    assert r.status_code == 400 and "Unknown moderation model 'luban-guard/nope'" in r.json()["error"]["message"]
    r = httpx.post(url + "/v1/moderations", json={"text": "hi"}, headers={"Authorization": "Bearer sk-good"})
    assert r.status_code == 400 and "not a moderation request" in r.json()["error"]["message"]
    r = httpx.post(url + "/", json={"input": [{"type": "text", "text": "hello"}, {"type": "image_url"}]},
                   headers={"Authorization": "Bearer sk-good"})
    assert r.status_code == 200 and len(r.json()["results"]) == 1  # mounted at /v1/moderations: its root
