"""Open an HTML file in a real headless Chromium: console errors, broken images, network use, screenshot.

Used by the test suite to check the explanation report and the demo's
``index.html`` as a reader's browser shows them. Needs Python ``playwright``
and a Chromium executable (Debian's ``/usr/bin/chromium``; no browser download).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PageCheck", "check_page", "CHROMIUM_ARGS"]

#: Chromium switches: headless, no sandbox (containers), nothing fetched in the background.
CHROMIUM_ARGS: tuple[str, ...] = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


@dataclass
class PageCheck:
    """What Chromium saw on a page.

    Attributes
    ----------
    title
        The page title.
    console_errors
        Console messages of type error and uncaught page errors.
    images
        Number of ``<img>`` elements.
    broken_images
        ``src`` (first 80 characters) of images that did not load (``naturalWidth == 0``).
    external_requests
        URLs other than ``file:`` and ``data:`` that the page asked for (blocked).
    screenshot
        The full-page PNG, when one was asked for.
    """

    title: str
    console_errors: list[str] = field(default_factory=list)
    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    screenshot: Path | None = None


def check_page(path: str | Path, *, screenshot: str | Path | None = None, executable: str | None = None,
               width: int = 1200, height: int = 900, timeout_ms: int = 60_000) -> PageCheck:
    """Load ``path`` in headless Chromium and report errors, images and requests.

    Parameters
    ----------
    path
        HTML file.
    screenshot
        Write a full-page PNG here.
    executable
        Chromium executable (default ``$GMLEARN_CHROMIUM`` or ``/usr/bin/chromium``).
    width, height
        Viewport in CSS pixels.
    timeout_ms
        Page load timeout.
    """
    from playwright.sync_api import sync_playwright

    src = Path(path).absolute()
    exe = executable or os.environ.get("GMLEARN_CHROMIUM") or "/usr/bin/chromium"
    errors: list[str] = []
    external: list[str] = []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        ctx = pw.chromium.launch_persistent_context(profile, executable_path=exe, headless=True, args=list(CHROMIUM_ARGS),
                                                    viewport={"width": width, "height": height})
        try:
            page = ctx.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def _route(route) -> None:  # noqa: ANN001 - playwright Route
                url = route.request.url
                if url.startswith(("file:", "data:")):
                    route.continue_()
                else:
                    external.append(url)
                    route.abort()

            page.route("**/*", _route)
            page.goto(src.as_uri(), wait_until="load", timeout=timeout_ms)
            images = page.evaluate("""() => Array.from(document.images).map(
                i => [i.getAttribute('src').slice(0, 80), i.complete && i.naturalWidth > 0])""")
            shot = None
            if screenshot is not None:
                shot = Path(screenshot)
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
            title = page.title()
        finally:
            ctx.close()
    return PageCheck(title, errors, len(images), [s for s, ok in images if not ok], external, shot)
