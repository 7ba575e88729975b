"""`luban compress ...` from the command line: a variant with its drift printed, one-line refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from luban.cli.main import app, main
from luban.core.workspace import Workspace
from luban.models.loading import ImportConfig, import_stage


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out = capsys.readouterr()
    return int(exit_.value.code or 0), out.out, out.err


def test_quantize_prints_the_drift_and_bad_input_is_one_line(tmp_path: Path, tiny_model_dir: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    wsdir = str(tmp_path / "ws")
    ws = Workspace(wsdir)
    import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")
    ws.close()
    rc, out, err = _main(capsys, "-w", wsdir, "compress", "quantize", "base", "--method", "torch-int8", "-n", "int8")
    assert rc == 0, err
    assert "torch-int8 model int8" in out and "perplexity" in out
    rc, out, err = _main(capsys, "-w", wsdir, "compress", "quantize", "base", "--method", "bnb-4bit")
    assert rc == 2 and "needs a CUDA GPU" in err and "torch-int8" in err and "Traceback" not in err
    rc, out, err = _main(capsys, "-w", wsdir, "compress", "sweep", "base", "--gate", "perplexity_delta_pct")
    assert rc == 2 and "METRIC=CONDITION" in err


def test_help_has_examples() -> None:
    out = CliRunner().invoke(app, ["compress", "sweep", "--help"])
    assert out.exit_code == 0 and "Example" in out.output and "candidate" in out.output
