"""The example job folders in docs/examples run and give what their READMEs say."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("openquake.calculators")

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GMLEARN_DATA_DIR", str(tmp_path / "gmlearn-data"))
    monkeypatch.setenv("OQ_DISTRIBUTE", "no")


def _copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLES / name, tmp_path / name)) / "job.ini"


def test_classical_example(tmp_path: Path) -> None:
    from gmlearn import hazard

    result = hazard.run(_copy("hazard_classical", tmp_path), data_dir=tmp_path / "oq", params={"region_grid_spacing": "40"})
    wide = result.hazard_curves.pivot_table(index=["site_id", "imt", "iml"], columns="kind", values="poe")
    assert list(wide.columns) == ["mean", "rlz-000", "rlz-001"]
    np.testing.assert_allclose(wide["rlz-000"], wide["rlz-001"], rtol=1e-6)  # native == gmlearn branch
    assert result.uhs is not None and set(result.uhs["imt"]) == {"PGA", "SA(1.0)"}


def test_scenario_example(tmp_path: Path) -> None:
    from gmlearn import hazard

    result = hazard.run(_copy("hazard_scenario", tmp_path), data_dir=tmp_path / "oq",
                        params={"region_grid_spacing": "30", "number_of_ground_motion_fields": "3"})
    assert result.gmfs is not None
    assert result.gmfs["event_id"].nunique() == 3
    assert (result.gmfs[["PGA", "SA(0.1)"]] > 0).all().all()


def test_conditioned_scenario_example(tmp_path: Path) -> None:
    import pandas as pd

    from gmlearn import hazard

    job = _copy("hazard_scenario_conditioned", tmp_path)
    result = hazard.run(job, data_dir=tmp_path / "oq", params={"region_grid_spacing": "30"})
    stations = pd.read_csv(job.parent / "stations.csv")
    at = result.sites.merge(stations, left_on=["lon", "lat"], right_on=["LONGITUDE", "LATITUDE"])
    assert len(at) == len(stations)
    gmfs = result.gmfs.set_index("site_id")
    for row in at.itertuples():
        ln = np.log(gmfs.loc[row.site_id, "PGA"])
        # 20 fields: the median at a station is the recorded value within the observation sigma (0.1)
        assert abs(np.median(ln) - np.log(row.PGA_VALUE)) < 0.15
        assert 0.02 < np.std(ln) < 0.3
