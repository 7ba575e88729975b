"""The package table of DESIGN.md holds: pyproject's import contracts encode it row for row, the tree keeps
them, and a wrong import (at the top of a file, inside a function, under TYPE_CHECKING) fails lint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# DESIGN.md's table, "may import" column. `cli` may import everything, so it has no contract.
EVERY = {"core", "data", "models", "train", "evaluate", "compress", "serve", "gateway", "guard", "audit",
         "security", "compliance", "console", "pipeline", "stages", "cli"}
MAY_IMPORT = {
    "core": set(),
    "data": {"core", "guard"},
    "models": {"core"},
    "train": {"core", "models", "data.formats", "guard"},
    "evaluate": {"core", "models", "guard"},
    "compress": {"core", "models"},
    "serve": {"core", "models"},
    "gateway": {"core", "models", "serve", "guard", "audit", "security"},
    "guard": {"core"},
    "audit": {"core"},
    "security": {"core"},
    "compliance": {"core", "audit", "guard", "evaluate"},
    # the layers the console shows; it never runs stages (train, compress, the runners) or the CLI
    "console": EVERY - {"console", "cli", "pipeline", "stages", "train", "compress"},
    # both map stage names to the stage functions of every layer; neither is a front end
    "pipeline": EVERY - {"pipeline", "cli", "gateway", "console"},
    "stages": EVERY - {"stages", "cli", "gateway", "console"},
}


def contracts() -> dict[str, dict]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in data["tool"]["importlinter"]["contracts"]}


def package(expression: str) -> str:
    """`luban.serve` and `*.audit` (a package still to be written) -> the package's name."""
    return expression.split(".", 1)[1]


def test_every_package_of_the_tree_has_a_row() -> None:
    tree = {p.stem for p in (ROOT / "src" / "luban").iterdir()
            if (p.is_dir() and (p / "__init__.py").is_file()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert tree <= EVERY, f"packages missing from the table (DESIGN.md and here): {tree - EVERY}"
    assert set(MAY_IMPORT) == EVERY - {"cli"}


def test_each_contract_forbids_exactly_what_its_row_does_not_allow() -> None:
    found = contracts()
    assert set(found) == set(MAY_IMPORT)
    for name, allowed in MAY_IMPORT.items():
        c = found[name]
        assert c["type"] == "forbidden" and [package(m) for m in c["source_modules"]] == [name]
        assert c.get("allow_indirect_imports") is True  # a row limits what a package imports itself
        forbidden = {package(m) for m in c["forbidden_modules"]}
        assert forbidden == {p for p in EVERY - {name} if p not in allowed}, name
    # the one partial grant: train may use data.formats (through ignore_imports) and nothing else of data
    assert set(found["train"]["ignore_imports"]) == {"luban.train.** -> luban.data.formats",
                                                     "luban.train.** -> luban.data.formats.**"}


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}  # this copy of luban, not the installed one
    return subprocess.run([str(LINT_IMPORTS), "--no-logo", "--no-cache", str(ROOT / "pyproject.toml")],
                          cwd=src, env=env, capture_output=True, text=True, timeout=120)


def test_the_tree_keeps_every_contract() -> None:
    done = _lint(ROOT / "src")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "src" / "luban", tmp_path / "luban", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _append(tree: Path, module: str, code: str) -> None:
    path = tree / module.replace(".", "/")
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + code + "\n", encoding="utf-8")


def test_a_wrong_import_fails_lint_wherever_it_hides(tree_copy: Path) -> None:
    _append(tree_copy, "luban.models.catalog", "def _cards():\n    from luban.data import records\n\n"
            "    return records")
    _append(tree_copy, "luban.serve.limits", "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
            "    from luban.train.args import TrainArgs")
    _append(tree_copy, "luban.train.adapters", "from luban.data.readers import expand_inputs")
    _append(tree_copy, "luban.core.errors", "import luban.pipeline")
    done = _lint(tree_copy)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    for broken in ("models imports only core BROKEN", "serve imports only core and models BROKEN",
                   "train imports only core, models, data.formats and guard BROKEN",
                   "core imports nothing of luban BROKEN"):
        assert broken in out, out
    assert "luban.models.catalog -> luban.data.records" in out
    assert "luban.train.adapters -> luban.data.readers" in out
    assert "data imports only core and guard KEPT" in out


def test_train_may_use_data_formats_and_a_package_still_to_be_written_is_checked_once_it_exists(
        tree_copy: Path) -> None:
    _append(tree_copy, "luban.train.adapters", "from luban.data.formats.split import split_rows")
    console = tree_copy / "luban" / "console"
    if not console.exists():
        console.mkdir()
        (console / "__init__.py").write_text('"""Console."""\n', encoding="utf-8")
    done = _lint(tree_copy)
    assert done.returncode == 0, done.stdout + done.stderr
    _append(tree_copy, "luban.console", "from luban.train import run")
    _append(tree_copy, "luban.guard", "from luban.gateway import hooks")
    done = _lint(tree_copy)
    assert done.returncode == 1
    assert "console imports core, gateway and the layers it shows" in done.stdout
    assert "luban.console -> luban.train.run" in done.stdout
    assert "luban.guard -> luban.gateway.hooks" in done.stdout
