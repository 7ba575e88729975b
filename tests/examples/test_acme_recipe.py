"""The shipped Acme curation recipe validates and cleans the demo corpus's injected dirt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from luban.core.config import load_config
from luban.core.shards import read_split
from luban.core.workspace import Workspace
from luban.data.curate import CurateConfig, curate

ACME = Path(__file__).resolve().parents[2] / "examples" / "acme"


def test_acme_recipe_curates_the_demo_corpus(ws: Workspace, monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # the recipe's paths are relative to the recipe, wherever the user stands
    cfg = load_config(CurateConfig, ACME / "recipe.yaml")
    art = curate(cfg, ws, name="acme-corpus")
    train = read_split(art, "train").to_pylist()
    dirt = json.loads((ACME / "raw_dirt.json").read_text(encoding="utf-8"))
    text = "\n".join(t["text"] for t in train)
    for kind in ("id_numbers", "phones", "bank_cards", "emails"):
        leaked = [p["value"] for p in dirt["pii"][kind] if p["value"] in text]
        assert not leaked, f"{kind} left in train: {leaked[:3]}"
    kept = {t["source"] for t in train}
    for pair in dirt["exact_duplicates"]:
        assert not {pair["file"], pair["copy_of"]} <= kept, pair
    assert "<script" not in text and "cookie-banner" not in text
    assert "Ã" not in text  # mojibake repaired
    unsafe = [u["line"] for u in dirt["unsafe"] if u["line"] in text]
    assert not unsafe, f"unsafe lines left in train: {unsafe[:3]}"
    assert "raw/policies/zh/privacy_policy.txt" in kept  # "我们不会出售个人信息" is policy, not risk
    stats = art.manifest.stats
    assert stats["train"] > 300 and stats["records_in"] == stats["train"] + stats["rejected"]
    assert {p.path for p in art.manifest.parents} >= {"raw/faq/faq.csv", "raw/web/en/about.html"}
    # the command a new user types from the repository root makes the very same dataset
    other = tmp_path / "ws-cli"
    done = subprocess.run([sys.executable, "-m", "luban.cli.main", "--workspace", str(other), "data", "curate",
                           "examples/acme/recipe.yaml", "--name", "acme-corpus"],
                          cwd=ACME.parents[1], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    cli_ws = Workspace(other)
    assert cli_ws.get("acme-corpus").id == art.id
    cli_ws.close()

