"""`luban usage`: the terminal report and the HTML page with charts, from a real usage database."""

from __future__ import annotations

import json
from pathlib import Path

from luban.gateway.hooks import CallContext, CallerKey
from luban.gateway.keys import KeyStore
from luban.gateway.usage import UsageRecord, UsageStore


def _fill(url: str) -> str:
    keys = KeyStore(url)
    rec, _ = keys.create("crm-app")
    keys.close()
    store = UsageStore(url)
    records = []
    for i, (day, model, tokens) in enumerate([(0, "chat", 100), (0, "chat", 50), (1, "emb", 10), (1, "chat", 40)]):
        ctx = CallContext(request_id=f"r{i}", route="chat.completions", body={}, key=CallerKey(id=rec.id),
                          model=model, status=200, prompt_tokens=tokens, completion_tokens=tokens // 2,
                          cost=tokens / 1000, latency_ms=10.0)
        ctx.started = 1_764_000_000.0 + day * 86400
        records.append(UsageRecord.of(ctx))
    store.write(records)
    store.close()
    return rec.id


def test_terminal_json_and_html(cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    kid = _fill(url)
    code, out, err = cli("usage", "--url", url, "--html", tmp_path / "usage.html")
    assert code == 0, err
    assert "4 requests" in out and "crm-app" in out and "openai/gpt-4o" in out and "self-hosted H100" in out
    page = (tmp_path / "usage.html").read_text()
    assert page.count("<svg") == 4 and "crm-app" in page and "http" not in page.split("<svg")[0].lower()
    code, out, _ = cli("usage", "--url", url, "--json", "--since", "2025-11-25")
    data = json.loads(out)
    assert data["total"]["requests"] == 2 and {r["model"] for r in data["by_model"]} == {"chat", "emb"}
    assert data["by_key"][0]["key_id"] == kid


def test_gateway_yaml_names_the_database_and_currency(cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    _fill(url)
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text(f"keys: {{url: '{url}'}}\nlimits: {{currency: CNY}}\nhooks: [{{use: usage}}]\n")
    code, out, err = cli("usage", "--config", cfg)
    assert code == 0, err
    assert "CNY" in out


def test_empty_and_bad_input(cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    code, out, _ = cli("usage", "--url", url)
    assert code == 0 and "No usage recorded" in out
    code, _, err = cli("usage", "--url", url, "--since", "last week")
    assert code == 2 and "'last week' is not a date" in err
