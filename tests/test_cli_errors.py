"""Every error of the ``gmlearn`` command ends in one line, exit status 2 and no traceback (gmlearn.cli_errors).

Each case is a hostile or careless input that once gave a raw traceback, "Aborted." or a
silent empty result. ``--debug`` (or ``GMLEARN_DEBUG=1``) shows the traceback.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gmlearn.cli import app
from gmlearn.store import FeatureStore

runner = CliRunner()


def _error_line(res) -> str:
    """The one ``error:`` line of a failed command (asserts exit 2 and no traceback)."""
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "Aborted" not in res.output, res.output
    lines = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, res.output
    return lines[0]


@pytest.fixture(scope="module")
def store(shared_data, tmp_path_factory) -> Path:
    """A 60-record feature store ingested from the real NZSMD flatfile."""
    import warnings

    raw = pd.read_csv(shared_data / "nzsmd_flatfile/NZdatabase_flatfile_PSA_05pc.csv.gz", nrows=60)
    folder = tmp_path_factory.mktemp("errors")
    raw.to_csv(folder / "nz.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = runner.invoke(app, ["data", "ingest", str(folder / "nz.csv"), "--store", str(folder / "store")])
    assert res.exit_code == 0, res.output
    return folder / "store"


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    return save_model(OpenQuakeGMPE("BooreEtAl2014"), tmp_path_factory.mktemp("model") / "bssa14")


def _copy_store(store: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(store, target)
    return target


def _part(store: Path, name: str) -> Path:
    return next(store.glob(f"data/{name}-*.parquet"))


def _truncated(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


def _corrupt_part(store, shared_data, tmp_path):
    st = _copy_store(store, tmp_path)
    part = _part(st, "records")
    part.write_bytes(part.read_bytes()[:300])
    return ["data", "describe", str(st)], f"part file {part.relative_to(st)}"


def _missing_part(store, shared_data, tmp_path):
    st = _copy_store(store, tmp_path)
    part = _part(st, "events")
    part.unlink()
    return (["train", "--data", str(st), "--imts", "PGA", "--tectonic-region", "", "-o", str(tmp_path / "model")],
            f"part file {part.relative_to(st)} is missing")


def _truncated_catalog(store, shared_data, tmp_path):
    path = _truncated(shared_data / "catalog_geonet_nz/MLNZ20_RapidEvents_2025.csv.gz", tmp_path / "cat.csv.gz")
    return ["catalog", "read", str(path)], "cat.csv.gz"


def _truncated_gnss(store, shared_data, tmp_path):
    path = _truncated(shared_data / "gnss_pbo_nam08/pbo.final_nam08.vel.gz", tmp_path / "pbo.vel.gz")
    return ["geodesy", "read", str(path)], "pbo.vel.gz"


def _random_gnss(store, shared_data, tmp_path):
    path = tmp_path / "noise.vel"
    path.write_bytes(os.urandom(4096) + b"\x00")
    return ["geodesy", "read", str(path)], "noise.vel"


def _text_gnss(store, shared_data, tmp_path):
    path = tmp_path / "notes.vel"
    path.write_text("these are meeting notes\nnot a velocity field\n")
    return ["geodesy", "read", str(path)], "no data rows"


def _catalog_one_time(store, shared_data, tmp_path):
    raw = pd.read_csv(shared_data / "catalog_geonet_nz/MLNZ20_RapidEvents_2025.csv.gz", nrows=400, dtype={"#ID": str})
    raw["OT"] = raw["OT"].iloc[0]
    raw.to_csv(tmp_path / "one_time.csv", index=False)
    return ["catalog", "smooth", str(tmp_path / "one_time.csv"), "-o", str(tmp_path / "src.xml")], "spans no time"


def _strain_two_stations(method):
    def build(store, shared_data, tmp_path):
        rows = pd.read_csv(shared_data / "gnss_pbo_nam08/pbo_nam08_velocities_per_station.csv.gz", nrows=2)
        rows.to_csv(tmp_path / "two.csv", index=False)
        return ["geodesy", "strain", str(tmp_path / "two.csv"), "--method", method], "at least 3 distinct stations; got 2"
    return build


def _store_is_a_file(store, shared_data, tmp_path):
    flat = tmp_path / "flat.csv"
    pd.DataFrame({"event_id": ["e1"], "station_id": ["s1"], "mag": [5.0], "rrup": [10.0], "vs30": [400.0],
                  "PGA": [0.1]}).to_csv(flat, index=False)
    return ["data", "ingest", str(flat), "--store", str(flat)], "is a file"


def _unknown_data(store, shared_data, tmp_path):
    return ["train", "--data", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "model")], "nope.csv"


def _noise(name: str, args: list[str], needle: str | None = None):
    """A command given a file of random bytes named ``name``."""
    def build(store, shared_data, tmp_path):
        path = tmp_path / name
        path.write_bytes(b"\xe4\x00" + os.urandom(2000))
        return [a.replace("NOISE", str(path)).replace("TMP", str(tmp_path)) for a in args], needle or name
    return build


CASES = {
    "ingest --store names a file (the input)": _store_is_a_file,
    "train --data that does not exist": _unknown_data,
    "predict on random bytes (CSV)": _noise("rnd.csv", ["predict", "MODEL", "NOISE", "-o", "TMP/p.csv"]),
    "predict on random bytes (Parquet, streamed)": _noise("rnd.parquet", ["predict", "MODEL", "NOISE", "-o", "TMP/p"]),
    "train on random bytes": _noise("rnd.csv", ["train", "--data", "NOISE", "-o", "TMP/model"]),
    "site tf on random bytes": _noise("layers.csv", ["site", "tf", "NOISE", "-o", "TMP/tf.csv"]),
    "geodesy moment-rate on random bytes": _noise("strain.csv", ["geodesy", "moment-rate", "NOISE"]),
    "catalog read on random bytes": _noise("cat.csv", ["catalog", "read", "NOISE"]),
    "catalog hazard on a broken NRML": _noise("src.xml", ["catalog", "hazard", "NOISE", "--site", "174,-41"]),
    "shakemap on a binary rupture file": _noise("rup.json", ["shakemap", "--rupture", "NOISE", "-o", "TMP/map"],
                                                "not UTF-8 text"),
    "corrupt store part": _corrupt_part,
    "missing store part": _missing_part,
    "truncated gz catalogue": _truncated_catalog,
    "truncated gz GNSS file": _truncated_gnss,
    "GNSS file of random bytes": _random_gnss,
    "GNSS file of plain text": _text_gnss,
    "catalog smooth, all events at one time": _catalog_one_time,
    "geodesy strain grid, 2 stations": _strain_two_stations("grid"),
    "geodesy strain triangles, 2 stations": _strain_two_stations("triangles"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_error_is_one_line_exit_2(case, store, shared_data, tmp_path, small_model):
    args, needle = CASES[case](store, shared_data, tmp_path)
    args = [str(small_model) if a == "MODEL" else a for a in args]
    before = {p: p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()}
    line = _error_line(runner.invoke(app, args))
    assert needle in line
    assert not any((tmp_path / name).exists() for name in ("model", "map", "p", "p.csv", "tf.csv"))  # no output
    assert {p: p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()} == before  # nothing touched


def test_debug_flag_and_env_show_the_traceback(store, shared_data, tmp_path, monkeypatch):
    args, needle = _truncated_catalog(store, shared_data, tmp_path)
    for line in (["--debug", *args], [*args, "--debug"]):  # before the command or anywhere after it
        res = runner.invoke(app, line)
        assert res.exit_code == 2 and "Traceback" in res.output and needle in res.output
    monkeypatch.setenv("GMLEARN_DEBUG", "1")
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "Traceback" in res.output


def test_read_only_store(store, tmp_path, monkeypatch):
    """Appending to a store the user may not write: one line naming the file (root ignores chmod, so the OS error is raised)."""
    st = _copy_store(store, tmp_path)
    flat = pd.DataFrame({"event_id": ["e9"], "station_id": ["s9"], "mag": [5.0], "rrup": [10.0], "vs30": [400.0],
                         "PGA": [0.1]})
    flat.to_csv(tmp_path / "more.csv", index=False)
    before = FeatureStore(st).content_hash
    for path in [st, *st.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    if os.geteuid() == 0:
        def refuse(self, *args, **kwargs):
            raise PermissionError(13, "Permission denied", str(st / "manifest.json"))

        monkeypatch.setattr(FeatureStore, "append", refuse)
    try:
        line = _error_line(runner.invoke(app, ["data", "ingest", str(tmp_path / "more.csv"), "--store", str(st)]))
    finally:
        for path in [st, *st.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert "Permission denied" in line and str(st) in line
    assert FeatureStore(st).content_hash == before


@pytest.mark.parametrize(("modules", "args", "extra"), [
    (["torch"], ["waveforms", "generate", "--mag", "6", "--rrup", "10", "--vs30", "400", "-n", "2", "-m", "diffusion"],
     "gmlearn[waveform]"),
    (["dask", "distributed"], ["train", "--data", "nzsmd", "--imts", "PGA", "--scheduler", "local"], "gmlearn[distributed]"),
    (["pymc", "arviz"], ["train", "--data", "nzsmd", "--imts", "PGA", "-m", "bnn"], "gmlearn[bnn]"),
    (["shap"], ["explain", "MODEL", "--data", "nzsmd", "--max-rows", "20", "--imt", "PGA"], "gmlearn[explain]"),
])
def test_missing_optional_dependency_names_the_extra(modules, args, extra, tmp_path, monkeypatch, small_model):
    args = [str(small_model) if a == "MODEL" else a for a in args]
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ModuleNotFoundError
    out = tmp_path / "out"
    line = _error_line(runner.invoke(app, [*args, "-o", str(out)]))
    assert extra in line and "install" in line
    assert not out.exists()


def test_unexpected_exception_is_one_line(monkeypatch, tmp_path):
    from gmlearn import datasets

    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(datasets, "info", broken)
    line = _error_line(runner.invoke(app, ["data", "describe", "nzsmd"]))
    assert "RuntimeError: something inside broke" in line and "--debug" in line


def test_gzip_of_catalogue_is_named_among_several(shared_data, tmp_path):
    good = shared_data / "catalog_geonet_nz/MLNZ20_RapidEvents_2024.csv.gz"
    bad = _truncated(shared_data / "catalog_geonet_nz/MLNZ20_RapidEvents_2025.csv.gz", tmp_path / "broken.csv.gz")
    assert gzip.open(good).read(10)
    line = _error_line(runner.invoke(app, ["catalog", "read", str(good), str(bad)]))
    assert "broken.csv.gz" in line and "2024" not in line


def test_older_option_spellings_still_work(shared_data, tmp_path):
    vel = str(shared_data / "gnss_pbo_nam08/pbo.final_nam08.vel.gz")
    res = runner.invoke(app, ["geodesy", "read", vel, "--output", str(tmp_path / "v.csv")])  # now --out
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(tmp_path / "v.csv")) > 2000
    line = _error_line(runner.invoke(app, ["geodesy", "read", vel, "--out", str(tmp_path / "v.csv")]))
    assert "--overwrite" in line
    res = runner.invoke(app, ["geodesy", "read", vel, "--out", str(tmp_path / "v.csv"), "--overwrite"])
    assert res.exit_code == 0, res.output
