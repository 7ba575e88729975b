"""Prefix caching through a real server: hits and reused tokens on /metrics, `--prefix-cache off` turns it off,
and the greedy answers are the same either way."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

SYSTEM = ("You are the support assistant of Acme Robotics. The X100 robot vacuum has a warranty of two years; "
          "returns are accepted within 30 days with the receipt. Support is open from 9:00 to 18:00 on weekdays. ")
QUESTIONS = ["How long is the warranty?", "When is support open?", "Can I return it?", "Does it climb stairs?"]


def _metric(text: str, name: str) -> float:
    found = re.search(rf'^{name}{{model="tiny"}} (\S+)$', text, re.M)
    assert found, f"{name} not on /metrics"
    return float(found.group(1))


def _answers(url: str) -> tuple[list[str], str]:
    out = []
    for q in QUESTIONS:
        res = httpx.post(url + "/v1/completions", json={"model": "tiny", "prompt": SYSTEM + q, "max_tokens": 8,
                                                        "temperature": 0, "ignore_eos": True}, timeout=60)
        assert res.status_code == 200, res.text
        out.append(res.json()["choices"][0]["text"])
    return out, httpx.get(url + "/metrics", timeout=10).text


def test_prefix_cache_hits_are_on_metrics_and_off_turns_it_off(tiny_model_dir: Path, start_server: Any) -> None:
    cached = start_server([str(tiny_model_dir), "--name", "tiny", "--dtype", "float32"], command="engine")
    answers, metrics = _answers(cached.url)
    # the first question is seen, the second shares (and stores) the system prompt, the others reuse it
    assert _metric(metrics, "luban_prefix_cache_queries_total") == len(QUESTIONS)
    assert _metric(metrics, "luban_prefix_cache_hits_total") == len(QUESTIONS) - 2
    assert _metric(metrics, "luban_prefix_cache_hit_tokens_total") >= 32 * (len(QUESTIONS) - 2)
    assert _metric(metrics, "luban_prefix_cache_bytes") > 0
    cached.stop()
    plain = start_server([str(tiny_model_dir), "--name", "tiny", "--dtype", "float32", "--prefix-cache", "off"],
                         command="engine")
    plain_answers, metrics = _answers(plain.url)
    assert _metric(metrics, "luban_prefix_cache_queries_total") == 0
    assert _metric(metrics, "luban_prefix_cache_bytes") == 0
    assert plain_answers == answers
