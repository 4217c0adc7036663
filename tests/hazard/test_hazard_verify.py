"""End-to-end verification of gmlearn.hazard on OpenQuake's demo jobs.

A gmlearn model that wraps an OpenQuake GSIM (``OpenQuakeGMPE`` saved as a
metadata-only folder) must reproduce the native GSIM: classical hazard curves
to 1e-6 relative on a reduced AreaSourceClassicalPSHA demo, and the ground-
motion fields of a reduced ScenarioCase1 and EventBasedPSHA exactly (same
seeds). A TreeGMM trained on NZSMD crustal records runs through classical PSHA.
"""

from __future__ import annotations

import configparser
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("openquake.calculators")

DEMOS = Path("openquake_demos") / "hazard"
NATIVE = "BooreAtkinson2008"  # the GSIM named in the demos' logic trees
REDUCED_IMTLS = '{"PGA": logscale(0.005, 2.13, 12), "SA(1.0)": logscale(0.005, 2.13, 12)}'
GSIM_LT = """<?xml version="1.0" encoding="UTF-8"?>
<nrml xmlns:gml="http://www.opengis.net/gml" xmlns="http://openquake.org/xmlns/nrml/0.4">
  <logicTree logicTreeID="lt1">
{branchsets}
  </logicTree>
</nrml>
"""
BRANCHSET = """    <logicTreeBranchSet uncertaintyType="gmpeModel" branchSetID="bs{n}" applyToTectonicRegionType="{trt}">
{branches}
    </logicTreeBranchSet>"""
BRANCH = """      <logicTreeBranch branchID="b{n}{k}">
        <uncertaintyModel>{model}</uncertaintyModel>
        <uncertaintyWeight>{weight}</uncertaintyWeight>
      </logicTreeBranch>"""


def gmlearn_branch(model_file: str | Path, start: Path | None = None) -> str:
    """A ``[GMLearnGSIM]`` uncertainty model; OpenQuake wants paths relative to the logic-tree folder."""
    if start is not None:
        model_file = os.path.relpath(model_file, start)
    return f'[GMLearnGSIM]\n        model_file = "{model_file}"'


def write_gsim_lt(path: Path, branches_by_trt: dict[str, list[tuple[str, float]]]) -> Path:
    sets = []
    for n, (trt, branches) in enumerate(branches_by_trt.items()):
        body = "\n".join(BRANCH.format(n=n, k=k, model=m, weight=w) for k, (m, w) in enumerate(branches))
        sets.append(BRANCHSET.format(n=n, trt=trt, branches=body))
    path.write_text(GSIM_LT.format(branchsets="\n".join(sets)))
    return path


def copy_demo(shared_data: Path, name: str, dest: Path, **changes: str) -> Path:
    """Copy a demo folder and rewrite its job.ini with ``changes`` (drops the demo's export_dir)."""
    folder = dest / name
    shutil.copytree(shared_data / DEMOS / name, folder)
    for file in folder.iterdir():
        file.chmod(0o644)
    job = folder / "job.ini"
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.optionxform = str
    cfg.read(job)
    for section in cfg.sections():
        cfg.remove_option(section, "export_dir")
    for key, value in changes.items():
        section = next((s for s in cfg.sections() if cfg.has_option(s, key)), "calculation")
        cfg.set(section, key, value)
    with job.open("w") as fh:
        cfg.write(fh)
    return job


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hazard")


@pytest.fixture(scope="module", autouse=True)
def _data_dir(workdir: Path):
    """Keep unpacked archives and the job database inside the test's folder."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GMLEARN_DATA_DIR", str(workdir / "gmlearn-data"))
    mp.setenv("OQ_DISTRIBUTE", "no")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def native_model(workdir: Path) -> Path:
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    return save_model(OpenQuakeGMPE(NATIVE), workdir / "models" / "ba08")


@pytest.fixture(scope="module")
def tree_model(workdir: Path, nzsmd_table: pd.DataFrame) -> Path:
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.tree import TreeGMM

    crustal = nzsmd_table[nzsmd_table["tectonic_region"] == "crustal"]
    model = TreeGMM(n_estimators=60, learning_rate=0.15, validation_fraction=0.0, n_jobs=1, random_state=0)
    model.fit(crustal.dropna(subset=["PGA", "SA(1.0)"]), ["PGA", "SA(1.0)"])
    return save_model(model, workdir / "models" / "tree")


@pytest.fixture(scope="module")
def area_job(shared_data: Path, workdir: Path, native_model: Path) -> Path:
    job = copy_demo(shared_data, "AreaSourceClassicalPSHA", workdir, region_grid_spacing="40.0",
                    intensity_measure_types_and_levels=REDUCED_IMTLS)
    write_gsim_lt(job.parent / "gmlearn_lt.xml",
                  {"Active Shallow Crust": [(gmlearn_branch(native_model / "metadata.json", job.parent), 1.0)]})
    return job


def _rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.where(scale > 0, np.abs(a - b) / np.where(scale > 0, scale, 1.0), 0.0)))


def test_classical_curves_match_native_gsim(area_job: Path, workdir: Path) -> None:
    from gmlearn import hazard

    native = hazard.run(area_job, data_dir=workdir / "oq")
    wrapped = hazard.run(area_job, data_dir=workdir / "oq", params={"gsim_logic_tree_file": "gmlearn_lt.xml"})
    assert native.calculation_mode == wrapped.calculation_mode == "classical"
    a, b = native.hazard_curves, wrapped.hazard_curves
    assert len(a) == len(b) == len(native.sites) * 2 * 12
    assert (a["poe"] > 1e-3).sum() > 100  # a real calculation: many levels with non-trivial hazard
    assert _rel_diff(a["poe"], b["poe"]) <= 1e-6
    assert _rel_diff(native.hazard_maps["iml"], wrapped.hazard_maps["iml"]) <= 1e-6
    assert set(native.uhs["period"]) == {0.0, 1.0}
    assert wrapped.timings["gsim"] > 0 and wrapped.timings["wall"] >= wrapped.timings["tasks"]


def test_scenario_gmfs_match_native_gsim(shared_data: Path, workdir: Path, native_model: Path) -> None:
    from gmlearn import hazard

    job = copy_demo(shared_data, "ScenarioCase1", workdir, region_grid_spacing="25.0", number_of_ground_motion_fields="4")
    # the inline form: job.ini's gsim = [GMLearnGSIM] with an indented model_file line
    text = job.read_text().replace(f"gsim = {NATIVE}", f'gsim = [GMLearnGSIM]\n\tmodel_file = "{os.path.relpath(native_model / "metadata.json", job.parent)}"')
    (job.parent / "job_gmlearn.ini").write_text(text)
    medians = {"truncation_level": "0", "ground_motion_correlation_model": ""}
    for params in (medians, {}):  # medians, then correlated random fields with the same seed
        native = hazard.run(job, data_dir=workdir / "oq", params=params).gmfs
        wrapped = hazard.run(job.parent / "job_gmlearn.ini", data_dir=workdir / "oq", params=params).gmfs
        assert native is not None and len(native) == 4 * native["site_id"].nunique() > 0
        pd.testing.assert_frame_equal(native, wrapped, rtol=1e-6, atol=0.0)
    per_site = native.groupby("site_id")["PGA"].std()
    assert per_site.max() > 0  # the second run's fields are random, not medians


def test_event_based_gmfs_match_native_gsim(shared_data: Path, workdir: Path, native_model: Path) -> None:
    from gmlearn import hazard

    job = copy_demo(shared_data, "EventBasedPSHA", workdir, ses_per_logic_tree_path="8")
    branch = [(gmlearn_branch(native_model / "metadata.json", job.parent), 1.0)]
    write_gsim_lt(job.parent / "gmlearn_lt.xml", {"Active Shallow Crust": branch, "Subduction Interface": branch})
    write_gsim_lt(job.parent / "native_lt.xml", {"Active Shallow Crust": [(NATIVE, 1.0)], "Subduction Interface": [(NATIVE, 1.0)]})
    native = hazard.run(job, data_dir=workdir / "oq", params={"gsim_logic_tree_file": "native_lt.xml"})
    wrapped = hazard.run(job, data_dir=workdir / "oq", params={"gsim_logic_tree_file": "gmlearn_lt.xml"})
    assert wrapped.calculation_mode == "event_based"
    assert native.gmfs is not None and len(native.gmfs) > 10
    pd.testing.assert_frame_equal(native.gmfs, wrapped.gmfs, rtol=1e-6, atol=0.0)
    assert _rel_diff(native.hazard_curves["poe"], wrapped.hazard_curves["poe"]) <= 1e-6


def test_tree_model_classical_psha(area_job: Path, workdir: Path, tree_model: Path) -> None:
    from gmlearn import hazard

    write_gsim_lt(area_job.parent / "tree_lt.xml",
                  {"Active Shallow Crust": [(gmlearn_branch(tree_model / "metadata.json", area_job.parent), 1.0)]})
    out = workdir / "tree_out"
    result = hazard.run(area_job, data_dir=workdir / "oq", export_dir=out,
                        params={"gsim_logic_tree_file": "tree_lt.xml",
                                "reference_depth_to_1pt0km_per_sec": "100.0"})
    curves = result.hazard_curves
    assert np.isfinite(curves["poe"]).all() and curves["poe"].between(0, 1).all()
    for _, one in curves.groupby(["kind", "site_id", "imt"]):
        poe = one["poe"].to_numpy()
        assert np.all(np.diff(poe) <= 1e-12), "hazard curves must not increase with intensity"
    assert curves["poe"].max() > 0.5  # sites near the source see the lowest level often
    assert (result.hazard_maps["iml"] > 0).all()
    names = {p.name for p in result.exported}
    assert {"hazard_curves.csv", "hazard_maps.csv", "uhs.csv", "hazard_curves.png", "hazard_map_PGA_poe0.1.png"} <= names
    back = pd.read_csv(out / "hazard_curves.csv")
    assert len(back) == len(curves)


def test_weighted_branches_of_archived_models(area_job: Path, workdir: Path, native_model: Path, tree_model: Path) -> None:
    """Two gmlearn models as weighted branches: the mean curve is the weighted mean of the realizations."""
    from gmlearn import hazard

    a = hazard.pack_model(native_model, area_job.parent / "ba08.zip")
    b = hazard.pack_model(tree_model, area_job.parent / "tree.zip")
    write_gsim_lt(area_job.parent / "two_lt.xml",
                  {"Active Shallow Crust": [(gmlearn_branch(a.name), 0.7), (gmlearn_branch(b.name), 0.3)]})
    result = hazard.run(area_job, data_dir=workdir / "oq",
                        params={"gsim_logic_tree_file": "two_lt.xml", "region_grid_spacing": "80.0",
                                "individual_rlzs": "true"})
    curves = result.hazard_curves
    assert set(curves["kind"]) == {"mean", "rlz-000", "rlz-001"}
    wide = curves.pivot_table(index=["site_id", "imt", "iml"], columns="kind", values="poe")
    expected = 0.7 * wide["rlz-000"] + 0.3 * wide["rlz-001"]
    np.testing.assert_allclose(wide["mean"], expected, rtol=1e-5, atol=1e-12)


STATIONS = [("ST1", 0.05, 0.0, 0.62), ("ST2", 0.25, 0.2, 0.15), ("ST3", -0.3, -0.25, 0.08), ("ST4", 0.4, -0.4, 0.05)]


def test_conditioned_scenario_matches_native_gsim(shared_data: Path, workdir: Path, native_model: Path) -> None:
    """station_data_file conditioning (OpenQuake's conditioned GMFs) needs tau and phi from the GSIM."""
    from gmlearn import hazard

    job = copy_demo(shared_data, "ScenarioCase1", workdir / "conditioned", region_grid_spacing="25.0",
                    number_of_ground_motion_fields="20", station_data_file="stations.csv",
                    site_model_file="site_model.csv")
    text = job.read_text()
    for key in ("reference_vs30_type", "reference_vs30_value", "reference_depth_to_2pt5km_per_sec",
                "reference_depth_to_1pt0km_per_sec"):
        text = "\n".join(line for line in text.splitlines() if not line.startswith(key)) + "\n"
    job.write_text(text)
    rows = ["STATION_ID,STATION_NAME,LONGITUDE,LATITUDE,STATION_TYPE,PGA_VALUE,PGA_LN_SIGMA"]
    rows += [f"{sid},{sid},{lon},{lat},seismic,{pga},0.0" for sid, lon, lat, pga in STATIONS]
    (job.parent / "stations.csv").write_text("\n".join(rows) + "\n")
    grid = [(lon, lat) for lon in np.arange(-0.5, 0.51, 0.25) for lat in np.arange(-0.5, 0.51, 0.25)]
    sites = ["lon,lat,vs30,z1pt0,z2pt5,vs30measured"]
    sites += [f"{lon:.2f},{lat:.2f},{400 if lon < 0 else 760},100.0,5.0,1" for lon, lat in grid + [s[1:3] for s in STATIONS]]
    (job.parent / "site_model.csv").write_text("\n".join(sites) + "\n")
    text = job.read_text().replace(f"gsim = {NATIVE}", f'gsim = [GMLearnGSIM]\n\tmodel_file = "{os.path.relpath(native_model / "metadata.json", job.parent)}"')
    (job.parent / "job_gmlearn.ini").write_text(text)

    native = hazard.run(job, data_dir=workdir / "oq")
    wrapped = hazard.run(job.parent / "job_gmlearn.ini", data_dir=workdir / "oq")
    pd.testing.assert_frame_equal(native.gmfs, wrapped.gmfs, rtol=1e-6, atol=0.0)
    # the stations' own sites reproduce the recorded values (observation sigma 0); others vary
    at = wrapped.sites.merge(pd.DataFrame(STATIONS, columns=["sid", "lon", "lat", "obs"]), on=["lon", "lat"])
    assert len(at) == len(STATIONS)
    gmfs = wrapped.gmfs.set_index("site_id")["PGA"]
    for row in at.itertuples():
        np.testing.assert_allclose(gmfs.loc[row.site_id], row.obs, rtol=1e-4)
    assert wrapped.gmfs.groupby("site_id")["PGA"].std().max() > 0.01
