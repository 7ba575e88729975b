"""Fixtures for the console: a running site (see console_site.py) and a real headless Chromium page on it.

Chromium is Debian's (`/usr/bin/chromium`), driven by Playwright; a missing browser skips outside CI and fails
under CI=true. Every test may save screenshots with `shot(page, name)` into test-artifacts/console/.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))  # gateway_procs

from console_site import BROWSER_FLAGS, Site, login, start_site  # noqa: E402

CHROMIUM = os.environ.get("LUBAN_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Iterator[Site]:
    s = start_site(tmp_path_factory.mktemp("console"), tiny_model_dir)
    yield s
    s.proc.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One browser per test module, not per session: Playwright's sync API keeps its event loop marked as running
    while it is open, and every later test that calls `asyncio.run()` would fail with "cannot be called from a
    running event loop"."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"Chromium is not installed at {CHROMIUM} and CI=true requires it (apt-get install chromium)")
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (its own sessionStorage) at a laptop's screen size, English unless a test asks."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


@pytest.fixture
def logged_in(page: Any, site: Site) -> Any:
    login(page, site)
    return page
