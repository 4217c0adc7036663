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
                              "--no-xgboost", "--tectonic-region", "", "--out", str(out)])
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
    meta = json.loads((model_dir / "metadata.json").read_text())
    assert meta["anchor"]["base"] == ["BooreEtAl2014", "CampbellBozorgnia2014", "ChiouYoungs2014"]  # --base auto
    assert meta["params"]["extrapolation"] == "base"


@pytest.mark.parametrize(("args", "needle"), [
    (["--extrapolation", "clip"], "'extrapolation' parameter"),
    (["--model", "hybrid", "--base", "none"], "needs a physics base"),
    (["--base", "NoSuchGMPE"], "NoSuchGMPE"),
])
def test_train_physics_options_are_checked(tmp_path, args, needle):
    res = runner.invoke(app, ["train", "--data", "nzsmd", "--imts", "PGA", *args, "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and needle in " ".join(res.output.split()), res.output
    assert not (tmp_path / "m").exists()


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
    for flag in ("--tectonic-region", "--region"):  # --region: the older spelling
        res = runner.invoke(app, ["evaluate", "--data", "nzsmd", flag, "crustl", "--no-xgboost", "--out", str(tmp_path / "e")])
        assert res.exit_code == 2 and "crustl" in res.output and "--tectonic-region" in res.output


# ---- safe outputs: --overwrite never destroys what gmlearn did not write -------------------------------------------


@pytest.fixture(scope="module")
def small_model(tmp_path_factory, nzsmd_crustal):
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.tree import TreeGMM

    model = TreeGMM(n_estimators=30, learning_rate=0.3, n_validation_splits=2, early_stopping_rounds=5, n_jobs=1)
    model.fit(nzsmd_crustal, ["PGA"])
    return save_model(model, tmp_path_factory.mktemp("model") / "model")


@pytest.fixture()
def small_store(nz_small_csv, tmp_path):
    store = tmp_path / "store"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = runner.invoke(app, ["data", "ingest", str(nz_small_csv), "--store", str(store)])
    assert res.exit_code == 0, res.output
    return store


def _refused(res, *needles: str) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, res.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", ["store-as-out", "store-part-as-out", "input-as-out", "thesis-folder", "cwd", "model-as-out"])
def test_overwrite_never_destroys_what_gmlearn_did_not_write(case, small_model, small_store, tmp_path, monkeypatch,
                                                              nzsmd_crustal):
    rows = tmp_path / "rows.csv"
    nzsmd_crustal.iloc[:5].to_csv(rows, index=False)
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("three years of work")
    monkeypatch.chdir(tmp_path)
    args, guarded, needle = {
        "store-as-out": (["predict", str(small_model), str(small_store), "--out", str(small_store)], small_store, "store"),
        "store-part-as-out": (["predict", str(small_model), str(rows), "--out",
                               str(next(small_store.glob("data/records-*.parquet")))], small_store, "feature store"),
        "input-as-out": (["predict", str(small_model), str(rows), "--out", str(rows)], tmp_path, "input"),
        "thesis-folder": (["train", "--data", str(small_store), "--imts", "PGA", "--tectonic-region", "", "--out", str(thesis)],
                          thesis, "not written by gmlearn"),
        "cwd": (["evaluate", "--data", str(small_store), "--imts", "PGA", "--gmpes", "BSSA14", "--no-xgboost",
                 "--tectonic-region", "", "--out", "."], tmp_path, "current folder"),
        "model-as-out": (["predict", str(small_model), str(rows), "--out", str(small_model)], small_model, "input"),
    }[case]
    before = _tree(guarded)
    hash_before = FeatureStore(small_store).content_hash
    for flags in ([], ["--overwrite"]):
        _refused(runner.invoke(app, [*args, *flags]), needle)
        assert _tree(guarded) == before
    assert FeatureStore(small_store).content_hash == hash_before


def test_existing_outputs_need_overwrite_and_are_replaced_whole(small_model, small_store, tmp_path):
    pred = tmp_path / "pred.csv"
    args = ["predict", str(small_model), str(small_store), "--out", str(pred)]  # a store as input
    assert runner.invoke(app, args).exit_code == 0
    assert len(pd.read_csv(pred)) == 60
    _refused(runner.invoke(app, args), "pass --overwrite", str(pred))
    pred.write_text("stale")
    res = runner.invoke(app, [*args, "--overwrite"])
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(pred)) == 60
    model = tmp_path / "model"
    train = ["train", "--data", str(small_store), "--imts", "PGA", "--tectonic-region", "", "-m", "tree", "--out", str(model)]
    assert runner.invoke(app, train).exit_code == 0
    (model / "stray.txt").write_text("left by hand")
    _refused(runner.invoke(app, train), "pass --overwrite")
    res = runner.invoke(app, [*train, "--overwrite"])
    assert res.exit_code == 0, res.output
    assert not (model / "stray.txt").exists() and (model / "metadata.json").is_file()


def test_train_and_predict_read_flatfiles(nz_small_csv, tmp_path):
    """An NZSMD flatfile (not a table of model features) goes straight into train and predict."""
    model = tmp_path / "model"
    res = runner.invoke(app, ["train", "--data", str(nz_small_csv), "--imts", "PGA", "--tectonic-region", "", "-m", "tree",
                              "--out", str(model)])
    assert res.exit_code == 0, res.output
    meta = json.loads((model / "metadata.json").read_text())
    assert meta["training"]["content_hash"].startswith("table-sha256:")
    res = runner.invoke(app, ["predict", str(model), "--data", str(nz_small_csv), "--out", str(tmp_path / "p.parquet")])
    assert res.exit_code == 0, res.output
    pred = pd.read_parquet(tmp_path / "p.parquet")
    assert len(pred) == 60 and pred["PGA_ln_mean"].notna().all() and {"mag", "rrup", "vs30"} <= set(pred.columns)
    res = runner.invoke(app, ["predict", str(model), str(nz_small_csv), "--format", "table", "--out", str(tmp_path / "q.csv")])
    assert "mag" in _refused(res)  # read as a plain table it lacks the model's features


def _options():
    """(command line, visible parameters) of every leaf command of `gmlearn`."""
    from typer.main import get_command

    stack = [(get_command(app), ("gmlearn",))]
    while stack:
        cmd, name = stack.pop()
        for sub_name, sub in getattr(cmd, "commands", {}).items():
            stack.append((sub, (*name, sub_name)))
        if not getattr(cmd, "commands", None):
            yield " ".join(name), [p for p in cmd.params if not getattr(p, "hidden", False)]


def test_one_set_of_option_names():
    """-o is always --out, -d always --data, -s always --store, -m always --model; every --out has --overwrite."""
    short = {"-o": "--out", "-d": "--data", "-s": "--store", "-m": "--model", "-f": "--format"}
    banned = {"--output", "--export", "--dataset"}
    seen = 0
    for name, params in _options():
        flags = {p.name: [o for o in p.opts] for p in params}
        for opts in flags.values():
            longs = [o for o in opts if o.startswith("--")]
            for o in opts:
                if o in short:
                    assert short[o] in longs, (name, opts)
            assert not set(longs) & banned, (name, opts)
        all_opts = {o for opts in flags.values() for o in opts}
        if "--region" in all_opts:  # a geographic box; the tectonic filter is --tectonic-region
            assert name.split()[1] in ("catalog", "geodesy"), name
        if "--out" in all_opts and name not in ("gmlearn data ingest",):
            assert "--overwrite" in all_opts, name
            seen += 1
    assert seen >= 20
