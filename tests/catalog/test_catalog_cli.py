import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from gmlearn.catalog.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def small_csv(mlnz20_files, tmp_path_factory):
    """The first 6000 rows of the real 2025 file in the MLNZ20 layout, two rows repeated."""
    raw = pd.read_csv(mlnz20_files[1], nrows=6000, dtype={"#ID": str})
    raw = pd.concat([raw, raw.iloc[[10, 11]]], ignore_index=True)  # two duplicated ids, to see the report
    path = tmp_path_factory.mktemp("cli") / "MLNZ20_small.csv"
    raw.to_csv(path, index=False)
    return path


def _text(result) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(result.output.split())


def _ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_read(small_csv):
    out = _ok(runner.invoke(app, ["read", str(small_csv), "--json"]))
    summary = json.loads(out.stdout)
    assert summary["events"] == 6000 and summary["duplicates_removed"] == 2 and summary["rows_read"] == 6002
    assert "2 duplicated event ids" in _text(out)
    _ok(runner.invoke(app, ["read", str(small_csv), "--magnitude", "MLv"]))


def test_mc_and_plot(small_csv, tmp_path):
    out = _ok(runner.invoke(app, ["mc", str(small_csv), "--json", "--correction", "0.2", "--plot", str(tmp_path / "f.png")]))
    rows = {r["method"]: r for r in json.loads(out.stdout[out.stdout.index("["):])}
    assert set(rows) == {"max_curvature", "goodness_of_fit", "b_stability"} and rows["max_curvature"]["mc"] >= 1.5
    assert (tmp_path / "f.png").stat().st_size > 0


def test_bvalue(small_csv):
    out = _ok(runner.invoke(app, ["bvalue", str(small_csv), "--mc", "2.2", "--json",
                                  "--completeness", "2025-01-01:2.2"]))
    rows = {r["method"]: r for r in json.loads(out.stdout)}
    assert set(rows) == {"aki_utsu", "weichert", "b_positive"} and all(0.5 < r["b"] < 1.5 for r in rows.values())
    bad = runner.invoke(app, ["bvalue", str(small_csv), "--mc", "2.2", "--method", "ols"])
    assert bad.exit_code == 2 and "must be one of" in _text(bad)


def test_decluster(small_csv, tmp_path):
    out = _ok(runner.invoke(app, ["decluster", str(small_csv), "--min-mag", "2.0", "--json", "-o", str(tmp_path / "d.csv"),
                                  "--plot", str(tmp_path / "d.png")]))
    summary = json.loads(out.stdout)
    assert len(pd.read_csv(tmp_path / "d.csv")) == summary["n_events"] - summary["n_removed"]
    out = _ok(runner.invoke(app, ["decluster", str(small_csv), "--min-mag", "2.4", "--method", "reasenberg", "--json"]))
    assert json.loads(out.stdout)["method"] == "reasenberg"
    bad = runner.invoke(app, ["decluster", str(small_csv), "--window", "wide"])
    assert bad.exit_code == 2 and "gruenthal" in _text(bad)


def test_cluster(small_csv, tmp_path):
    out = _ok(runner.invoke(app, ["cluster", str(small_csv), "--min-mag", "1.5", "-o", str(tmp_path / "c.csv")]))
    assert "clusters" in out.output and len(pd.read_csv(tmp_path / "c.csv")) > 0


def test_smooth_and_hazard(small_csv, tmp_path):
    model = tmp_path / "model.xml"
    out = _ok(runner.invoke(app, ["smooth", str(small_csv), "-o", str(model), "--mc", "2.0", "--spacing", "0.25",
                                  "--region", "174.0,176.0,-42.0,-40.5", "--plot", str(tmp_path / "r.png"),
                                  "--site", "174.78,-41.29"]))
    assert model.is_file() and "wrote" in out.output and "iml_g" in out.output
    assert (tmp_path / "r.png").stat().st_size > 0
    out = _ok(runner.invoke(app, ["hazard", str(model), "--site", "174.78,-41.29", "--site", "175.6,-40.4",
                                  "--gsim", "BooreEtAl2014", "-o", str(tmp_path / "h.csv")]))
    curves = pd.read_csv(tmp_path / "h.csv")
    assert set(curves["site"]) == {0, 1}


def test_errors_exit_2(tmp_path):
    bad = runner.invoke(app, ["read", str(tmp_path / "missing.csv")])
    assert bad.exit_code == 2 and "does not exist" in _text(bad)


def test_import_is_light():
    code = ("import sys, gmlearn.catalog, gmlearn.catalog.cli, gmlearn.catalog.frame, gmlearn.catalog.readers, "
            "gmlearn.catalog.declustering_gk, gmlearn.catalog.smoothing, gmlearn.catalog.sources, gmlearn.catalog.plots, "
            "gmlearn.catalog.psha, gmlearn.catalog.clustering, gmlearn.catalog.workflow;"
            "print(','.join(m for m in ('openquake', 'matplotlib', 'sklearn', 'scipy', 'seismostats') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
