"""``export_table``: a saved model as an OpenQuake GMPETable HDF5 that stock OpenQuake reads."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("openquake.hazardlib")
sys.path.insert(0, str(Path(__file__).parent))
from test_hazard_verify import copy_demo, write_gsim_lt  # noqa: E402

IMTS = ["PGA", "PGV", "SA(0.2)", "SA(1.0)"]
NODES_M = [4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0]
NODES_R = [0.0, 1.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 400.0]


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    return save_model(OpenQuakeGMPE("BooreAtkinson2008"), tmp_path_factory.mktemp("models") / "ba08")


def _table_gsim(path: Path):  # noqa: ANN202
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    return OpenQuakeGMPE("GMPETable", gmpe_table=str(path))


def test_table_reproduces_the_model_at_its_nodes(native: Path, tmp_path: Path) -> None:
    from gmlearn.gmpe.reference import OpenQuakeGMPE
    from gmlearn.hazard.table import DEFAULT_DISTANCES, export_table, scenario_table

    path = export_table(native, tmp_path / "ba08.hdf5", imts=IMTS, mags=NODES_M, metric="rjb")
    table = _table_gsim(path)
    assert table.required_features == ("mag", "rjb")
    model = OpenQuakeGMPE("BooreAtkinson2008")
    between = []
    for mag in [5.0, 6.5, 7.5, 6.25, 7.1]:  # nodes, then magnitudes between nodes
        dists = np.array(NODES_R[1:-1] + [3.0, 35.0, 150.0])  # all but the last three are nodes
        rows = scenario_table(model.required_features, [mag], dists, metric="rjb", vs30=760.0)
        ref, got = model.predict(rows, IMTS), table.predict(rows[["mag", "rjb"]], IMTS)
        node = np.isin(dists, DEFAULT_DISTANCES) & (mag in NODES_M)
        np.testing.assert_allclose(got.mean[:, node], ref.mean[:, node], atol=1e-6)
        np.testing.assert_allclose(got.sigma, ref.sigma, atol=1e-6)  # BA08's sigma depends on IMT only
        between.append(np.abs(got.mean[:, ~node] - ref.mean[:, ~node]).max())
    assert 0 < max(between) < 0.1  # interpolation error between nodes, ln units


def test_stock_openquake_runs_the_table_in_classical_psha(shared_data: Path, native: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from gmlearn import hazard
    from gmlearn.hazard.table import export_table

    monkeypatch.setenv("GMLEARN_DATA_DIR", str(tmp_path / "data"))
    job = copy_demo(shared_data, "AreaSourceClassicalPSHA", tmp_path, region_grid_spacing="40.0",
                    intensity_measure_types_and_levels='{"PGA": logscale(0.005, 2.13, 12), '
                                                       '"SA(1.0)": logscale(0.005, 2.13, 12)}')
    # "PGA,SA(1.0)": a lone SA period, whose table once gave NaN in OpenQuake and curves of zeros
    export_table(native, job.parent / "table.hdf5", imts=["PGA", "SA(1.0)"], metric="rjb", vs30=600.0)
    lt = write_gsim_lt(job.parent / "table_lt.xml", {"Active Shallow Crust": [("GMPETable", 1.0)]})
    lt.write_text(lt.read_text().replace("<uncertaintyModel>GMPETable", '<uncertaintyModel gmpe_table="table.hdf5">GMPETable'))
    base = hazard.run(job, data_dir=tmp_path / "oq")
    tab = hazard.run(job, data_dir=tmp_path / "oq", params={"gsim_logic_tree_file": "table_lt.xml"})
    a, b = base.hazard_curves["poe"].to_numpy(), tab.hazard_curves["poe"].to_numpy()
    assert len(a) == len(b) and (a > 1e-3).sum() > 20
    sa = tab.hazard_curves["imt"].to_numpy() == "SA(1.0)"
    assert sa.sum() == len(b) / 2 and (b[sa] > 1e-3).sum() > 10
    hit = a > 1e-4
    # BA08 reads only mag, rjb, rake and vs30; the demo's sources are strike-slip (rake 0, as the table) on a
    # uniform 600 m/s site: the curves differ only by the table's interpolation
    assert np.max(np.abs(np.log(b[hit] / a[hit]))) < 0.15  # measured 0.107 at PoE ~2e-4


def test_table_errors_name_the_problem(native: Path, tmp_path: Path, nzsmd_crustal: pd.DataFrame) -> None:
    from gmlearn.exceptions import ModelError
    from gmlearn.hazard.table import export_table, scenario_table

    with pytest.raises(ModelError, match=r"\['backarc'\].*--set backarc=VALUE"):
        scenario_table(["mag", "rrup", "backarc"], [5.0, 6.0], [1.0, 10.0])
    with pytest.raises(ModelError, match="metric='rx'"):
        scenario_table(["mag", "rx"], [5.0, 6.0], [1.0, 10.0], metric="rx")
    with pytest.raises(ModelError, match="lists no IMTs"):
        export_table(native, tmp_path / "t.hdf5")
    with pytest.raises(ModelError, match="strictly increasing"):
        export_table(native, tmp_path / "t.hdf5", imts=["PGA"], mags=[6.0, 5.0])
    with pytest.raises(ModelError, match="does not exist"):
        export_table(tmp_path / "nowhere", tmp_path / "t.hdf5", imts=["PGA"])
    export_table(native, tmp_path / "t.hdf5", imts=["PGA"], distances=[0.0, 10.0, 100.0])
    with pytest.raises(FileExistsError, match="overwrite"):
        export_table(native, tmp_path / "t.hdf5", imts=["PGA"])
    assert sorted(os.listdir(tmp_path)) == ["t.hdf5"]  # nothing half-written left behind


def test_tree_model_table_with_fixed_parameters(tmp_path: Path, nzsmd_crustal: pd.DataFrame) -> None:
    import h5py

    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.tree import TreeGMM
    from gmlearn.hazard.table import export_table

    tree = TreeGMM(n_estimators=30, learning_rate=0.2, validation_fraction=0.0, n_jobs=1, random_state=0)
    tree.fit(nzsmd_crustal.dropna(subset=["PGA", "SA(1.0)"]), ["PGA", "SA(1.0)"])
    folder = save_model(tree, tmp_path / "tree")
    from gmlearn.exceptions import OutOfRangeWarning

    with pytest.warns(OutOfRangeWarning, match="outside the training domain"):  # the default nodes reach M8.5
        path = export_table(folder, tmp_path / "tree.hdf5", fixed={"rake": 90.0}, vs30=400.0)
    with h5py.File(path) as fh:
        assert fh["Distances"].attrs["metric"] == "rrup"
        # a lone period becomes a flat two-node axis: OpenQuake's log-log period interpolation needs two nodes
        assert fh["IMLs/SA"].shape == (len(fh["Distances"]), 2, len(fh["Mw"]))
        assert list(fh["IMLs/T"][:]) == [1.0, 1.001]
        np.testing.assert_array_equal(fh["IMLs/SA"][:, 0, :], fh["IMLs/SA"][:, 1, :])
        pga = fh["IMLs/PGA"][:, 0, :]
    assert np.all(np.isfinite(pga)) and np.all(pga > 0)
    assert pga[0, -1] > pga[-1, -1]  # attenuates with distance at the largest magnitude


def test_lone_sa_period_table_gives_openquake_finite_values(native: Path, tmp_path: Path) -> None:
    """Regression: "PGA,SA(1.0)" used to write one period node; OpenQuake's interpolation then gave NaN."""
    from gmlearn.gmpe.reference import OpenQuakeGMPE
    from gmlearn.hazard.table import check_table, export_table, scenario_table

    path = export_table(native, tmp_path / "t.hdf5", imts=["PGA", "SA(1.0)"], mags=NODES_M, metric="rjb")
    table = _table_gsim(path)
    rows = scenario_table(OpenQuakeGMPE("BooreAtkinson2008").required_features, [6.0], [1.0, 10.0, 100.0], metric="rjb")
    got = table.predict(rows[["mag", "rjb"]], ["PGA", "SA(1.0)"])
    ref = OpenQuakeGMPE("BooreAtkinson2008").predict(rows, ["PGA", "SA(1.0)"])
    np.testing.assert_allclose(got.mean, ref.mean, atol=1e-6)  # M6 and these distances are nodes
    with pytest.raises(ValueError, match="outside of valid range"):  # other periods are refused, not extrapolated
        table.predict(rows[["mag", "rjb"]], ["SA(2.0)"])
    check_table(path, ["PGA", "SA(1.0)"])


def test_check_table_catches_tables_openquake_reads_as_nan(native: Path, tmp_path: Path) -> None:
    import shutil

    import h5py

    from gmlearn.exceptions import ModelError
    from gmlearn.hazard.table import check_table, export_table

    good = export_table(native, tmp_path / "good.hdf5", imts=["PGA", "SA(1.0)"], mags=NODES_M, distances=NODES_R)
    lone = shutil.copy(good, tmp_path / "lone.hdf5")
    with h5py.File(lone, "r+") as fh:  # what export_table used to write: one period node
        for group in ("IMLs", "Total"):
            sa = fh[f"{group}/SA"][:, :1, :]
            del fh[f"{group}/SA"], fh[f"{group}/T"]
            fh[f"{group}/SA"], fh[f"{group}/T"] = sa, np.array([1.0])
    with pytest.raises(ModelError, match=r"non-finite ground motion for SA\(1.0\) at M4.5"):
        check_table(lone, ["PGA", "SA(1.0)"])
    holed = shutil.copy(good, tmp_path / "holed.hdf5")
    with h5py.File(holed, "r+") as fh:  # a model that predicts NaN in one cell
        fh["IMLs/PGA"][3, 0, 2] = np.nan
    with pytest.raises(ModelError, match=r"for PGA at M5.25, rrup=10 km"):
        check_table(holed, ["PGA"])


def test_export_table_publishes_nothing_when_the_check_fails(native: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from gmlearn.exceptions import ModelError
    from gmlearn.hazard.gsim import cached_model, model_spec
    from gmlearn.hazard.table import export_table

    model_spec(native, refresh=True)  # cache the model as export_table will find it
    model = cached_model(model_spec(native).folder)
    predict = model.predict

    def _nan_predict(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - a model predicting NaN everywhere
        pred = predict(*args, **kwargs)
        pred.mean[:] = np.nan
        return pred

    monkeypatch.setattr(model, "predict", _nan_predict)
    out = tmp_path / "out"
    with pytest.raises(ModelError, match=r"nan.hdf5' gives non-finite ground motion for PGA.*not written"):  # checked by OpenQuake's reader
        export_table(native, out / "nan.hdf5", imts=["PGA"])
    assert os.listdir(out) == []
