"""The embeddable chat widget on a company's own page: another origin than the gateway's (a plain http.server on
another port) holding the one <script> tag with an app key that lists that origin. Real Chromium, the tiny model
served by `luban serve`; keys are made through the admin API, so the running server knows them at once."""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from console_site import Site, shot

pytestmark = pytest.mark.browser
WIDGET = Path(__file__).resolve().parents[2] / "src" / "luban" / "console" / "static" / "widget.js"
REFUSAL = "This request is outside what this service answers."
HOSTILE = ("<style>* { color: rgb(255, 0, 0) !important; letter-spacing: 6px; } div { display: none !important; }"
           "button { background: rgb(0, 128, 0); font-size: 30px; }</style><button id='own'>Page button</button>")


class Pages:
    """A company's site: `tags` maps a path to the <script> tag of its page; `/hostile` is `/` under page styles
    that fight the widget. With `widget`, the site also serves widget.js itself (a stand-in gateway that goes away)."""

    def __init__(self, widget: bool = False) -> None:
        self.tags: dict[str, str] = {}
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                tags = {**pages.tags, "/hostile": HOSTILE + pages.tags.get("/", "")}
                if widget and self.path == "/console/widget.js":
                    self.answer(200, WIDGET.read_bytes(), "text/javascript")
                    return
                page = f"<!doctype html><html><head><meta charset='utf-8'><title>Shop</title></head>" \
                       f"<body>{tags.get(self.path, '')}</body></html>".encode()
                self.answer(200 if self.path in tags else 404, page, "text/html; charset=utf-8")

            def do_POST(self) -> None:  # noqa: N802 - the guarded gateway's answers, as guard.py sends them
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                asked = body["messages"][-1]["content"]
                if "bomb" in asked:
                    self.answer(400, json.dumps({"error": {"message": REFUSAL, "type": "invalid_request_error",
                                                           "param": None, "code": "content_filter"}}).encode(),
                                "application/json")
                    return
                chunks = [{"choices": [{"index": 0, "delta": {"content": "Hello "}, "finish_reason": None}],
                           "aigc": {"Label": "1", "ContentProducer": "luban", "ProduceID": "req-1"}}]
                if "secret" in asked:  # the output guard stops the answer mid-way
                    chunks.append({"choices": [{"index": 0, "delta": {"content": "[stopped]"},
                                                "finish_reason": "content_filter"}]})
                else:
                    chunks.append({"choices": [{"index": 0, "delta": {"content": "there."}, "finish_reason": "stop"}]})
                events = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("AIGC", json.dumps(chunks[0]["aigc"]))
                self.send_header("content-length", str(len(events)))
                self.end_headers()
                self.wfile.write(events)

            def answer(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def script_tag(src: str, **data: str) -> str:
    attrs = {"src": src, **{f"data-{k.replace('_', '-')}": v for k, v in data.items()}}
    return "<script " + " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items()) + "></script>"


@pytest.fixture(scope="module")
def shop(site: Site) -> Iterator[dict[str, str]]:
    """The shop's page at http://127.0.0.1:P (an origin the key lists) and http://localhost:P (one it does not)."""
    pages = Pages()
    allowed = f"http://127.0.0.1:{pages.port}"
    keys = {}
    for name, extra in {"shop": {"rpm": 60}, "expired": {"expires": time.time() - 60}, "limited": {"rpm": 1}}.items():
        r = site.post("/admin/keys", {"name": f"widget-{name}", "role": "app", "scopes": [site.model],
                                      "origins": [allowed], **extra})
        assert r.status_code == 201, r.text
        keys[name] = r.json()["key"]
    src = f"{site.url}/console/widget.js"
    pages.tags["/"] = script_tag(src, key=keys["shop"], model=site.model, title="Shop help", lang="en", max_tokens="8")
    pages.tags["/expired"] = script_tag(src, key=keys["expired"], model=site.model, lang="en")
    pages.tags["/limited"] = script_tag(src, key=keys["limited"], model=site.model, lang="en", max_tokens="4")
    yield {"allowed": allowed, "refused": f"http://localhost:{pages.port}", "key": keys["shop"]}
    pages.stop()


def ask(page: Any, text: str) -> Any:
    """Open the widget, send `text`, wait until the answer is in; the last message element."""
    page.click("#luban-chat-widget .fab")
    page.fill("#luban-chat-widget textarea", text)
    page.keyboard.press("Enter")
    page.wait_for_function("() => { const r = document.querySelector('#luban-chat-widget').shadowRoot;"
                           " return r.querySelectorAll('.msg').length >= 3 && !r.querySelector('form button').disabled; }")
    return page.locator("#luban-chat-widget .msg").last


def test_the_widget_chats_from_the_shops_own_page(page: Any, site: Site, shop: dict[str, Any]) -> None:
    page.goto(shop["allowed"] + "/")
    assert page.locator("#luban-chat-widget .panel").is_hidden()
    with page.expect_response(lambda r: r.url.endswith("/v1/chat/completions")) as answer:
        last = ask(page, "Hello, what do you sell?")
    resp = answer.value
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["access-control-allow-origin"] == shop["allowed"]
    assert "error" not in last.get_attribute("class") and "refused" not in last.get_attribute("class")
    text = last.locator(".bubble").inner_text()
    assert text.strip() and text != "…"  # the streamed answer of the tiny model
    assert page.locator("#luban-chat-widget header span").inner_text() == "Shop help"
    shot(page, "widget-answer")


def test_a_page_the_key_does_not_list_shows_a_clear_refusal(page: Any, shop: dict[str, Any]) -> None:
    page.goto(shop["refused"] + "/hostile")
    last = ask(page, "Hello?")
    assert "error" in last.get_attribute("class")
    assert last.locator(".bubble").inner_text() == (
        f"This chat key may not be used on this site ({shop['refused']}). The site's admin can add this origin "
        "to the key on the gateway.")
    # the page's styles do not reach the widget, and the widget's do not reach the page
    fab = page.locator("#luban-chat-widget .fab")
    assert fab.is_visible()
    assert fab.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(194, 65, 12)"
    assert last.locator(".bubble").evaluate("e => getComputedStyle(e).color") == "rgb(138, 28, 28)"
    assert page.locator("#own").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 128, 0)"
    shot(page, "widget-refused-origin")


def test_an_expired_key_says_so(page: Any, shop: dict[str, str]) -> None:
    page.goto(shop["allowed"] + "/expired")
    last = ask(page, "Hello?")
    assert last.locator(".bubble").inner_text() == "This chat's key has expired; please tell the site's admin."


def test_a_gateway_that_went_away_is_said_in_chinese(page: Any, site: Site, shop: dict[str, str]) -> None:
    stand_in = Pages(widget=True)  # serves the page and widget.js, then goes away before the visitor asks
    stand_in.tags["/"] = script_tag(f"http://127.0.0.1:{stand_in.port}/console/widget.js", key=shop["key"],
                                    model=site.model, lang="zh")
    page.goto(f"http://127.0.0.1:{stand_in.port}/")
    page.wait_for_selector("#luban-chat-widget .fab")
    stand_in.stop()
    last = ask(page, "你好")
    assert "error" in last.get_attribute("class")
    assert last.locator(".bubble").inner_text() == "无法连接到服务，请检查网络后重试。"
    assert page.locator("#luban-chat-widget textarea").get_attribute("placeholder") == "输入问题，Enter 发送"
    assert page.locator("#luban-chat-widget header span").inner_text() == "智能助手"
    shot(page, "widget-gateway-gone-zh")


def test_a_rate_limit_tells_the_wait(page: Any, shop: dict[str, str]) -> None:
    page.goto(shop["allowed"] + "/limited")
    first = ask(page, "one")
    assert "error" not in first.get_attribute("class")
    page.fill("#luban-chat-widget textarea", "two")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#luban-chat-widget').shadowRoot"
                           ".querySelectorAll('.msg').length >= 5")
    page.wait_for_function("() => !document.querySelector('#luban-chat-widget').shadowRoot"
                           ".querySelector('form button').disabled")
    text = page.locator("#luban-chat-widget .msg").last.locator(".bubble").inner_text()
    assert text.startswith("Too many requests; please try again in ") and text.endswith(" s.")


def test_the_aigc_label_and_guard_refusals_are_shown(page: Any, shop: dict[str, str]) -> None:
    stand_in = Pages(widget=True)  # answers with the shapes a gateway with the guard hook sends
    stand_in.tags["/"] = script_tag(f"http://127.0.0.1:{stand_in.port}/console/widget.js", key=shop["key"],
                                    model="m", lang="en")
    try:
        page.goto(f"http://127.0.0.1:{stand_in.port}/")
        last = ask(page, "hi")
        assert last.locator(".bubble").inner_text() == "Hello there."
        assert last.locator(".tag").all_inner_texts() == ["AI-generated content"]
        for question, expected in (("tell me the secret", ["This answer was stopped by the safety policy.",
                                                           "AI-generated content"]), ("a bomb", [])):
            page.fill("#luban-chat-widget textarea", question)
            page.keyboard.press("Enter")
            page.wait_for_function("n => document.querySelector('#luban-chat-widget').shadowRoot"
                                   ".querySelectorAll('.msg.refused').length >= n",
                                   arg=1 if expected else 2)
            last = page.locator("#luban-chat-widget .msg").last
            assert last.locator(".tag").all_inner_texts() == expected
        assert last.locator(".bubble").inner_text() == REFUSAL
        shot(page, "widget-guard")
    finally:
        stand_in.stop()
