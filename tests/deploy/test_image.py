"""The serving image, built from the Dockerfile and probed over HTTP (opt-in: LUBAN_IMAGE_TEST=1).

Runs deploy/build-image-offline.sh (podman, a debootstrap base, the local CPU torch wheel; needs root) and
deploy/test-image.sh with the session's tiny model. About 4 minutes from nothing on 2 cores, a minute with
podman's layer cache warm, so `make test` and CI skip it unless asked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("LUBAN_IMAGE_TEST") != "1", reason="opt-in: LUBAN_IMAGE_TEST=1"),
    pytest.mark.skipif(shutil.which("podman") is None or shutil.which("debootstrap") is None,
                       reason="needs podman and debootstrap"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (debootstrap, rootful podman)"),
]


def test_image_builds_and_serves_a_tiny_model(tiny_model_dir: Path) -> None:
    subprocess.run([str(ROOT / "deploy" / "build-image-offline.sh")], check=True, timeout=1800)
    subprocess.run([str(ROOT / "deploy" / "test-image.sh")], check=True, timeout=300,
                   env={**os.environ, "MODEL": str(tiny_model_dir)})
