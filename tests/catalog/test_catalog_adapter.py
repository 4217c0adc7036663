"""A smoothed-seismicity source model from the GeoNet catalogue, run by OpenQuake's classical
calculator through the gmlearn adapter (``gmlearn.hazard.run``) with gmlearn models as GSIMs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("openquake.calculators")

REGION = (174.0, 176.5, -42.5, -40.5)  # lon_min, lon_max, lat_min, lat_max: around Wellington
SITES = {"Wellington": (174.78, -41.29), "Masterton": (175.66, -40.95), "Blenheim": (173.96, -41.51)}
VS30 = 400.0
N_LEVELS = 10


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GMLEARN_DATA_DIR", str(tmp_path / "gmlearn-data"))
    monkeypatch.setenv("OQ_DISTRIBUTE", "no")


@pytest.fixture(scope="module")
def job_folder(tmp_path_factory: pytest.TempPathFactory, geonet_dir: Path) -> Path:
    """A folder with the catalogue's source model, its logic tree and a saved Bradley2013 model."""
    from gmlearn.catalog import SourceSettings, read_mlnz20, smoothed_source_model
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    folder = tmp_path_factory.mktemp("catalog_psha")
    catalog = read_mlnz20(geonet_dir / "MLNZ20_RapidEvents_2026.csv.gz", warn=False)
    inside = catalog["lon"].between(*REGION[:2]) & catalog["lat"].between(*REGION[2:])
    subset = catalog.loc[inside].reset_index(drop=True)
    subset.attrs = dict(catalog.attrs)
    settings = SourceSettings(mmin=5.0, mmax=6.5, lower_seismogenic_depth=20.0)
    built = smoothed_source_model(subset, folder / "source_model.xml", spacing_deg=0.5, region=REGION,
                                  settings=settings)
    assert 5 <= built.n_sources <= 20  # a coarse grid: few point sources
    assert 0.6 < built.fit.b < 1.3 and built.declustering["n_removed"] > 0
    (folder / "source_model_logic_tree.xml").write_text(_source_lt("source_model.xml"))
    save_model(OpenQuakeGMPE("Bradley2013"), folder / "models" / "bradley2013")
    (folder / "native_lt.xml").write_text(_gsim_lt("Bradley2013"))
    (folder / "gmlearn_lt.xml").write_text(_gsim_lt('[GMLearnGSIM]\n  model_file = "models/bradley2013/metadata.json"'))
    (folder / "job.ini").write_text(_job_ini("gmlearn_lt.xml"))
    return folder


def _source_lt(model: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<nrml xmlns:gml="http://www.opengis.net/gml" xmlns="http://openquake.org/xmlns/nrml/0.4">
  <logicTree logicTreeID="slt">
    <logicTreeBranchSet uncertaintyType="sourceModel" branchSetID="bs1">
      <logicTreeBranch branchID="smoothed">
        <uncertaintyModel>{model}</uncertaintyModel>
        <uncertaintyWeight>1.0</uncertaintyWeight>
      </logicTreeBranch>
    </logicTreeBranchSet>
  </logicTree>
</nrml>
"""


def _gsim_lt(model: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<nrml xmlns:gml="http://www.opengis.net/gml" xmlns="http://openquake.org/xmlns/nrml/0.4">
  <logicTree logicTreeID="glt">
    <logicTreeBranchSet uncertaintyType="gmpeModel" branchSetID="bs1"
                        applyToTectonicRegionType="Active Shallow Crust">
      <logicTreeBranch branchID="b1">
        <uncertaintyModel>{model}</uncertaintyModel>
        <uncertaintyWeight>1.0</uncertaintyWeight>
      </logicTreeBranch>
    </logicTreeBranchSet>
  </logicTree>
</nrml>
"""


def _job_ini(gsim_lt: str) -> str:
    from gmlearn.catalog.psha import z1pt0_from_vs30, z2pt5_from_vs30

    sites = ", ".join(f"{lon} {lat}" for lon, lat in SITES.values())
    return f"""[general]
description = Smoothed seismicity of the GeoNet catalogue around Wellington
calculation_mode = classical
random_seed = 23

[geometry]
sites = {sites}

[logic_tree]
number_of_logic_tree_samples = 0

[erf]
# as gmlearn.catalog.hazard_curves discretises, so both paths see the same ruptures
rupture_mesh_spacing = 2.0
width_of_mfd_bin = 0.1

[site_params]
reference_vs30_type = inferred
reference_vs30_value = {VS30}
reference_depth_to_1pt0km_per_sec = {float(z1pt0_from_vs30(VS30)):.4f}
reference_depth_to_2pt5km_per_sec = {float(z2pt5_from_vs30(VS30)):.4f}

[calculation]
source_model_logic_tree_file = source_model_logic_tree.xml
gsim_logic_tree_file = {gsim_lt}
investigation_time = 50.0
intensity_measure_types_and_levels = {{"PGA": logscale(0.005, 2.0, {N_LEVELS})}}
truncation_level = 3
maximum_distance = 200.0
"""


def _curves(result) -> np.ndarray:
    """Mean PGA probabilities of exceedance, shape (site in SITES order, level); OpenQuake reorders sites."""
    curves = result.hazard_curves
    assert curves is not None and set(curves["imt"]) == {"PGA"}
    mean = curves[curves["kind"] == "mean"]
    assert len(mean) == len(SITES) * N_LEVELS
    rows = []
    for lon, lat in SITES.values():
        site = mean[np.isclose(mean["lon"], lon, atol=1e-4) & np.isclose(mean["lat"], lat, atol=1e-4)]
        assert len(site) == N_LEVELS, f"no curve at ({lon}, {lat})"
        site = site.sort_values("iml")
        np.testing.assert_allclose(site["iml"], np.geomspace(0.005, 2.0, N_LEVELS), rtol=1e-6)
        rows.append(site["poe"].to_numpy(dtype=float))
    return np.array(rows)


def _check_curves(poe: np.ndarray) -> None:
    assert np.all(np.isfinite(poe)) and np.all((poe >= 0.0) & (poe <= 1.0))
    assert np.all(np.diff(poe, axis=1) <= 1e-12), "hazard curves must not increase with the level"
    assert np.all(poe[:, 0] > 0.0), "every site must have hazard at the lowest level"
    # the catalogue's M >= 5 rate (roughly 0.1-1 a year) gives near-certain exceedance of 0.005 g in
    # 50 years and small probabilities at 2 g
    assert np.all(poe[:, 0] > 0.5) and np.all(poe[:, -1] < 0.05)


def test_catalogue_source_model_runs_through_adapter(job_folder: Path, tmp_path: Path) -> None:
    from gmlearn import hazard

    wrapped = hazard.run(job_folder / "job.ini", data_dir=tmp_path / "oq", plots=False)
    native = hazard.run(job_folder / "job.ini", data_dir=tmp_path / "oq", plots=False,
                        params={"gsim_logic_tree_file": "native_lt.xml"})
    assert wrapped.calculation_mode == native.calculation_mode == "classical"
    ours, theirs = _curves(wrapped), _curves(native)
    _check_curves(ours)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0.0)  # [GMLearnGSIM] Bradley2013 == native
    # Wellington, in the densest seismicity, has more hazard than Blenheim, outside the source region
    assert ours[0, N_LEVELS // 2] > ours[2, N_LEVELS // 2]


def test_adapter_matches_in_process_hazard_curves(job_folder: Path, tmp_path: Path) -> None:
    """The engine (through the adapter) and hazardlib's calc_hazard_curves agree on the same source model."""
    from gmlearn import hazard
    from gmlearn.catalog import hazard_curves

    engine = _curves(hazard.run(job_folder / "job.ini", data_dir=tmp_path / "oq", plots=False,
                                params={"gsim_logic_tree_file": "native_lt.xml"}))
    direct = hazard_curves(job_folder / "source_model.xml", list(SITES.values()),
                           {"PGA": list(np.geomspace(0.005, 2.0, N_LEVELS))}, gsim="Bradley2013", vs30=VS30,
                           max_distance_km=200.0)
    direct = direct.pivot(index="site", columns="iml", values="poe").to_numpy()
    np.testing.assert_allclose(engine, direct, rtol=1e-3, atol=1e-6)  # OpenQuake stores float32 curves


def test_catalogue_source_model_with_trained_tree(job_folder: Path, nzsmd_crustal: pd.DataFrame,
                                                  tmp_path: Path) -> None:
    from gmlearn import hazard
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.tree import TreeGMM

    tree = TreeGMM(n_estimators=50, learning_rate=0.2, validation_fraction=0.0, n_jobs=1, random_state=0)
    tree.fit(nzsmd_crustal.dropna(subset=["PGA"]), ["PGA"])
    save_model(tree, tmp_path / "models" / "tree")
    (tmp_path / "tree_lt.xml").write_text(_gsim_lt('[GMLearnGSIM]\n  model_file = "models/tree/metadata.json"'))
    (tmp_path / "job.ini").write_text(_job_ini("tree_lt.xml"))
    for name in ("source_model.xml", "source_model_logic_tree.xml"):
        (tmp_path / name).write_bytes((job_folder / name).read_bytes())
    result = hazard.run(tmp_path / "job.ini", data_dir=tmp_path / "oq", plots=False)
    _check_curves(_curves(result))
