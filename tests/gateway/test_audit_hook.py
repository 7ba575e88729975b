"""The audit hook in a real gateway: every call answered or refused is one record, the chain verifies,
prompts are kept as hashes, and the process's shutdown flushes what was queued."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import httpx
import openai
import pytest
from gateway_procs import start_gateway, start_stub

from luban.audit import open_store
from luban.audit.query import Filter, find
from luban.audit.signing import Signer
from luban.audit.verify import verify_chain
from luban.gateway.audit import AuditHook
from luban.gateway.hooks import CallContext, CallerKey, Verdict
from luban.gateway.keys import KeyStore

MSG = [{"role": "user", "content": "my phone is 13812345678"}]


def test_gateway_calls_become_a_verified_chain(tmp_path: Path) -> None:
    stub = start_stub(tmp_path, "up")
    (tmp_path / "ws").mkdir()
    store = KeyStore(f"sqlite:///{tmp_path / 'ws' / 'gateway.db'}")
    rec, secret = store.create("app1", purpose="support")
    store.close()
    config = {"upstreams": {"a": {"url": f"{stub.url}/v1"}},
              "models": {"chat": {"upstreams": [{"upstream": "a", "model": "echo"}]}},
              "hooks": [{"use": "audit", "with": {"text": "hash"}}]}
    gw = start_gateway(tmp_path, config)
    try:
        client = openai.OpenAI(base_url=gw.url + "/v1", api_key=secret, max_retries=0)
        for _ in range(5):
            client.chat.completions.create(model="chat", messages=MSG)  # type: ignore[arg-type]
        chunks = list(client.chat.completions.create(model="chat", messages=MSG, stream=True))  # type: ignore[arg-type]
        assert chunks
        bad = httpx.post(gw.url + "/v1/chat/completions", json={"model": "chat", "messages": MSG},
                         headers={"Authorization": "Bearer sk-wrong", "X-Luban-Purpose": "probe"})
        assert bad.status_code == 401
    finally:
        assert gw.stop() == 0
        stub.stop()
    folder = tmp_path / "ws" / "audit"
    audit = open_store(folder)
    records = list(find(audit, Filter()))
    assert len(records) == 7
    calls = [r for r in records if r["kind"] == "call"]
    assert len(calls) == 6 and {r["key_id"] for r in calls} == {rec.id}
    assert all(r["status"] == 200 and r["model"] == "chat" for r in calls)
    expected = "sha256:" + hashlib.sha256(json.dumps(MSG, separators=(",", ":")).encode()).hexdigest()
    assert all(r["prompt"] == expected for r in calls)
    assert "13812345678" not in json.dumps(records)
    [auth] = [r for r in records if r["kind"] == "auth"]
    assert auth["status"] == 401 and "auth_failure" in auth["anomalies"] and auth["purpose"] == "probe"
    [chain] = audit.chains()
    report = verify_chain(audit, chain, Signer(folder).public_key, folder)
    assert report.ok and report.records == 7 and report.signed_seq == 7


def test_masked_text_keeps_the_words_but_not_the_personal_information() -> None:
    hook = AuditHook(text="mask")
    ctx = CallContext(request_id="r", route="chat.completions", body={"messages": MSG},
                      key=CallerKey(id="k1", role="app"), status=200, model="chat", started=time.time())
    hook.on_chunk(ctx, "call 1381234")
    hook.on_chunk(ctx, "5678 back")
    rec = hook.record(ctx)
    assert "my phone is ***********" in rec["prompt"]
    assert rec["answer"] == ["call *********** back"]


def test_blocked_content_and_bursts_are_anomalies() -> None:
    hook = AuditHook(text="none", burst_per_second=3)
    now = time.time()
    recs = []
    for i in range(5):
        ctx = CallContext(request_id=str(i), route="chat.completions", body={}, key=CallerKey(id="k1"),
                          status=200, started=now + i * 0.01)
        if i == 0:
            ctx.verdicts.append(Verdict(action="block", scanner="lexicon", category="A.1"))
        recs.append(hook.record(ctx))
    assert recs[0]["action"] == "blocked" and "blocked_content" in recs[0]["anomalies"]
    assert ["burst" in r["anomalies"] for r in recs] == [False, False, False, True, True]
    assert "prompt" not in recs[0]


def test_a_bad_text_mode_is_refused() -> None:
    with pytest.raises(Exception, match="text must be one of none, hash, mask"):
        AuditHook(text="plain")
