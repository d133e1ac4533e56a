"""Headless-browser test support: Debian ``chromium`` driven by Playwright.

Never run ``playwright install`` -- we use the system Chromium from the Debian
``chromium`` package (``bash .ci/run`` installs it, plus ``fonts-noto-cjk``).

Executable lookup order: ``$ZHSEARCH_CHROMIUM``, ``/usr/bin/chromium``,
``shutil.which("chromium")``.  If none is found the ``browser`` fixture
*fails* when ``CI=true`` (CI must exercise the browser) and *skips* otherwise.

Usage -- preferred: re-export the fixtures from ``tests/conftest.py`` so every
test module gets them::

    # tests/conftest.py
    from tests.browser import browser, page  # noqa: F401  (pytest fixtures)

or import them directly in a single test module (same line).  Then::

    def test_search_page(page, live_server_url):
        page.goto(live_server_url + "/?q=中文")
        assert page.locator(".result").count() > 0

    def test_custom_context(browser):
        ctx = browser.new_context(viewport={"width": 390, "height": 844})
        try:
            ...
        finally:
            ctx.close()

``tests/__init__.py`` must exist (it does) so ``tests.browser`` is importable
under pytest's default ``prepend`` import mode.  Do not use
``pytest_plugins = [...]`` in ``tests/conftest.py``: pytest rejects it in
non-root conftest files.

Outside pytest (scripts, debugging)::

    from playwright.sync_api import sync_playwright
    from tests.browser import launch_browser
    with sync_playwright() as pw:
        b = launch_browser(pw)
        ...
        b.close()
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

__all__ = [
    "CHROMIUM_ARGS",
    "find_chromium",
    "launch_browser",
    "browser",
    "page",
]

DEFAULT_CHROMIUM = "/usr/bin/chromium"

# Required on the CI box: the network is closed, and without the
# background-networking flags Chromium's own connections get refused.
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


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def find_chromium() -> str | None:
    """Return the path of the Chromium executable to use, or ``None``.

    Raises ``FileNotFoundError`` if ``$ZHSEARCH_CHROMIUM`` is set but does not
    point at an executable (an explicit misconfiguration, never skipped).
    """
    env = os.environ.get("ZHSEARCH_CHROMIUM", "").strip()
    if env:
        if Path(env).is_file() and os.access(env, os.X_OK):
            return env
        raise FileNotFoundError(
            f"ZHSEARCH_CHROMIUM={env!r} is not an executable file"
        )
    if Path(DEFAULT_CHROMIUM).is_file() and os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM
    return shutil.which("chromium")


def launch_browser(playwright, **kwargs):
    """Launch system Chromium with the CI-safe flags; returns a Playwright ``Browser``.

    ``playwright`` is the object from ``sync_playwright().start()`` (or the
    ``with sync_playwright() as pw`` target).  Extra ``kwargs`` are passed to
    ``playwright.chromium.launch`` (``args`` are appended to ours).
    Raises ``FileNotFoundError`` if no Chromium executable can be found.
    """
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError(
            "no Chromium found: set ZHSEARCH_CHROMIUM, or "
            "`apt-get install chromium fonts-noto-cjk` (bash .ci/run does this)"
        )
    args = CHROMIUM_ARGS + list(kwargs.pop("args", []))
    kwargs.setdefault("headless", True)
    kwargs.setdefault("timeout", 60_000)
    return playwright.chromium.launch(executable_path=exe, args=args, **kwargs)


def watch(pg) -> dict[str, list[str]]:
    """Collect dialogs (a script ran), CSP violations and page errors."""
    seen: dict[str, list[str]] = {"dialogs": [], "csp": [], "errors": []}

    def on_dialog(d):
        seen["dialogs"].append(d.message)
        d.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("console", lambda m: "Content Security Policy" in m.text and seen["csp"].append(m.text))
    pg.on("pageerror", lambda e: seen["errors"].append(str(e)))
    return seen


def _unavailable(reason: str):
    if in_ci():
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"browser unavailable: {reason}")


@pytest.fixture(scope="session")
def browser():
    """Session-wide headless Chromium (``playwright.sync_api.Browser``)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - test extra not installed
        _unavailable(f"playwright not importable ({exc}); pip install -e '.[test]'")
    try:
        exe = find_chromium()
    except FileNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    if exe is None:
        _unavailable(
            "no chromium executable (ZHSEARCH_CHROMIUM, /usr/bin/chromium, PATH); "
            "install with `apt-get install chromium fonts-noto-cjk` or run `bash .ci/run`"
        )

    pw = sync_playwright().start()
    try:
        b = launch_browser(pw)
    except Exception:
        pw.stop()
        raise
    try:
        yield b
    finally:
        try:
            b.close()
        finally:
            pw.stop()


@pytest.fixture
def page(browser):
    """Fresh, isolated page (own context: cookies/storage) per test, zh-CN locale."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()
