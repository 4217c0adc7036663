import json
import warnings

import pandas as pd
import pytest
from typer.testing import CliRunner

from gmlearn.cli import _split_imts, app
from gmlearn.store import FeatureStore

runner = CliRunner()


@pytest.fixture()
def nz_small_csv(shared_data, tmp_path):
    """First 60 NZSMD records, written in the NZSMD layout."""
    raw = pd.read_csv(shared_data / "nzsmd_flatfile/NZdatabase_flatfile_PSA_05pc.csv.gz", nrows=60)
    path = tmp_path / "nz_small.csv"
    raw.to_csv(path, index=False)
    return path


def test_version_and_list():
    assert "gmlearn" in runner.invoke(app, ["--version"]).output
    out = runner.invoke(app, ["data", "list"])
    assert out.exit_code == 0 and "nzsmd" in out.output and "ngawest2_subset" in out.output


def test_ingest_describe(nz_small_csv, tmp_path):
    store = tmp_path / "store"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = runner.invoke(app, ["data", "ingest", str(nz_small_csv), "--store", str(store)])
    assert res.exit_code == 0, res.output
    assert len(FeatureStore(store)) == 60
    res = runner.invoke(app, ["data", "describe", str(store), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["records"] == 60
    res = runner.invoke(app, ["data", "describe", "nzsmd"])
    assert res.exit_code == 0 and "GeoNet" in res.output


def test_bad_file_is_rejected_and_store_untouched(nz_small_csv, tmp_path):
    store = tmp_path / "store"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runner.invoke(app, ["data", "ingest", str(nz_small_csv), "--store", str(store)])
    before = FeatureStore(store).content_hash
    bad = pd.read_csv(nz_small_csv)
    bad["Record"] = bad["Record"] + "_2"
    bad.loc[7, "Rrup_km"] = -3.0
    bad_path = tmp_path / "bad.csv"
    bad.to_csv(bad_path, index=False)
    res = runner.invoke(app, ["data", "ingest", str(bad_path), "--store", str(store)])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "bad.csv" in text and "Rrup_km" in text and "row 8" in text and "-3.0" in text
    assert FeatureStore(store).content_hash == before


def test_evaluate_on_dataset(tmp_path):
    out = tmp_path / "eval"
    res = runner.invoke(app, ["evaluate", "--data", "ngawest2_subset", "--imts", "PGA,SA(1.0)", "--gmpes", "BSSA14",
                              "--no-xgboost", "--region", "", "--out", str(out)])
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(out / "scores.csv")
    assert scores["imt"].tolist() == ["PGA", "SA(1.0)"] and scores["n_records"].iloc[0] == 996
    res = runner.invoke(app, ["evaluate", "--dataset", "nzsmd", "--imts", "PGA", "--gmpes", "NoSuchGMPE", "--no-xgboost",
                              "--out", str(out), "--overwrite"])  # --dataset: the older spelling of --data
    assert res.exit_code == 2 and "NoSuchGMPE" in res.output


def test_split_imts():
    assert _split_imts("PGA, SA(0.2),SA(1.0)") == ["PGA", " SA(0.2)", "SA(1.0)"]


def test_train_and_predict(tmp_path, nzsmd_crustal):
    model_dir = tmp_path / "model"
    res = runner.invoke(app, ["train", "--model", "monotone", "--data", "nzsmd", "--imts", "PGA,SA(1.0)", "--out", str(model_dir)])
    assert res.exit_code == 0, res.output
    assert (model_dir / "metadata.json").is_file() and "tau" in res.output
    table = tmp_path / "rows.csv"
    nzsmd_crustal.iloc[:20].to_csv(table, index=False)
    res = runner.invoke(app, ["predict", str(model_dir), str(table), "-o", str(tmp_path / "pred.csv"), "--station-terms", "known"])
    assert res.exit_code == 0, res.output
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert len(pred) == 20 and {"PGA_ln_mean", "PGA_median_g", "SA(1.0)_sigma"} <= set(pred.columns)
    res = runner.invoke(app, ["predict", str(model_dir), str(table), "-o", str(tmp_path / "p2.csv"), "--imts", "PGV"])
    assert res.exit_code == 2 and "PGV" in res.output
    res = runner.invoke(app, ["train", "--model", "forest", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "forest" in res.output


def test_minimal_generic_flatfile_and_clean_errors(tmp_path):
    flat = pd.DataFrame({"event_id": ["e1", "e1", "e2"], "station_id": ["a", "b", "a"], "mag": [5.0, 5.0, 6.0],
                         "rrup": [10.0, 20.0, 30.0], "vs30": [400.0, 500.0, 400.0], "PGA": [0.1, 0.05, 0.2], "PGV": [8.0, 4.0, 15.0]})
    path = tmp_path / "minimal.csv"
    flat.to_csv(path, index=False)
    store = tmp_path / "store"
    res = runner.invoke(app, ["data", "ingest", str(path), "--store", str(store)])
    assert res.exit_code == 0, res.output
    frame = FeatureStore(store).to_frame(dropna=False)
    assert len(frame) == 3 and not frame["rx_estimated"].any()
    res = runner.invoke(app, ["data", "ingest", str(path), "--store", str(tmp_path / "s2"), "--component", "GeoMean"])
    assert res.exit_code == 2 and "--component" in " ".join(res.output.split())
    assert not (tmp_path / "s2").exists()  # nothing written when the first file fails
    res = runner.invoke(app, ["evaluate", "--data", "nzsmd", "--region", "crustl", "--no-xgboost", "--out", str(tmp_path / "e")])
    assert res.exit_code == 2 and "crustl" in res.output
