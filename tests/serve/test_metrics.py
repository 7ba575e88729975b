"""`luban_tokens_total` counts tokens in and out per model, streamed or not, exactly as `usage` does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import openai

MSG = [{"role": "user", "content": "What is the warranty of the X100?"}]


def _tokens(url: str) -> dict[tuple[str, str], float]:
    text = httpx.get(url + "/metrics").text
    found = re.findall(r'luban_tokens_total\{kind="(\w+)",model="([^"]+)"\} (\S+)', text)
    return {(model, kind): float(v) for kind, model, v in found}


def test_token_counts_after_a_known_load(tiny_model_dir: Path, start_server: Any) -> None:
    from transformers import AutoTokenizer

    srv = start_server([str(tiny_model_dir), "--name", "tiny"])
    assert _tokens(srv.url)[("tiny", "prompt")] == 0  # every served model has samples before any request
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="none", max_retries=0, timeout=60)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    chat_prompt = len(tok(tok.apply_chat_template(MSG, tokenize=False, add_generation_prompt=True),
                          add_special_tokens=False).input_ids)
    fixed: dict[str, Any] = {"extra_body": {"ignore_eos": True}, "temperature": 1.0}
    for _ in range(3):  # non-streaming chat: 5 tokens each
        client.chat.completions.create(model="tiny", messages=MSG, max_tokens=5, **fixed)
    for _ in range(2):  # streaming chat without include_usage: nothing in the stream says how many
        chunks = list(client.chat.completions.create(model="tiny", messages=MSG, max_tokens=4, stream=True, **fixed))
        assert chunks[-1].choices[0].finish_reason == "length"
    list(client.chat.completions.create(model="tiny", messages=MSG, max_tokens=3, n=2, stream=True,
                                        stream_options={"include_usage": True}, **fixed))
    list(client.completions.create(model="tiny", prompt=[5, 6, 7], max_tokens=6, stream=True, **fixed))
    client.completions.create(model="tiny", prompt=[[5, 6], [7, 8, 9]], max_tokens=2, **fixed)
    got = _tokens(srv.url)
    assert got[("tiny", "prompt")] == 6 * chat_prompt + 3 + 5
    assert got[("tiny", "completion")] == 3 * 5 + 2 * 4 + 2 * 3 + 6 + 2 * 2
