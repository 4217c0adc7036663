"""PDF export of a report through a headless Chromium, where one is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from gmlearn.store.atomic import atomic_write_with

__all__ = ["export_pdf", "pdf_engine", "ENGINES"]

#: Executables tried in order (``$GMLEARN_CHROMIUM`` first when set).
ENGINES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-pdf-header-footer")


def pdf_engine() -> str | None:
    """Path of a Chromium able to print PDF, or None."""
    names = [os.environ["GMLEARN_CHROMIUM"]] if os.environ.get("GMLEARN_CHROMIUM") else []
    for name in [*names, *ENGINES]:
        found = shutil.which(name)
        if found:
            return found
    return None


def export_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: float = 120.0) -> Path:
    """Print an HTML report to PDF with headless Chromium (written atomically).

    Raises
    ------
    FileNotFoundError
        If ``html_path`` does not exist, or no PDF engine is installed (the
        message lists the executables tried).
    OSError
        If Chromium fails or writes no PDF.
    """
    src = Path(html_path).absolute()
    if not src.is_file():
        msg = f"Report {str(src)!r} does not exist; write it first with gmlearn.explain.write_report."
        raise FileNotFoundError(msg)
    engine = pdf_engine()
    if engine is None:
        msg = (f"No PDF engine found: none of {list(ENGINES)} (or $GMLEARN_CHROMIUM) is on PATH. Install Chromium "
               "(Debian: apt-get install chromium) or open the HTML report and print it from a browser.")
        raise FileNotFoundError(msg)

    def _print(tmp: Path) -> None:
        with tempfile.TemporaryDirectory() as profile:
            cmd = [engine, *_ARGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", src.as_uri()]
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)  # noqa: S603
        if done.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0 or not tmp.read_bytes()[:4] == b"%PDF":
            msg = f"{engine} could not print {src} to PDF (exit {done.returncode}): {done.stderr.decode(errors='replace')[-500:]}"
            raise OSError(msg)

    return atomic_write_with(pdf_path, _print)
