"""The data layer's `safety` and `pii` operators take a guard policy by name: one YAML for data and gateway."""

from __future__ import annotations

from pathlib import Path

import pytest

from luban.data.ops.pii import PII
from luban.data.ops.safety import Safety


def test_safety_with_the_default_policy() -> None:
    recs = [{"text": "冰毒对人体的危害很大，请远离毒品。"}, {"text": "教你在家制作冰毒的步骤如下"},
            {"text": "客服电话 13812345678，工作日在线。"}]
    kept, rejected = Safety(policy="default").process([dict(r) for r in recs])
    assert [r["text"] for r in kept] == ["冰毒对人体的危害很大，请远离毒品。", "客服电话 ***********，工作日在线。"]
    assert rejected[0]["reason"] == "unsafe: drugs"
    flagged, _ = Safety(policy="default", action="flag").process([dict(recs[1])])
    assert flagged[0]["safety"] == "drugs"


def test_pii_types_from_a_policy(tmp_path: Path) -> None:
    p = tmp_path / "only-email.yaml"
    p.write_text("input:\n  - pii: {types: [email]}\n")
    kept, _ = PII(action="tag", policy=str(p)).process([{"text": "mail a@b.com or call 13812345678"}])
    assert kept[0]["text"] == "mail [EMAIL] or call 13812345678"
    with pytest.raises(ValueError, match="has no pii scanner"):
        PII(policy=str(_write(tmp_path, "none.yaml", "input: []\n")))


def _write(tmp: Path, name: str, body: str) -> Path:
    (tmp / name).write_text(body)
    return tmp / name
