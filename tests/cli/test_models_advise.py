"""`luban models list` and `luban models advise` print the catalog and a verdict."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from luban.cli.models import app

runner = CliRunner()


def test_list_prints_the_catalog_with_licences() -> None:
    res = runner.invoke(app, ["list", "--family", "qwen2.5"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "qwen2.5-7b" in res.output and "Apache" in res.output and "llama" not in res.output


def test_advise_says_fits_or_recommends(tiny_model_dir: Path) -> None:
    res = runner.invoke(app, ["advise", "qwen2.5-7b", "--method", "full", "--batch", "4", "--gpu", "4090-24G",
                              "--tokens", "100000000"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "does not fit" in res.output and "recommended" in res.output and "time per epoch" in res.output
    res = runner.invoke(app, ["advise", str(tiny_model_dir), "--gpu", "cpu", "--seq-len", "256"],
                        terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "fits" in res.output


def test_advise_rejects_an_unknown_method() -> None:
    res = runner.invoke(app, ["advise", "qwen2.5-7b", "--method", "prompting"])
    assert res.exit_code != 0
