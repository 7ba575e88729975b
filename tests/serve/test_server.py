"""Model references become served ids and specs; adapters attach to their base."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from luban.core.errors import NotFoundError, UsageError
from luban.serve.server import model_specs


def test_directory_name_is_the_id_and_names_override(tiny_model_dir: Path, tiny_llama_dir: Path) -> None:
    specs = model_specs([str(tiny_model_dir), str(tiny_llama_dir)], names=["a"])
    assert [s.model_id for s in specs] == ["a", tiny_llama_dir.resolve().name]
    assert all(s.backend == "hf" for s in specs)


def test_adapter_attaches_to_its_base(tiny_model_dir: Path, lora_dir: Path) -> None:
    (spec,) = model_specs([str(tiny_model_dir), str(lora_dir)], names=["tiny", "support"])
    assert spec.model_id == "tiny" and spec.adapters == {"support": str(lora_dir)}
    (alone,) = model_specs([str(lora_dir)])  # base added from adapter_config.json
    assert alone.source == str(tiny_model_dir) and list(alone.adapters) == ["support"]


def test_workspace_artifact_is_served_under_its_name(tiny_model_dir: Path, ws) -> None:
    from luban.models.loading import ImportConfig, import_stage

    art = import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="acme-tiny")
    (spec,) = model_specs(["acme-tiny"], ws)
    assert spec.model_id == "acme-tiny" and Path(spec.source) == art.path


def test_bad_references_are_one_line_errors(tiny_model_dir: Path, ws) -> None:
    with pytest.raises(NotFoundError):
        model_specs(["no-such-model"], ws)
    with pytest.raises(UsageError):
        model_specs([str(tiny_model_dir), str(tiny_model_dir)], names=["x", "x"])


def test_a_model_that_fails_to_load_ends_the_server_with_a_one_line_error(tiny_model_dir: Path,
                                                                          tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    cmd = [sys.executable, "-c", "from luban.cli.main import main; main()", "serve", str(broken), "--port", "0"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)  # not left up answering 503 forever
    log = done.stdout + done.stderr
    assert done.returncode == 1, log
    last = log.strip().splitlines()[-1]
    assert last.startswith("error: models failed to load:") and "SafetensorError" in last, log
