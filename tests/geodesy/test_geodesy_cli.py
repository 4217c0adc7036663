"""The ``gmlearn geodesy`` Typer sub-application and the PNG maps, on the real PBO field."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gmlearn.geodesy.cli import app

VEL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gnss_pbo_nam08" / "pbo.final_nam08.vel.gz"
CA = ["--region", "-123,-115,33,38", "--max-sigma", "1.5", "--max-speed", "60"]
runner = CliRunner()


@pytest.fixture(scope="module")
def vel() -> str:
    if not VEL.is_file():
        pytest.fail(f"real data file {VEL} is missing; tests need ../shared/data beside the repository")
    return str(VEL)


def _ok(args: list[str]):
    res = runner.invoke(app, args)
    assert res.exit_code == 0, (res.output, res.exception)
    return res


def _png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(path.parent.glob(f".{path.name}.*.tmp"))  # atomic write left no temporary file


def test_read_reports_segments_and_writes_csv(vel, tmp_path):
    out = tmp_path / "canonical.csv"
    res = _ok(["read", vel, "-o", str(out)])
    assert "5045 rows, 2208 stations kept" in res.output and "frame NAM08" in res.output
    assert "2837 duplicate_station" in res.output and "119 with differing velocities" in res.output
    table = pd.read_csv(out)
    assert len(table) == 2208 and list(table.columns[:8]) == ["station", "lon", "lat", "ve", "vn", "se", "sn", "rho"]


def test_cluster_then_euler_on_the_pacific_cluster(vel, tmp_path):
    clusters, png, mem = tmp_path / "c.csv", tmp_path / "c.png", tmp_path / "m.png"
    res = _ok(["cluster", vel, "--method", "euler", "-k", "2", "--seed", "1", *CA, "-o", str(clusters), "--plot", str(png),
               "--membership-plot", str(mem), "--stability", "3"])  # fmt: skip
    assert "mean_consistency" in res.output
    table = pd.read_csv(clusters)
    assert {"station", "cluster", "probability", "consistency", "entropy"} <= set(table.columns)
    _png(png)
    _png(mem)
    pole_json = tmp_path / "pole.json"
    res = _ok(["euler", vel, "--clusters", str(clusters), "--cluster", "1", *CA, "--json-out", str(pole_json), "-o", str(tmp_path / "r.csv")])
    assert "Euler pole from" in res.output
    pole = json.loads(pole_json.read_text())
    assert pole["n_stations"] == (table["cluster"] == 1).sum()
    # PA-NA-like: counterclockwise about a southern pole (MORVEL: 48.9°S, 108.3°E, 0.75 deg/Myr), few mm/yr misfit
    assert pole["lat"] < -30 and 0.5 < pole["rate_deg_myr"] < 1.2 and pole["wrms_mm_yr"] < 6
    res = _ok(["euler", vel, "--stations", "KOKB,MKEA,MAUI,GUAX"])
    assert "from 4 stations" in res.output


def test_strain_grid_triangles_and_moment_rate(vel, tmp_path):
    grid_csv, png = tmp_path / "g.csv", tmp_path / "g.png"
    res = _ok(["strain", vel, *CA, "--spacing", "0.5", "-o", str(grid_csv), "--plot", str(png)])
    assert "nanostrain/yr" in res.output
    _png(png)
    grid = pd.read_csv(grid_csv)
    assert grid["valid"].sum() > 50 and grid.loc[grid["valid"], "second_invariant"].median() > 1e-8
    tri_csv = tmp_path / "t.csv"
    _ok(["strain", vel, *CA, "--method", "triangles", "--max-edge-km", "100", "-o", str(tri_csv), "--plot", str(tmp_path / "t.png")])
    assert pd.read_csv(tri_csv)["max_edge_km"].max() <= 100
    rates = tmp_path / "rates.csv"
    res = _ok(["moment-rate", str(grid_csv), "--coupling", "0.7", "--b", "1.0", "--m-min", "5", "--m-max", "8", "-o", str(rates)])
    assert "moment rate" in res.output and "N·m/yr" in res.output
    assert pd.read_csv(rates)["rate"].gt(0).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cluster", "{vel}", "--method", "dbscan"], "'method' parameter must be one of"),
        (["cluster", "{vel}", "--region", "-115,-123,33,38"], "'region' parameter must be 'lon_min,lon_max,lat_min,lat_max'"),
        (["euler", "{vel}", "--stations", "NOPE"], "at least 2 stations; got 0"),
        (["strain", "{vel}", "--method", "voronoi", *CA], "'method' option must be 'grid' or 'triangles'"),
        (["read", "{vel}", "--format", "csv"], "cannot be read as CSV"),
    ],
)
def test_bad_input_exits_2_with_message(vel, args, message):
    res = runner.invoke(app, [a.format(vel=vel) for a in args])
    assert res.exit_code == 2
    assert message in " ".join(res.output.split())
