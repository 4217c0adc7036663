"""``gmlearn hazard run`` and ``gmlearn hazard pack`` (the Typer sub-app in gmlearn/hazard/cli.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("openquake.calculators")

AREA = Path("openquake_demos") / "hazard" / "AreaSourceClassicalPSHA"
LT = """<?xml version="1.0" encoding="UTF-8"?>
<nrml xmlns:gml="http://www.opengis.net/gml" xmlns="http://openquake.org/xmlns/nrml/0.4">
  <logicTree logicTreeID="lt1">
    <logicTreeBranchSet uncertaintyType="gmpeModel" branchSetID="bs1" applyToTectonicRegionType="Active Shallow Crust">
      <logicTreeBranch branchID="b1">
        <uncertaintyModel model_file="ba08.zip">GMLearnGSIM</uncertaintyModel>
        <uncertaintyWeight>1.0</uncertaintyWeight>
      </logicTreeBranch>
    </logicTreeBranchSet>
  </logicTree>
</nrml>
"""


@pytest.fixture()
def job(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    monkeypatch.setenv("GMLEARN_DATA_DIR", str(tmp_path / "gmlearn-data"))
    monkeypatch.setenv("OQ_DISTRIBUTE", "no")
    folder = tmp_path / "job"
    shutil.copytree(shared_data / AREA, folder)
    for file in folder.iterdir():
        file.chmod(0o644)
    save_model(OpenQuakeGMPE("BooreAtkinson2008"), folder / "ba08")
    (folder / "gmpe_logic_tree.xml").write_text(LT)
    return folder / "job.ini"


def test_pack_then_run_with_export(job: Path, tmp_path: Path) -> None:
    from gmlearn.hazard.cli import app

    runner = CliRunner()
    packed = runner.invoke(app, ["pack", str(job.parent / "ba08")])
    assert packed.exit_code == 0, packed.output
    assert (job.parent / "ba08.zip").is_file()
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(job), "--out", str(out), "--data-dir", str(tmp_path / "oq"),
                                 "-p", "region_grid_spacing=80", "-p",
                                 'intensity_measure_types_and_levels={"PGA": logscale(0.005, 2.13, 8)}'])
    assert result.exit_code == 0, result.output
    assert "hazard_curves" in result.output and "classical" in result.output
    curves = pd.read_csv(out / "hazard_curves.csv")
    assert set(curves.columns) == {"site_id", "lon", "lat", "kind", "imt", "iml", "poe"}
    assert (out / "hazard_curves.png").stat().st_size > 1000
    assert (out / "hazard_map_PGA_poe0.1.png").is_file()
    assert ".gmlearn-new" not in result.output and f"wrote {out}" in " ".join(result.output.split())
    again = runner.invoke(app, ["run", str(job), "--out", str(out), "--data-dir", str(tmp_path / "oq")])
    assert again.exit_code == 2 and "--overwrite" in again.output and (out / "hazard_curves.csv").is_file()


def test_run_reports_bad_model_cleanly(job: Path, tmp_path: Path) -> None:
    from gmlearn.hazard.cli import app

    result = CliRunner().invoke(app, ["run", str(job), "--data-dir", str(tmp_path / "oq")])  # ba08.zip not packed
    assert result.exit_code == 2
    flat = "".join(result.output.split())  # Rich wraps long paths at the terminal width
    assert "ba08.zip" in flat and "doesnotexist" in flat


def test_bad_param_syntax(job: Path) -> None:
    from gmlearn.hazard.cli import app

    result = CliRunner().invoke(app, ["run", str(job), "-p", "no-equals-sign"])
    assert result.exit_code != 0
    assert "name=value" in result.output


def test_export_table_command(job: Path, tmp_path: Path) -> None:
    import h5py

    from gmlearn.hazard.cli import app

    runner = CliRunner()
    out = tmp_path / "ba08.hdf5"
    result = runner.invoke(app, ["export-table", str(job.parent / "ba08"), "-o", str(out), "--imts", "PGA,SA(0.5),SA(2.0)",
                                 "--mags", "5:7:0.5", "--metric", "rjb", "--vs30", "450", "--set", "rake=90"])
    assert result.exit_code == 0, result.output
    with h5py.File(out) as fh:
        assert list(fh["Mw"][:]) == [5.0, 5.5, 6.0, 6.5, 7.0]
        assert list(fh["IMLs/T"][:]) == [0.5, 2.0] and fh["Distances"].attrs["metric"] == "rjb"
        assert fh.attrs["vs30"] == 450.0 and '"rake": 90.0' in fh.attrs["fixed"]
    again = runner.invoke(app, ["export-table", str(job.parent / "ba08"), "-o", str(out), "--imts", "PGA"])
    assert again.exit_code == 2 and "overwrite" in again.output
    bad = runner.invoke(app, ["export-table", str(job.parent / "ba08"), "-o", str(out), "--mags", "five"])
    assert bad.exit_code != 0 and "start:stop:step" in bad.output
    bad = runner.invoke(app, ["export-table", str(job.parent / "ba08"), "-o", str(out), "--set", "rake"])
    assert bad.exit_code != 0 and "--set must look like name=value" in bad.output


def test_branches_command_rejects_a_model_without_epistemic_uncertainty(job: Path, tmp_path: Path) -> None:
    from gmlearn.hazard.cli import app

    result = CliRunner().invoke(app, ["branches", str(job.parent / "ba08"), "-o", str(tmp_path / "lt.xml")])
    assert result.exit_code == 2 and "no epistemic uncertainty" in "".join(result.output.split("\n"))
    assert not (tmp_path / "lt.xml").exists()
