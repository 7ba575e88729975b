"""A real console to drive from a browser: `luban serve` of the tiny model (gateway, engine and console in one
process, as a laptop user runs it) over a workspace with admin, developer, auditor and app keys.

Used by the console's tests through the fixtures in tests/console/conftest.py; kept importable on its own so
that an area's tests can add artifacts to the same workspace with the CLI before opening a page.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from gateway_procs import Proc, free_port  # noqa: F401  (tests/gateway is on sys.path: see conftest)

ROLES = ("admin", "developer", "auditor", "app")
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"


def luban(ws: Path, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real CLI on the site's workspace."""
    out = subprocess.run([sys.executable, "-m", "luban.cli.main", "--workspace", str(ws), *args], text=True,
                         capture_output=True, timeout=timeout, env={**os.environ, "NO_COLOR": "1"})
    if check and out.returncode != 0:
        raise RuntimeError(f"luban {' '.join(args)} failed ({out.returncode}): {out.stderr[-2000:]}")
    return out


@dataclass
class Site:
    ws: Path
    model: str
    proc: Proc
    keys: dict[str, str] = field(default_factory=dict)  # role -> secret

    @property
    def url(self) -> str:
        return self.proc.url

    @property
    def console(self) -> str:
        return self.proc.url + "/console/"

    def get(self, path: str, role: str = "admin") -> httpx.Response:
        return httpx.get(self.url + path, headers={"Authorization": f"Bearer {self.keys[role]}"}, timeout=30)

    def post(self, path: str, body: object, role: str = "admin") -> httpx.Response:
        return httpx.post(self.url + path, json=body, headers={"Authorization": f"Bearer {self.keys[role]}"},
                          timeout=60)


def start_site(root: Path, model_dir: Path, model: str = "tiny") -> Site:
    ws = root / "ws"
    keys = {}
    for role in ROLES:
        out = luban(ws, "keys", "create", f"console-{role}", "--role", role)
        keys[role] = out.stdout.strip().splitlines()[-1]
    port = free_port()
    proc = Proc([sys.executable, "-m", "luban.cli.main", "--workspace", str(ws), "serve", str(model_dir),
                 "--name", model, "--port", str(port)], port, root / f"serve-{port}.log")
    proc.wait(timeout=300)  # a loaded 2-core machine takes minutes to import and load everything
    return Site(ws=ws, model=model, proc=proc, keys=keys)


def login(page: Any, site: Site, role: str = "admin") -> None:
    page.goto(site.console)
    page.fill("#login-key", site.keys[role])
    page.click("#login-submit")
    page.wait_for_selector("#whoami")


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
