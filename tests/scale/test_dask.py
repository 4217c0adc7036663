"""The Dask engine on a LocalCluster: partitioned store, xgboost.dask fits, streaming prediction, chunked maps, CLI."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gmlearn.cli import app
from gmlearn.distributed import SchedulerError, dask_fit, get_client, map_chunks, map_rows, predict_parquet
from gmlearn.exceptions import MissingColumnError, ModelError
from gmlearn.gmpe.persistence import load_model, save_model
from gmlearn.gmpe.tree import TreeGMM
from gmlearn.store import FeatureStore

IMTS = ["PGA", "SA(1.0)"]


@pytest.fixture(scope="module")
def client():
    with get_client(n_workers=2, threads_per_worker=1, processes=False) as c:
        yield c


@pytest.fixture(scope="module")
def store(nzsmd_table, tmp_path_factory):
    """The first 100 NZSMD crustal events (1365 records) in a store written in row groups of 300 records."""
    crustal = nzsmd_table[nzsmd_table["tectonic_region"] == "crustal"]
    table = crustal[crustal["event_id"].isin(crustal["event_id"].drop_duplicates().iloc[:100])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FeatureStore.create(tmp_path_factory.mktemp("store") / "s").append(table, derive=False, row_group_rows=300)


@pytest.fixture(scope="module")
def features_file(nzsmd_crustal, tmp_path_factory):
    path = tmp_path_factory.mktemp("features") / "sites.parquet"
    nzsmd_crustal.to_parquet(path, row_group_size=50)
    return path


def test_store_to_dask_matches_to_frame(store):
    ddf = store.to_dask()
    assert len(store) == 1365 and ddf.npartitions == 5
    pd.testing.assert_frame_equal(ddf.compute(scheduler="sync").reset_index(drop=True), store.to_frame(dropna=False))
    part = store.to_dask(["PGA"], columns=["mag", "vs30"])
    expected = store.to_frame(["PGA"], dropna=False, columns=["mag", "vs30"])
    pd.testing.assert_frame_equal(part.compute(scheduler="sync").reset_index(drop=True), expected)
    with pytest.raises(MissingColumnError, match="SA\\(9.0\\)"):
        store.to_dask(["SA(9.0)"])


#: Without row/column subsampling (whose random draws differ when rows sit in partitions), the
#: distributed fit sees the same event-grouped validation sets and stops at the same rounds. With
#: 100 events the held-out tau is well identified; with 40 it can sit at the zero boundary in one
#: fit and not in the other, as the histogram sums of the workers differ in the last bits.
EXACT = {"n_estimators": 60, "learning_rate": 0.2, "subsample": 1.0, "colsample_bytree": 1.0}


@pytest.fixture(scope="module")
def dask_tree(client, store):
    return dask_fit(TreeGMM(base=None, **EXACT), store, IMTS, scheduler=client)


def test_dask_fit_tree_matches_the_in_memory_fit(dask_tree, store, tmp_path):
    table = store.to_frame(dropna=False)
    local = TreeGMM(base=None, **EXACT).fit(table, IMTS)
    assert dask_tree.ranges_ == local.ranges_
    for imt in IMTS:
        d, m = dask_tree.effects_[imt], local.effects_[imt]
        assert d["sigma_from"] == m["sigma_from"] == "held-out events" and d["rounds"] == m["rounds"]
        assert d["tau"] == pytest.approx(m["tau"], rel=0.02) and d["phi"] == pytest.approx(m["phi"], rel=0.02)
        assert set(d["event_terms"].index) == set(m["event_terms"].index)
    y = table[IMTS].to_numpy(dtype=float).T
    rms = [np.sqrt(np.nanmean((y - model.predict(table).mean) ** 2)) for model in (dask_tree, local)]
    assert rms[0] == pytest.approx(rms[1], rel=0.03)
    path = save_model(dask_tree, tmp_path / "dask-tree")
    np.testing.assert_array_equal(load_model(path).predict(table, station_terms="known").mean,
                                  dask_tree.predict(table, station_terms="known").mean)


def test_dask_fit_monotone_and_refusals(client, nzsmd_crustal):
    from gmlearn.gmpe.hybrid import HybridGMM
    from gmlearn.gmpe.monotone import MonotoneGMM

    model = dask_fit(MonotoneGMM(base=None, n_estimators=30, learning_rate=0.3, n_validation_splits=1, em_iterations=2), nzsmd_crustal, "PGA",
                     scheduler=client)
    grid = pd.DataFrame({"mag": np.linspace(4, 7.5, 30), "rrup": 30.0, "rjb": 29.0, "vs30": 400.0, "z1pt0": 200.0,
                         "hypo_depth": 10.0, "ztor": 2.0, "rake": 0.0, "dip": 60.0,
                         # what the "auto" physics base reads where the model falls back on it
                         "rx": -29.0, "width": 10.0, "vs30measured": False, "z2pt5": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (np.diff(model.predict(grid).mean[0]) >= 0).all()
    with pytest.raises(ModelError, match="HybridGMM"):
        dask_fit(HybridGMM("BooreEtAl2014"), nzsmd_crustal, "PGA", scheduler=client)
    with pytest.raises(MissingColumnError, match="vs30"):
        dask_fit(TreeGMM(base=None), nzsmd_crustal.drop(columns="vs30"), "PGA", scheduler=client)


def test_predict_parquet_local_and_on_workers(client, small_tree, features_file, nzsmd_crustal, tmp_path):
    expected = small_tree.predict(nzsmd_crustal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = predict_parquet(small_tree, features_file, tmp_path / "local", chunk_rows=120)
        remote = predict_parquet(small_tree, features_file, tmp_path / "remote", chunk_rows=120, scheduler=client)
    assert local.rows == remote.rows == len(nzsmd_crustal) and local.parts == remote.parts > 1
    a, b = pd.read_parquet(tmp_path / "local"), pd.read_parquet(tmp_path / "remote")
    pd.testing.assert_frame_equal(a, b)
    assert list(a["record_id"]) == list(nzsmd_crustal["record_id"])
    for i, imt in enumerate(IMTS):  # compiled trees by default: XGBoost's predictions to float rounding
        np.testing.assert_allclose(a[f"{imt}_ln_mean"], expected.mean[i], atol=1e-4)
        np.testing.assert_array_equal(a[f"{imt}_sigma"], expected.sigma[i])
    assert not hasattr(small_tree, "compiled_")  # the caller's model is not modified
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = predict_parquet(small_tree, features_file, tmp_path / "plain", chunk_rows=120, compile_trees=False)
    assert plain.rows == local.rows
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "plain")["PGA_ln_mean"], expected.mean[0])
    with pytest.raises(FileExistsError):
        predict_parquet(small_tree, features_file, tmp_path / "local")


def test_predict_parquet_from_a_store_and_a_saved_model(store, small_tree, tmp_path):
    folder = save_model(small_tree, tmp_path / "model")
    result = predict_parquet(folder, store, tmp_path / "out", station_terms="known", chunk_rows=300)
    table = store.to_frame(dropna=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = small_tree.predict(table, station_terms="known")
    out = pd.read_parquet(tmp_path / "out")
    assert result.rows == len(table) and list(out["record_id"]) == list(table["record_id"])
    np.testing.assert_allclose(out["SA(1.0)_ln_mean"], expected.mean[1], atol=1e-4)
    np.testing.assert_array_equal(out["SA(1.0)_phi"], expected.phi[1])
    again = predict_parquet(folder, store.path, tmp_path / "again", station_terms="known")  # the store's folder
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "again"), out)
    assert again.parts == 1


def test_predict_parquet_bad_input_writes_nothing(small_tree, nzsmd_crustal, tmp_path):
    bad = nzsmd_crustal.copy()
    bad.loc[bad.index[-1], "rrup"] = -5.0  # in the last chunk: earlier parts were already written
    bad.to_parquet(tmp_path / "bad.parquet", row_group_size=100)
    with pytest.raises(ValueError, match="'rrup'.*-5.0"):
        predict_parquet(small_tree, tmp_path / "bad.parquet", tmp_path / "out", chunk_rows=100)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))
    nzsmd_crustal.drop(columns="vs30").to_parquet(tmp_path / "novs30.parquet")
    with pytest.raises(MissingColumnError, match="vs30"):
        predict_parquet(small_tree, tmp_path / "novs30.parquet", tmp_path / "out")
    with pytest.raises(ValueError, match="'chunk_rows'"):
        predict_parquet(small_tree, tmp_path / "novs30.parquet", tmp_path / "out", chunk_rows=0)
    nzsmd_crustal.iloc[:0].to_parquet(tmp_path / "empty.parquet")
    assert predict_parquet(small_tree, tmp_path / "empty.parquet", tmp_path / "empty").rows == 0
    assert pd.read_parquet(tmp_path / "empty").shape == (0, 9)


def _noisy_mean(block: pd.DataFrame, rng: np.random.Generator, scale: float) -> np.ndarray:
    """An ensemble of 3 realisations per row: shape (3, n_rows)."""
    return block["mag"].to_numpy()[None, :] + scale * rng.standard_normal((3, len(block)))


def test_chunked_maps_do_not_depend_on_workers(client, nzsmd_crustal):
    here = map_rows(_noisy_mean, nzsmd_crustal, chunk_rows=500, seed=7, scale=0.5)
    there = map_rows(_noisy_mean, nzsmd_crustal, chunk_rows=500, seed=7, scale=0.5, scheduler=client)
    assert here.shape == (3, len(nzsmd_crustal))
    np.testing.assert_array_equal(here, there)
    assert not np.array_equal(here, map_rows(_noisy_mean, nzsmd_crustal, chunk_rows=500, seed=8, scale=0.5))
    assert map_chunks(len, ["ab", "c"], scheduler=client) == [2, 1]


def test_scheduler_errors():
    with pytest.raises(SchedulerError, match="'scheduler' parameter"):
        with get_client("not an address"):
            pass
    with pytest.raises(SchedulerError, match="Cannot reach the Dask scheduler"):
        with get_client("tcp://127.0.0.1:9", timeout=1):
            pass


def test_cli_scheduler(client, features_file, nzsmd_crustal, tmp_path):
    runner = CliRunner()
    address = client.scheduler.address
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = FeatureStore.create(tmp_path / "s").append(nzsmd_crustal, derive=False, row_group_rows=100)
    res = runner.invoke(app, ["train", "--data", str(store.path), "--imts", "PGA", "--tectonic-region", "", "--base", "none", "--scheduler", address,
                              "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    model = load_model(tmp_path / "m")
    assert model.imts_ == ["PGA"] and model.metadata_["training"]["content_hash"] == store.content_hash
    res = runner.invoke(app, ["predict", str(tmp_path / "m"), str(features_file), "-o", str(tmp_path / "p"),
                              "--scheduler", address, "--chunk-rows", "200"])
    assert res.exit_code == 0, res.output
    out = pd.read_parquet(tmp_path / "p")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(out["PGA_ln_mean"], model.predict(nzsmd_crustal).mean[0], atol=1e-4)
    res = runner.invoke(app, ["train", "--model", "hybrid", "--scheduler", address, "--out", str(tmp_path / "h")])
    assert res.exit_code == 2 and "--scheduler trains the tree and monotone" in res.output
    res = runner.invoke(app, ["predict", str(tmp_path / "m"), str(features_file), "-o", str(tmp_path / "p.csv"),
                              "--scheduler", address])
    assert res.exit_code == 2 and "streams Parquet input" in res.output
