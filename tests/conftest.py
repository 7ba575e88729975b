"""Shared fixtures: a fresh workspace, tiny models built once per session, real services."""

from __future__ import annotations

import os
import socket
from pathlib import Path

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
