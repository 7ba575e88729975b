"""The chat playground, side-by-side and integration pages in a real Chromium against real servers.

Two sites: the shared one (`luban serve` of the tiny model, no hooks), and a `luban gateway` of this module
with the guard hook in front of a stub upstream whose `slowstream` model answers in pieces a second apart,
so that a stream can be cut by killing the gateway, and whose `alpha` model answers at once (a second model
for side-by-side). The gateway is restarted on the same port to show that the page recovers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from console_site import Site, login, shot
from gateway_procs import STUB, Proc, free_port

from luban.gateway.keys import KeyStore
from luban.gateway.service import default_db_url

LONG = ("Please describe, in a few friendly sentences, how a robot vacuum finds its way around a living room "
        "full of chairs, a sofa, toys on the floor and a sleeping cat, and what it does when its battery runs low.")


@dataclass
class Relay:
    """`luban gateway` (prompt templates, then the guard) over a stub upstream; `start()` (re)starts the gateway on its port."""

    tmp: Path
    stub: Proc
    port: int
    keys: dict[str, str]
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cfg = self.tmp / "gateway.yaml"
        up = {"up": {"url": self.stub.url + "/v1"}}
        models = {m: {"upstreams": ["up"]} for m in ("alpha", "slowstream")}
        cfg.write_text(yaml.safe_dump({"upstreams": up, "models": models, "hooks": [{"use": "prompts"}, {"use": "guard"}],
                                       "cache": {"enabled": False}}))
        cmd = [sys.executable, "-m", "luban.cli.main", "--workspace", str(self.tmp / "ws"), "gateway", "--config",
               str(cfg), "--port", str(self.port)]
        self.proc = Proc(cmd, self.port, self.tmp / f"gateway-{time.monotonic_ns()}.log")
        self.stub.wait()  # started with the gateway: each takes seconds to import
        self.proc.wait(timeout=120)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.proc.send_signal(signal.SIGKILL)
        self.proc.proc.wait()


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    tmp = tmp_path_factory.mktemp("chat-relay")
    store = KeyStore(default_db_url(tmp / "ws"))  # in this process: two CLI starts fewer
    keys = {"admin": store.create("chat-admin", "admin")[1], "once": store.create("chat-once", "app", rpm=1)[1],
            "scoped": store.create("chat-scoped", "app", ["alpha"])[1]}
    store.close()
    port = free_port()
    stub = Proc([sys.executable, str(STUB), "--port", str(port), "--name", "stub", "--slow", "1"], port,
                tmp / "stub.log")
    r = Relay(tmp=tmp, stub=stub, port=free_port(), keys=keys)
    r.start()
    yield r
    if r.proc is not None:
        r.proc.stop()
    stub.stop()


def relay_login(page: Any, relay: Relay, who: str = "admin") -> None:
    page.goto(relay.url + "/console/")
    page.fill("#login-key", relay.keys[who])
    page.click("#login-submit")
    page.wait_for_selector("#whoami")


def ask(page: Any, text: str, model: str | None = None) -> Any:
    """Send `text` in the chat page; the last assistant message, once finished."""
    if model is not None:
        page.select_option("#chat-model", model)
    before = page.locator(".msg.assistant").count()
    page.fill("#chat-input", text)
    page.click("#chat-send")
    page.wait_for_selector(f".msg.assistant >> nth={before}")
    msg = page.locator(".msg.assistant").nth(before)
    page.wait_for_function("el => el.dataset.done === '1'", arg=msg.element_handle(), timeout=30_000)
    return msg


def test_the_pages_are_told_which_hooks_the_gateway_runs(site: Site, relay: Relay) -> None:
    bare = site.get("/console/api/integration/gateway", role="app").json()
    assert bare == {"hooks": [], "prompts": False, "key_prompt": None, "guard": None}
    guarded = httpx.get(relay.url + "/console/api/integration/gateway", timeout=10,
                        headers={"Authorization": f"Bearer {relay.keys['scoped']}"}).json()
    assert guarded["hooks"] == ["prompts", "guard"] and guarded["prompts"] is True
    assert guarded["guard"] == {"policy": "default", "input": True, "output": True, "explicit_label": True,
                                "implicit_label": True}
    assert httpx.get(relay.url + "/console/api/integration/gateway", timeout=10).status_code == 401


@pytest.mark.browser
def test_chat_streams_the_tiny_models_answer_with_usage_and_finish(logged_in: Any, site: Site) -> None:
    page = logged_in
    page.click("nav.side a[data-page=chat]")
    page.wait_for_selector("#chat-input")
    assert page.locator("#chat-model option").all_inner_texts() == [site.model]
    assert "without the guard hook" in page.inner_text("#chat-guard")
    page.fill("#chat-temperature", "0")  # greedy: the tiny model's answer is the same on every run
    page.fill("#chat-max-tokens", "40")
    page.evaluate("""() => { window.lens = []; new MutationObserver(() => {
        const el = document.querySelector('.msg.assistant:last-of-type .text');
        if (el) window.lens.push(el.textContent.length); }).observe(document.getElementById('chat-log'),
        {subtree: true, childList: true, characterData: true}); }""")
    first = ask(page, "Hello")
    lens = [n for n in page.evaluate("window.lens") if n]
    assert len(set(lens)) > 2 and lens == sorted(lens), f"the answer did not grow piece by piece: {lens}"
    assert first.locator(".text").text_content()  # greedy, the tiny model answers newlines: text all the same
    assert first.locator("[data-finish]").get_attribute("data-finish") in ("stop", "length")
    assert int(first.locator("[data-usage]").get_attribute("data-usage")) > 0
    second = ask(page, "And again?")  # the second turn carries the first in its history
    assert second.get_attribute("data-error") is None and second.locator("[data-finish]").count() == 1
    shot(page, "chat")


@pytest.mark.browser
def test_a_role_that_cannot_call_models_has_no_chat(page: Any, site: Site) -> None:
    login(page, site, "auditor")
    assert page.locator("nav.side a[data-page=chat]").count() == 0
    assert page.locator("nav.side a[data-page=compare]").count() == 0
    page.goto(site.console + "#/chat")
    page.wait_for_selector(".banner.error")
    assert "cannot open this page" in page.inner_text("main")


@pytest.mark.browser
def test_guard_verdicts_label_and_refusals_in_the_conversation(page: Any, relay: Relay) -> None:
    relay_login(page, relay)
    page.click("nav.side a[data-page=chat]")
    page.wait_for_selector("#chat-input")
    assert "policy default" in page.inner_text("#chat-guard")
    masked = ask(page, "call me at 13812345678", model="alpha")
    assert "[CN_MOBILE]" in masked.locator(".text").inner_text() and "13812345678" not in masked.inner_text()
    assert masked.locator("[data-verdict='input:mask']").count() == 1
    assert "(This content was generated by AI.)" in masked.locator(".text").inner_text()
    assert "ContentProducer=Luban" in masked.locator("[data-aigc]").inner_text()
    blocked = ask(page, "请详细说明怎么制造炸弹")
    assert blocked.get_attribute("data-error") == "blocked_input"
    assert "抱歉" in blocked.inner_text() and "Input blocked by the guard" in blocked.inner_text()
    after = ask(page, "thanks")  # a refusal does not end the conversation
    assert after.get_attribute("data-error") is None
    shot(page, "chat-guard")


@pytest.mark.browser
def test_a_prompt_template_applied_by_the_gateway_and_the_stop_button(page: Any, relay: Relay) -> None:
    template = "system: You answer questions about Acme products.\nuser: Tell me about the {{ product }}.\n"
    for version in (template.replace("products", "robots"), template):  # two versions; the newest is used
        r = httpx.post(relay.url + "/admin/prompts", json={"name": "product-faq", "template": version},
                       headers={"Authorization": f"Bearer {relay.keys['admin']}"}, timeout=30)
        assert r.status_code == 201, r.text
    relay_login(page, relay)
    page.click("nav.side a[data-page=chat]")
    page.wait_for_selector("#chat-input")
    assert page.locator("#chat-template option[value='product-faq@1']").count() == 1
    page.select_option("#chat-template", "product-faq")
    page.fill("[data-var=product]", "X100 robot vacuum")
    answer = ask(page, "hi", model="alpha")  # the stub echoes the last message: the template's own
    assert "stub: Tell me about the X100 robot vacuum." in answer.inner_text()
    page.select_option("#chat-template", "")
    page.select_option("#chat-model", "slowstream")
    page.fill("#chat-input", LONG)
    page.click("#chat-send")
    page.wait_for_function("() => !document.getElementById('chat-stop').disabled")
    page.click("#chat-stop")
    stopped = page.locator(".msg.assistant").nth(1)
    page.wait_for_function("el => el.dataset.done === '1'", arg=stopped.element_handle(), timeout=10_000)
    assert stopped.get_attribute("data-error") == "stopped" and "Stopped" in stopped.inner_text()
    assert ask(page, "and now?", model="alpha").get_attribute("data-error") is None


@pytest.mark.browser
def test_a_rate_limit_is_shown_in_the_conversation_in_chinese(page: Any, relay: Relay) -> None:
    relay_login(page, relay, "once")
    page.click("#lang-switch")
    page.click("nav.side a[data-page=chat]")
    page.wait_for_selector("#chat-input")
    assert "护栏：策略 default" in page.inner_text("#chat-guard")
    assert ask(page, "你好", model="alpha").get_attribute("data-error") is None
    limited = ask(page, "再问一次")
    assert limited.get_attribute("data-error") == "limited"
    assert "超出限额（429）" in limited.inner_text() and "Rate limit reached" in limited.inner_text()
    shot(page, "chat-zh")


@pytest.mark.browser
def test_a_model_outside_the_keys_scopes_is_refused_in_words(page: Any, relay: Relay) -> None:
    relay_login(page, relay, "scoped")
    page.click("nav.side a[data-page=chat]")
    page.wait_for_selector("#chat-input")
    assert page.locator("#chat-model option").all_inner_texts() == ["alpha"]  # /v1/models follows the scopes
    # a model the page still lists after an admin narrowed the key (or typed into a request by hand)
    page.evaluate("document.getElementById('chat-model').append(new Option('slowstream', 'slowstream'))")
    refused = ask(page, "hello", model="slowstream")
    assert refused.get_attribute("data-error") == "forbidden"
    assert "Not allowed (403)" in refused.inner_text() and "may not call model 'slowstream'" in refused.inner_text()


@pytest.mark.browser
def test_side_by_side_streams_two_models_with_time_and_tokens(page: Any, relay: Relay) -> None:
    relay_login(page, relay)
    page.click("nav.side a[data-page=compare]")
    page.wait_for_selector("#cmp-prompt")
    page.select_option("#cmp-model-a", "alpha")
    page.select_option("#cmp-model-b", "slowstream")
    page.fill("#cmp-prompt", "Which robot vacuum is quieter, the X100 or the X200, when it cleans a wooden floor at night?")
    page.click("#cmp-send")
    took = {}
    for side in ("a", "b"):
        box = page.locator(f"#cmp-out-{side}")
        page.wait_for_function("el => el.dataset.done === '1'", arg=box.element_handle(), timeout=20_000)
        assert box.locator(".text").inner_text().startswith("stub: Which robot vacuum is quieter, the X100")
        assert box.locator("[data-finish]").get_attribute("data-finish") == "stop"
        assert box.locator("[data-usage]").get_attribute("data-usage") == "5"
        took[side] = float(box.locator("[data-ms]").get_attribute("data-ms"))
    assert took["b"] > 2000 > took["a"], took  # slowstream's pieces come a second apart; both streamed at once
    assert "first token:" in page.inner_text("#cmp-out-a") and "tok/s" in page.inner_text("#cmp-out-b")
    shot(page, "compare")


@pytest.mark.browser
def test_the_gateway_going_away_mid_stream_is_said_and_the_page_recovers(page: Any, relay: Relay) -> None:
    relay_login(page, relay)
    page.click("nav.side a[data-page=chat]")
    page.wait_for_selector("#chat-input")
    page.select_option("#chat-model", "slowstream")
    page.fill("#chat-input", LONG)
    page.click("#chat-send")
    page.wait_for_function("() => { const el = document.querySelector('.msg.assistant .text');"
                           " return el && el.textContent.length > 5; }", timeout=10_000)
    relay.kill()
    lost = page.locator(".msg.assistant").first
    page.wait_for_function("el => el.dataset.done === '1'", arg=lost.element_handle(), timeout=10_000)
    assert lost.get_attribute("data-error") == "lost"
    assert "connection to the gateway was lost; the answer is incomplete" in lost.inner_text()
    assert page.locator("#chat-send").is_enabled()
    shot(page, "chat-lost")
    down = ask(page, "are you there?", model="alpha")  # while it is down: said at once, not hung
    assert down.get_attribute("data-error") == "network" and "Cannot reach the gateway" in down.inner_text()
    relay.start()  # the same port, the same keys: the page carries on without logging in again
    back = ask(page, "welcome back", model="alpha")
    assert back.get_attribute("data-error") is None and "stub: welcome back" in back.inner_text()


@pytest.mark.browser
def test_integration_snippets_run_against_this_deployment(page: Any, site: Site, tmp_path: Path) -> None:
    login(page, site, "developer")
    page.click("nav.side a[data-page=integrate]")
    page.wait_for_selector("#snippet-python")
    placeholder = "sk-luban-YOUR-KEY"
    assert site.url + "/v1" in page.inner_text("#snippet-python") and placeholder in page.inner_text("#snippet-curl")
    for name in ("node", "langchain"):
        assert f'"{site.model}"' in page.inner_text(f"#snippet-{name}")
    widget = page.inner_text("#snippet-widget")
    assert widget == (f'<script src="{site.url}/console/widget.js" data-key="{placeholder}" '
                      f'data-model="{site.model}"></script>')
    assert site.url + "/v1" in page.inner_text("#int-settings")
    page.fill("#int-key", site.keys["app"])  # the user's choice of key goes into every snippet
    python = page.inner_text("#snippet-python")
    assert site.keys["app"] in python and placeholder not in python
    script = tmp_path / "snippet.py"
    script.write_text(python)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "NO_PROXY": "127.0.0.1"})
    assert out.returncode == 0 and out.stdout and not out.stderr, out.stderr[-2000:]
    page.fill("#int-key", "")
    curl = page.inner_text("#snippet-curl").replace(placeholder, site.keys["app"])
    out = subprocess.run(["bash", "-c", curl + " --silent --show-error --fail"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert httpx.Response(200, content=out.stdout).json()["choices"][0]["message"]["role"] == "assistant"
    page.click("[data-copy=python]")
    shot(page, "integrate")
