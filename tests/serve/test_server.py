"""Model references become served ids and specs; adapters attach to their base."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from luban.core.errors import ConfigError, NotFoundError, UsageError
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


def test_backend_is_detected_or_chosen_explicitly(tiny_model_dir: Path, tmp_path: Path) -> None:
    both = tmp_path / "both"  # HF weights and an ONNX graph side by side: detection picks ONNX
    shutil.copytree(tiny_model_dir, both)
    (both / "model.onnx").write_bytes(b"")
    assert [s.backend for s in model_specs([str(both)])] == ["onnx"]
    assert [s.backend for s in model_specs([str(both)], backends=["hf"])] == ["hf"]
    specs = model_specs([str(both), "http://127.0.0.1:9/v1#m"], names=["a", "b"], backends=["hf", "remote"])
    assert [s.backend for s in specs] == ["hf", "remote"]


def test_bad_backend_choices_are_one_line_errors(tiny_model_dir: Path, lora_dir: Path) -> None:
    with pytest.raises(ConfigError, match="unknown serving backend 'onxx'.*did you mean 'onnx'"):
        model_specs([str(tiny_model_dir)], backends=["onxx"])
    with pytest.raises(UsageError, match="2 --backend values for 3 models"):
        model_specs([str(tiny_model_dir)] * 3, names=["a", "b", "c"], backends=["hf", "onnx"])
    with pytest.raises(UsageError, match="--backend remote needs an http"):
        model_specs([str(tiny_model_dir)], backends=["remote"])
    with pytest.raises(UsageError, match="is an upstream URL: --backend hf cannot serve it"):
        model_specs(["http://127.0.0.1:9/v1"], backends=["hf"])
    with pytest.raises(UsageError, match="only the hf backend serves adapters"):
        model_specs([str(lora_dir)], backends=["llamacpp"])


def test_luban_serve_passes_backend_to_the_specs(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from luban.cli.serve import app
    from luban.serve import server

    served: list = []
    monkeypatch.setattr(server, "run", lambda specs, *args, **kwargs: served.extend(specs))
    result = CliRunner().invoke(app, ["serve", str(tiny_model_dir), "--backend", "onnx", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert [s.backend for s in served] == ["onnx"]
    help_text = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).output
    assert "--backend" in help_text and "llamacpp" in help_text
