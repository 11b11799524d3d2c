"""Headless Chromium (Debian's ``chromium``) driven by Playwright's Python package, for the
console's browser test. Never ``playwright install``: the browser is the system's."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable_reason() -> str | None:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or SWITCHBOARD_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (requirements-dev.txt)"
    return None


def require_browser() -> None:
    """Skip (or, where SWITCHBOARD_REQUIRE_BROWSER=1 as in .ci/run, fail) without a browser."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("SWITCHBOARD_REQUIRE_BROWSER") == "1":
        pytest.fail(f"the browser test is required here but cannot run: {reason}")
    pytest.skip(f"browser unavailable: {reason}")


@contextmanager
def chromium_page(profile: Path) -> Iterator[Any]:
    """A page in a fresh Chromium profile; closed (and the browser stopped) on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1000},
        )
        try:
            yield context.new_page()
        finally:
            context.close()
