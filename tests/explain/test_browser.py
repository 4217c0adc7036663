"""The explanation report in a real headless Chromium: no console errors, every image loads, nothing fetched.

Screenshots go to ``$GMLEARN_SCREENSHOT_DIR`` when set (the project keeps them in
``benchmarks/results/screenshots/``), otherwise to the test's tmp_path.
"""

from __future__ import annotations

import os
from pathlib import Path

from gmlearn.explain.browser import check_page
from gmlearn.explain.report import write_report


def screenshot_dir(tmp_path: Path) -> Path:
    return Path(os.environ.get("GMLEARN_SCREENSHOT_DIR") or tmp_path)


def test_report_in_chromium(hybrid_model, nzsmd_crustal, tmp_path):
    assert Path("/usr/bin/chromium").is_file() or os.environ.get("GMLEARN_CHROMIUM"), \
        "Chromium is required (make test installs Debian's chromium package)"
    table = nzsmd_crustal.copy()
    table.loc[:2, "vs30"] = 3500.0  # a few rows outside the training range: the warnings box is shown too
    report = write_report(hybrid_model, table, tmp_path / "report.html", max_rows=150,
                          data_label="NZSMD crustal records, first 40 events (3 with vs30 set to 3500 m/s)")
    shot = screenshot_dir(tmp_path) / "report.png"
    seen = check_page(report.path, screenshot=shot)
    assert seen.title.startswith("Why does HybridGMM predict")
    assert seen.console_errors == [] and seen.external_requests == []
    assert seen.images == len(report.figures) >= 10 and seen.broken_images == []
    assert shot.stat().st_size > 100_000


def test_broken_image_and_script_error_are_caught(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<html><head><title>bad</title></head><body><img src="missing.png">'
                    '<img src="https://example.invalid/x.png"><script>undefinedFunction()</script></body></html>')
    seen = check_page(page)
    assert len(seen.broken_images) == 2 and seen.external_requests == ["https://example.invalid/x.png"]
    assert any("undefinedFunction" in e for e in seen.console_errors)
