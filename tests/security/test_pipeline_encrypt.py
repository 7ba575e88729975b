"""`encrypt: true` on a stage of a solution spec: the artifact is stored encrypted, a re-run reuses it,
and the next stage reads it transparently."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from luban.core.errors import UsageError
from luban.core.workspace import ENCRYPTED_MARKER
from luban.pipeline import run_spec
from luban.security.masterkey import new_key_text

SPEC = """
name: enc
stages:
  - name: corpus
    use: data.curate
    encrypt: true
    with: {inputs: [raw/], process: [{length: {min_chars: 5}}]}
  - name: tiny
    use: models.tiny
    from: corpus
    with: {size: test, vocab_size: 300}
"""


def test_encrypted_stage_output_is_reused_and_read_by_the_next_stage(tmp_path, ws, monkeypatch):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.txt").write_text("客户张三的保修期为两年。 The X100 warranty lasts two years.\n" * 40)
    spec = tmp_path / "luban.yaml"
    spec.write_text(SPEC)
    monkeypatch.delenv("LUBAN_MASTER_KEY_FILE", raising=False)
    monkeypatch.delenv("LUBAN_MASTER_KEY_COMMAND", raising=False)
    monkeypatch.delenv("LUBAN_MASTER_KEY", raising=False)
    with pytest.raises(UsageError, match="no master key is set"):
        run_spec(spec, ws)
    monkeypatch.setenv("LUBAN_MASTER_KEY", new_key_text())
    first = run_spec(spec, ws)
    assert [r.status for r in first] == ["ran", "ran"]
    stored = ws.locate("corpus")
    assert (stored.path / ENCRYPTED_MARKER).is_file()
    assert not list(stored.path.rglob("*.parquet"))
    shards = sorted(first[0].artifact.path.rglob("train-*.parquet"))
    assert shards and pq.read_table(shards[0]).num_rows >= 1
    second = run_spec(spec, ws)
    assert [r.status for r in second] == ["reused", "reused"]
    assert second[0].artifact.id == stored.id
