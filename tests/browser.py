"""Debian's Chromium driven by Playwright for Python (Playwright's own browser download is unavailable
offline, so the system browser is launched). Screenshots go to test-artifacts/ (git-ignored), for review."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.paths import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--lang=zh-CN"]  # the file chooser and other browser UI in Chinese, as an office's browser shows them
VIEWPORT = {"width": 1366, "height": 768}
ARTIFACTS = ROOT / "test-artifacts"


def require_chromium() -> str:
    """Fail (not skip) when Chromium is missing: `make test` installs it (scripts/system-deps.sh)."""
    if not Path(CHROMIUM).exists():
        raise AssertionError(f"{CHROMIUM} is not installed; run `make test`, which installs Debian's chromium")
    return CHROMIUM


@contextmanager
def page(downloads: Path) -> Iterator[Any]:
    """A fresh page at 1366×768 in headless Chromium, accepting downloads."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=require_chromium(), args=ARGS, headless=True,
                                    downloads_path=str(downloads))
        try:
            context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="zh-CN")
            yield context.new_page()
        finally:
            browser.close()


def screenshot(pg: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"web-{name}.png"
    pg.screenshot(path=str(path))
    return path
