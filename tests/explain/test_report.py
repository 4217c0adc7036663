"""The HTML report, the `gmlearn explain` command and PDF export."""

from __future__ import annotations

import re

import numpy as np
import pytest
from typer.testing import CliRunner

from gmlearn.explain.report import write_report


def _images(page: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', page)


def test_report_is_self_contained_with_every_section(hybrid_model, nzsmd_crustal, tmp_path):
    steps = []
    report = write_report(hybrid_model, nzsmd_crustal, tmp_path / "r" / "report.html", data_label="NZSMD test rows",
                          max_rows=120, progress=lambda i, n, m: steps.append(m))
    page = report.path.read_text()
    for heading in ("Data and method", "Global importance", "Dependence on magnitude, distance and vs30",
                    "Interactions", "Scenarios: why this value?", "Residuals", "Model card"):
        assert heading in page
    imgs = _images(page)
    assert len(imgs) == len(report.figures) >= 10 and all(src.startswith("data:image/png;base64,") for src in imgs)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing loaded from the network
    assert {"dependence on mag", "dependence on rjb", "dependence on vs30", "interactions"} <= set(report.figures)
    waterfalls = [f for f in report.figures if f.startswith("Why is PGA at station ")]
    assert len(waterfalls) == 3 and all(re.search(r" [0-9.e+-]+ g\?$", t) for t in waterfalls)
    for feature in ("mag", "rjb", "vs30"):  # the base GSIM's scaling is drawn beside each dependence plot
        assert f"Black line: BooreEtAl2014 along <code>{feature}</code>" in page
    assert "BooreEtAl2014 base term" in page and "NZSMD test rows" in page
    expl = report.explanations["PGA"]
    assert set(report.explanations) == {"PGA", "SA(1.0)"}
    assert f"{expl.additivity_error():.2e}" in page and expl.additivity_error() < 1e-4
    assert steps[0].startswith("explaining") and steps[-1] == "done"
    assert report.warnings == [] and 'id="warnings"' not in page


def test_out_of_range_rows_are_reported_as_warnings(tree_model, nzsmd_crustal, tmp_path):
    table = nzsmd_crustal.copy()
    table.loc[:4, "vs30"] = 4000.0
    report = write_report(tree_model, table, tmp_path / "report.html", max_rows=60)
    page = report.path.read_text()
    assert any("vs30 outside the training range" in w and "4000" in w for w in report.warnings)
    assert 'id="warnings"' in page and "vs30 outside the training range" in page
    assert "Records outside the training range" in page and "Global importance" in page


def test_empty_table_still_gives_the_model_card_with_a_warning(saved_hybrid, nzsmd_crustal, tmp_path):
    from gmlearn.explain.values import load_explainable

    model = load_explainable(saved_hybrid)
    report = write_report(model, nzsmd_crustal.iloc[:0], tmp_path / "empty.html")
    page = report.path.read_text()
    assert report.explanations == {} and len(report.warnings) == 1
    assert "The data table is empty (0 rows)" in page and "Model card" in page and "test:nzsmd40" in page
    assert "Global importance" not in page and _images(page) == []


def test_explain_command_writes_report_and_reports_bad_folders(saved_hybrid, nzsmd_crustal, tmp_path):
    from gmlearn.cli import app

    data = tmp_path / "rows.csv"
    nzsmd_crustal.iloc[:80].to_csv(data, index=False)
    out = tmp_path / "cli" / "report.html"
    runner = CliRunner()
    res = runner.invoke(app, ["explain", str(saved_hybrid), "--data", str(data), "-o", str(out), "--imt", "SA(1.0)",
                              "--scenario", "5", "--max-rows", "60"])
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert "HybridGMM" in page and "SA(1.0)" in page and "file rows.csv" in page and "Row 5 of the table" in page
    assert "test:nzsmd40" in page and "0.700" in page  # model card: training hash and saved metrics
    bad = runner.invoke(app, ["explain", str(tmp_path), "--data", str(data), "-o", str(tmp_path / "x.html")])
    assert bad.exit_code == 2 and "no metadata.json" in bad.output and not (tmp_path / "x.html").exists()
    empty = tmp_path / "empty.csv"
    nzsmd_crustal.iloc[:0].to_csv(empty, index=False)
    res = runner.invoke(app, ["explain", str(saved_hybrid), "--data", str(empty), "-o", str(tmp_path / "e.html")])
    assert res.exit_code == 1 and "The data table is empty (0 rows)" in res.output and (tmp_path / "e.html").is_file()
    nodata = runner.invoke(app, ["explain", str(saved_hybrid), "--data", "nowhere.csv", "-o", str(tmp_path / "y.html")])
    assert nodata.exit_code == 2 and "neither a CSV/Parquet file nor a bundled dataset" in nodata.output


def test_pdf_export(tree_model, nzsmd_crustal, tmp_path):
    from gmlearn.explain.pdf import export_pdf, pdf_engine

    assert pdf_engine() is not None, "Chromium is required (make test installs the Debian package)"
    report = write_report(tree_model, nzsmd_crustal.iloc[:0], tmp_path / "report.html")  # model card only: quick
    pdf = export_pdf(report.path, tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data[:4] == b"%PDF" and len(data) > 5_000 and pdf.name == "report.pdf"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_pdf(tmp_path / "missing.html", tmp_path / "m.pdf")


def test_model_card_from_a_fitted_model(tree_model):
    from gmlearn.explain.report import model_card

    card = model_card(tree_model)
    assert card["class"] == "TreeGMM" and card["imts"] == ["PGA", "SA(1.0)"]
    assert card["ranges"]["mag"] == tree_model.ranges_["mag"]
    assert np.isclose(card["effects"]["PGA"]["tau"], tree_model.effects_["PGA"]["tau"])
    assert "event_terms" not in card["effects"]["PGA"]
