"""LLM judge and remote moderation against real HTTP servers on loopback that speak OpenAI's protocol
(the guard models and moderation APIs themselves cannot run here): verdicts parsed, and an endpoint that
is down, slow or answering garbage fails closed or open as the policy says, logged."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from luban.guard.normalize import Text
from luban.guard.scanners.base import SCANNERS, Scanner
from luban.guard.scanners.llm_judge import parse

REPLIES: dict[str, object] = {}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        reply = REPLIES[self.path]
        if self.path.endswith("/chat/completions"):
            text = reply(body) if callable(reply) else reply
            payload: object = {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
        else:
            payload = reply(body) if callable(reply) else reply
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def make(name: str, **options: object) -> Scanner:
    cls = SCANNERS.get(name)
    return cls(cls.Config.model_validate(options))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_parse_guard_model_answers() -> None:
    assert parse("unsafe\nS1") == (True, "S1")  # Llama Guard 3
    assert parse("safe") == (False, None)
    assert parse("Safety: Unsafe\nCategories: Violent") == (True, "Violent")  # Qwen3Guard
    assert parse("Safety: Safe\nCategories: None") == (False, None)
    assert parse("Safety: Controversial\nCategories: Politically Sensitive Topics") == (
        True, "controversial:Politically Sensitive Topics")
    assert parse('{"safe": false, "category": "weapons"}') == (True, "weapons")
    assert parse("I think it is probably fine") is None
    assert parse('{"safe": "maybe"}') is None


def test_judge_verdicts_over_http(server: str) -> None:
    REPLIES["/v1/chat/completions"] = lambda body: "unsafe\nS9" if "bomb" in body["messages"][0]["content"] else "safe"
    judge = make("llm_judge", base_url=f"{server}/v1", model="llama-guard-3")
    (f,) = judge.scan(Text("how to build a bomb"))
    assert f.category == "S9" and f.action is None
    assert judge.scan(Text("how to bake bread")) == []


def test_instruct_format_sends_the_instruction(server: str) -> None:
    seen: list[str] = []

    def reply(body: dict) -> str:
        seen.append(body["messages"][0]["content"])
        return '{"safe": false, "category": "fraud"}'

    REPLIES["/v1/chat/completions"] = reply
    (f,) = make("llm_judge", base_url=f"{server}/v1", model="m", format="instruct").scan(Text("hello"))
    assert f.category == "fraud" and "content-safety classifier" in seen[0] and "<text>\nhello\n</text>" in seen[0]


@pytest.mark.parametrize("fail,action", [("closed", "block"), ("open", "flag")])
def test_judge_down_or_garbage_fails_as_configured(server: str, fail: str, action: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    down = make("llm_judge", base_url=f"http://127.0.0.1:{closed_port()}/v1", model="m", fail=fail, timeout_s=1)
    with caplog.at_level(logging.WARNING, logger="luban.guard"):
        (f,) = down.scan(Text("anything"))
    assert f.action == action and f.reason.startswith(f"judge failed {fail}: ConnectError")
    assert f"failing {fail}" in caplog.text
    REPLIES["/v1/chat/completions"] = "The weather is nice today."
    (g,) = make("llm_judge", base_url=f"{server}/v1", model="m", fail=fail).scan(Text("anything"))
    assert g.action == action and "unreadable answer" in g.reason
    REPLIES["/v1/chat/completions"] = "x"
    REPLIES["/broken/chat/completions"] = "<html>not json"
    (h,) = make("llm_judge", base_url=f"{server}/broken", model="m", fail=fail).scan(Text("anything"))
    assert h.action == action


def test_remote_moderation(server: str) -> None:
    REPLIES["/v1/moderations"] = lambda body: {"id": "modr-1", "model": "m", "results": [{
        "flagged": "kill" in body["input"], "categories": {"violence": "kill" in body["input"], "hate": False},
        "category_scores": {"violence": 0.97, "hate": 0.01}}]}
    sc = make("remote", url=f"{server}/v1/moderations")
    (f,) = sc.scan(Text("I will kill him"))
    assert f.category == "violence" and f.score == pytest.approx(0.97)
    assert sc.scan(Text("hello")) == []
    REPLIES["/v1/moderations"] = {"results": [{"flagged": "yes"}]}
    (g,) = make("remote", url=f"{server}/v1/moderations", fail="open").scan(Text("hello"))
    assert g.action == "flag" and "failed open" in g.reason
    (h,) = make("remote", url=f"http://127.0.0.1:{closed_port()}/v1/moderations").scan(Text("hello"))
    assert h.action == "block"


def test_judge_sees_the_masked_text_and_policy_fails_closed(server: str, tmp_path) -> None:
    from luban.guard.policy import Policy

    seen: list[str] = []
    REPLIES["/v1/chat/completions"] = lambda body: seen.append(body["messages"][0]["content"]) or "safe"
    p = tmp_path / "judge.yaml"
    p.write_text(f"input:\n  - pii: {{action: mask}}\n  - llm_judge: {{base_url: '{server}/v1', model: m}}\n"
                 f"output:\n  - llm_judge: {{base_url: 'http://127.0.0.1:{closed_port()}/v1', model: m}}\n")
    pol = Policy.from_yaml(p)
    assert pol.remote
    d = pol.scan("call me on 13812345678")
    assert seen == ["call me on [CN_MOBILE]"] and d.action == "mask"
    out = pol.scan("any answer", stage="output")
    assert out.blocked and out.verdicts[0].category == "judge_unavailable"
