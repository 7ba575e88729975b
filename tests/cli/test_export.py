"""`luban export gguf` / `luban export onnx`: model artifacts with lineage; bad input is one line."""

from __future__ import annotations

import os

import pytest
import typer
from typer.testing import CliRunner

from luban.cli import export as export_cli
from luban.cli.context import state
from luban.core.errors import NotFoundError, UsageError


@pytest.fixture
def app(ws, tiny_model_dir):
    from luban.models.loading import ImportConfig, import_stage

    import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")
    root = typer.Typer()
    root.command("noop")(lambda: None)
    root.add_typer(export_cli.app, name="export")
    state.workspace_path, state._ws = str(ws.root), ws
    yield root
    state.workspace_path, state._ws = None, None


@pytest.mark.slow
def test_export_onnx_writes_a_model_artifact_with_lineage(app, ws):
    pytest.importorskip("onnx")
    res = CliRunner().invoke(app, ["export", "onnx", "base", "--name", "base-onnx"])
    assert res.exit_code == 0, res.output
    art, base = ws.get("base-onnx"), ws.get("base")
    assert (art.path / "model.onnx").is_file() and (art.path / "tokenizer.json").is_file()
    assert art.manifest.producer.stage == "compress.onnx" and art.manifest.parents[0].id == base.id


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("LLAMA_CPP_DIR"), reason="converting to GGUF needs llama.cpp's "
                    "convert_hf_to_gguf.py: set LLAMA_CPP_DIR (or run `make gguf`, which unpacks it)")
def test_export_gguf_writes_a_model_artifact_with_lineage(app, ws):
    res = CliRunner().invoke(app, ["export", "gguf", "base", "--quant", "q8_0", "--name", "base-q8"])
    assert res.exit_code == 0, res.output
    art, base = ws.get("base-q8"), ws.get("base")
    gguf = art.path / "model.gguf"
    assert gguf.read_bytes()[:4] == b"GGUF" and art.manifest.stats["outtype"] == "q8_0"
    assert art.manifest.producer.stage == "compress.gguf" and art.manifest.parents[0].id == base.id


def test_export_bad_input_is_one_line(app):
    res = CliRunner().invoke(app, ["export", "gguf", "base", "--quant", "q4_K_M"])
    assert isinstance(res.exception, UsageError) and "luban compress quantize base --method gguf-q4_K_M" in str(
        res.exception)
    res = CliRunner().invoke(app, ["export", "onnx", "nope"])
    assert isinstance(res.exception, NotFoundError)
    res = CliRunner().invoke(app, ["export", "gguf", "--help"], env={"COLUMNS": "200"})
    assert "Example: luban export gguf" in res.output
