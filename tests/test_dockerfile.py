"""The CPU Dockerfile, read as text (the image itself is built and probed by `make image image-test`)."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = [line for line in TEXT.replace("\\\n", " ").splitlines() if line and not line.startswith("#")]


def _instr(name: str) -> list[str]:
    return [line[len(name):].strip() for line in INSTRUCTIONS if line.startswith(name + " ")]


def _arg_default(name: str) -> str:
    (value,) = [arg.split("=", 1)[1] for arg in _instr("ARG") if arg.startswith(name + "=")]
    return value


def test_slim_python_base_and_cpu_torch_at_the_pinned_version() -> None:
    # Build args let an offline build (deploy/build-image-offline.sh) swap both; the defaults are what
    # `docker build .` gets.
    assert _instr("FROM") == ["${BASE}"] and _arg_default("BASE") == "python:3.11-slim"
    assert _arg_default("TORCH_INDEX") == "https://download.pytorch.org/whl/cpu"
    pins = dict(line.split("==", 1) for line in (ROOT / "constraints.txt").read_text().split() if "==" in line)
    run = " ".join(_instr("RUN"))
    assert f'--index-url "${{TORCH_INDEX}}" "torch=={pins["torch"]}"' in run
    assert "-c constraints.txt" in run  # every other dependency at its pinned version


def test_extras_it_installs_exist() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    default = re.search(r"ARG EXTRAS=(\S+)", TEXT)
    assert default is not None
    assert set(default.group(1).split(",")) <= set(extras)


def test_runs_luban_serve_as_a_non_root_user_with_a_health_check() -> None:
    users = _instr("USER")
    assert users and users[-1] not in ("root", "0")
    assert _instr("ENTRYPOINT") == ['["luban", "serve", "--host", "0.0.0.0", "--port", "8000"]']
    assert _instr("EXPOSE") == ["8000"]
    (check,) = _instr("HEALTHCHECK")
    assert "http://127.0.0.1:8000/health" in check


def test_context_excludes_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "luban-ws", ".cache"} <= set(ignored)  # .cache: the offline build's rootfs and wheels
