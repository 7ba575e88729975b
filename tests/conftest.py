"""Shared fixtures: a fresh workspace, tiny models built once per session, real services.

Optional parts (ray, onnxruntime, lm-eval, Label Studio, llama.cpp) and services: a test that lacks one
is skipped on a developer's machine, and FAILS under `CI=true` - CI must run what it claims to test. Mark
such a test `@pytest.mark.needs("module", "how to install it")`; any other skip under CI fails as well,
unless its reason starts with one of `CI_MAY_SKIP`.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from luban.core.workspace import Workspace

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ROOT = Path(__file__).resolve().parents[1]
CORPUS_TEXTS = [
    "Acme Robotics makes the X100 robot vacuum, the L2 smart lock and the H1 home hub.",
    "The X100 robot vacuum has a warranty of 2 years. Returns are accepted within 30 days.",
    "艾可机器人公司生产X100扫地机器人、L2智能门锁和H1家庭中枢。",
    "X100扫地机器人的保修期为2年。购买后30天内可以无理由退货。",
    "Support is open from 9:00 to 18:00 on weekdays. 客服工作时间为工作日9:00至18:00。",
] * 40

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# llama.cpp's converter from the sdist that `make gguf` unpacks, so plain `pytest` finds it as `make test` does
_CONVERTERS = sorted(ROOT.glob(".cache/llama_cpp_python-*/vendor/llama.cpp/convert_hf_to_gguf.py"))
if _CONVERTERS and not os.environ.get("LLAMA_CPP_DIR"):
    os.environ["LLAMA_CPP_DIR"] = str(_CONVERTERS[-1].parent)

# Skips that CI may take: what its machine cannot have (a GPU, one core only, chattr) or does not ask for.
CI_MAY_SKIP = (
    "needs CUDA",  # the `gpu` marker: CI runs on CPUs
    "checks the message on machines without CUDA",
    "one CPU thread",
    "opt-in: ",  # the image build (LUBAN_IMAGE_TEST=1): needs root, podman and debootstrap
    "cannot make a read-only folder here",  # chattr +i needs CAP_LINUX_IMMUTABLE, which containers drop
)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path / "ws")
    yield w
    w.close()


def _build(tmp_path_factory: pytest.TempPathFactory, arch: str) -> Path:
    from luban.models.tiny import build_tiny

    out = tmp_path_factory.mktemp(f"tiny-{arch}")
    build_tiny(CORPUS_TEXTS, out, arch=arch, size="test", vocab_size=600, max_position_embeddings=512)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen2-architecture HF directory (tokenizer, chat template, generation config)."""
    return _build(tmp_path_factory, "qwen2")


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory, "llama")


@pytest.fixture
def read_only_dir(tmp_path: Path):
    """A workspace folder that even root cannot write: immutable (chattr +i) or skipped if unsupported."""
    import shutil
    import subprocess

    from luban.core.workspace import Workspace

    root = tmp_path / "ro-ws"
    Workspace(root).check_writable()
    dirs = [root, *[d for d in root.rglob("*") if d.is_dir()]]
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", *map(str, dirs)]).returncode != 0:
        pytest.skip("cannot make a read-only folder here (chattr +i not permitted)")
    yield root
    subprocess.run(["chattr", "-i", *map(str, dirs)], check=False)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _need_service(name: str, host: str, port: int) -> None:
    if not _port_open(host, port):
        if IN_CI:
            pytest.fail(f"{name} is not reachable on {host}:{port} and CI=true requires it")
        pytest.skip(f"{name} not running on {host}:{port}")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("LUBAN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    _need_service("PostgreSQL", "127.0.0.1", 5432)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    _need_service("Redis", "127.0.0.1", 6379)
    return os.environ.get("LUBAN_TEST_REDIS", "redis://127.0.0.1:6379/15")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(module, install): needs an optional part; skipped without it, "
                            "a failure under CI=true")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        module, install = mark.args
        if importlib.util.find_spec(module) is None:
            if IN_CI:
                pytest.fail(f"{module} is not installed and CI=true requires it: {install}", pytrace=False)
            pytest.skip(f"{module} is not installed: {install}")


def _skip_reason(longrepr: Any) -> str:
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return str(reason).removeprefix("Skipped: ")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Under CI=true a skip is a failure, unless CI may take it (`CI_MAY_SKIP`)."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report.longrepr)
        if not reason.startswith(CI_MAY_SKIP):
            report.outcome = "failed"
            report.longrepr = f"skipped under CI=true, which must run it: {reason}"


_CI_SKIPPED_MODULES: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    """A whole module skipped under CI=true (a module-level skip) fails the run at its end."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped:
        reason = _skip_reason(report.longrepr)
        if not reason.startswith(CI_MAY_SKIP):
            _CI_SKIPPED_MODULES.append(f"{collector.nodeid}: {reason}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _CI_SKIPPED_MODULES:
        terminalreporter.write_line(f"FAILED (skipped under CI=true, which must run it) {line}", red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _CI_SKIPPED_MODULES and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)
