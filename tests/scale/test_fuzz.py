"""Fuzzing (hypothesis) of every flatfile reader, of ``to_canonical`` and of ``predict``.

Each case either raises a documented gmlearn exception or returns an answer that
passes the vocabulary's checks; a crash (any other exception) or a silent wrong
answer (NaN, inf or out-of-range values accepted) fails the test. Seeds are real
rows of the shared NZSMD and NGA-West2 flatfiles, mutated cell by cell.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmlearn.exceptions import GMLearnError, MissingColumnError, ModelError
from gmlearn.schema import COLUMNS, IMT_LN_RANGE, TECTONIC_REGIONS, is_imt, parse_imt
from gmlearn.store.readers import read_flatfile
from gmlearn.store.validation import to_canonical

SEEDS = {
    "nzsmd": "nzsmd_flatfile/NZdatabase_flatfile_PSA_05pc.csv.gz",
    "ngawest2-smtk": "ngawest2_flatfile_subsets/gmpe_smtk_ngawest2_flatfile_sample_fixedheader.csv.gz",
    "ngawest2-simcenter": "ngawest2_flatfile_subsets/simcenter_NGAWest2-1000.csv.gz",
}
#: Replacement cell values: blanks, NaN, infinities, negatives, sentinels, huge, text, odd unicode.
NASTY = ["", "nan", "NaN", "inf", "-inf", "-1", "-999", "-99999", "0", "1e308", "-1e308", "1e999", "abc",
         " 5 ", "True", "∞", "１２", "1,5", "0x10", "None", "\t", "'; DROP TABLE records; --", "9" * 400]
FUZZ_ERRORS = (GMLearnError, FileNotFoundError)


def _check_canonical(out: pd.DataFrame) -> None:
    """An accepted table must be right: ids unique and present, values finite and in range."""
    assert isinstance(out, pd.DataFrame)
    for key in ("event_id", "station_id", "record_id"):
        assert out[key].notna().all() and (out[key].astype(str) != "").all(), key
    assert not out["record_id"].duplicated().any()
    for name in ("mag", "vs30"):
        assert np.isfinite(out[name].to_numpy(dtype=float)).all(), name
    for name in out.columns:
        col = COLUMNS.get(name)
        if col is not None and col.dtype == "float64":
            values = out[name].to_numpy(dtype=float)
            assert not np.isinf(values).any(), name
            finite = values[np.isfinite(values)]
            lo = -math.inf if col.min is None else col.min
            hi = math.inf if col.max is None else col.max
            assert ((finite >= lo) & (finite <= hi)).all(), name
        elif is_imt(str(name)):
            values = out[name].to_numpy(dtype=float)
            lo, hi = IMT_LN_RANGE[parse_imt(name).name]
            assert not np.isinf(values).any(), name
            finite = values[np.isfinite(values)]
            assert ((finite >= lo) & (finite <= hi)).all(), name
    assert set(out["tectonic_region"]) <= set(TECTONIC_REGIONS)


@pytest.fixture(scope="module")
def seeds(shared_data) -> dict[str, pd.DataFrame]:
    frames = {k: pd.read_csv(shared_data / v, dtype=str, nrows=6, keep_default_na=False) for k, v in SEEDS.items()}
    frames["generic"] = pd.DataFrame({
        "event_id": ["1", "2", "2", "3"], "station_id": ["197", "75", "76", "75"], "mag": ["6.0", "6.5", "6.5", "6.9"],
        "rrup": ["2.86", "12.7", "5.8", "16.0"], "rjb": ["2.07", "12.0", "5.1", "15.5"],
        "vs30": ["593.35", "213.44", "221.78", "213.44"], "PGA": ["0.157", "0.3", "0.25", "0.2"],
        "PGV": ["10.05", "30.0", "28.0", "20.0"], "SA(1)": ["0.10", "0.2", "0.18", "0.15"],
    })
    return frames


@st.composite
def mutations(draw):
    """Cell edits, dropped columns, duplicated or removed rows, a renamed column."""
    return {
        "cells": draw(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000), st.sampled_from(NASTY)), max_size=8)),
        "drop": draw(st.lists(st.integers(0, 10_000), max_size=2)),
        "rows": draw(st.sampled_from(["keep", "keep", "empty", "duplicate", "first"])),
        "rename": draw(st.one_of(st.none(), st.tuples(st.integers(0, 10_000), st.sampled_from(["", "SA(1)", "mag", "x y"])))),
        "format": draw(st.sampled_from(["auto", "own"])),
    }


def _mutate(frame: pd.DataFrame, m: dict) -> pd.DataFrame:
    df = frame.copy()
    ncol = df.shape[1]
    for row, col, value in m["cells"]:
        if len(df):
            df.iat[row % len(df), col % ncol] = value
    if m["rows"] == "empty":
        df = df.iloc[:0]
    elif m["rows"] == "duplicate":
        df = pd.concat([df, df.iloc[:1]], ignore_index=True)
    elif m["rows"] == "first":
        df = df.iloc[:1]
    if m["rename"] is not None:
        cols = list(df.columns)
        cols[m["rename"][0] % ncol] = m["rename"][1]
        df.columns = cols
    drop = sorted({i % ncol for i in m["drop"]})
    return df.drop(columns=[df.columns[i] for i in drop if i < df.shape[1]])


@pytest.mark.parametrize("reader", sorted([*SEEDS, "generic"]))
def test_readers_fuzz(reader, seeds, tmp_path_factory, fuzz_counter):
    folder = tmp_path_factory.mktemp(f"fuzz-{reader}")
    fmt = {"nzsmd": "nzsmd", "generic": "generic"}.get(reader, "ngawest2")

    @given(m=mutations())
    def run(m):
        path = folder / "flatfile.csv"
        _mutate(seeds[reader], m).to_csv(path, index=False)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = read_flatfile(path, format=fmt if m["format"] == "own" else "auto")
        except FUZZ_ERRORS:
            fuzz_counter(f"read_flatfile[{reader}]", "rejected")
            return
        _check_canonical(out)
        fuzz_counter(f"read_flatfile[{reader}]", "accepted")

    run()


@pytest.mark.parametrize("content", [b"", b"\x00\xff\xfe garbage", b"a,b\n\"unclosed,1\n", "é,ü\n1,2\n".encode("latin-1")])
def test_readers_on_broken_files(content, tmp_path, fuzz_counter):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    for fmt in ("auto", "nzsmd", "ngawest2", "generic"):
        with pytest.raises(FUZZ_ERRORS):
            read_flatfile(path, format=fmt)
        fuzz_counter("read_flatfile[broken files]", "rejected")


CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30), st.text(max_size=6),
    st.none(), st.booleans(), st.sampled_from(NASTY),
)
GOOD = {"event_id": "e", "station_id": "s", "mag": 6.0, "vs30": 400.0, "rrup": 10.0, "PGA": 0.1, "SA(1)": 0.05, "PGV": 8.0}


@given(data=st.data(), n=st.integers(0, 6))
def test_to_canonical_fuzz(data, n, fuzz_counter):
    raw = {}
    for name, good in GOOD.items():
        if data.draw(st.booleans(), label=f"garble {name}"):
            raw[name] = data.draw(st.lists(CELLS, min_size=n, max_size=n), label=name)
        else:
            raw[name] = [f"{good}{i}" if isinstance(good, str) else good * (1 + i / 10) for i in range(n)]
    frame = pd.DataFrame(raw, dtype=object)
    columns = {k: k for k in ("event_id", "station_id", "mag", "vs30", "rrup")}
    try:
        out = to_canonical(frame, columns, {"PGA": "PGA", "SA(1.0)": "SA(1)", "PGV": "PGV"}, file="fuzz")
    except GMLearnError:
        fuzz_counter("to_canonical", "rejected")
        return
    _check_canonical(out)
    fuzz_counter("to_canonical", "accepted")


FEATURE_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 1e6), st.floats(-1e300, 1e300),
    st.integers(-10, 10**6), st.sampled_from(NASTY), st.booleans(), st.none(),
)


@st.composite
def feature_tables(draw, features: tuple[str, ...], valid: dict[str, tuple[float, float]]):
    """Tables of the model's features: mostly valid values, some columns garbled, dropped or typed oddly."""
    n = draw(st.integers(0, 8))
    table = {}
    for name in features:
        mode = draw(st.sampled_from(["valid", "valid", "valid", "garbled", "drop", "text", "bool"]))
        lo, hi = valid[name]
        good = draw(st.lists(st.floats(lo, hi), min_size=n, max_size=n))
        if mode == "valid":
            table[name] = good
        elif mode == "garbled":
            table[name] = pd.Series(draw(st.lists(FEATURE_VALUES, min_size=n, max_size=n)), dtype=object)
        elif mode == "text":
            table[name] = [repr(v) for v in good]
        elif mode == "bool":
            table[name] = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return pd.DataFrame(table, index=range(n))


def _numeric(table: pd.DataFrame, features) -> pd.DataFrame:
    return pd.DataFrame({f: pd.to_numeric(table[f]).astype(float) for f in features})


def _check_prediction(model, table, imts, target, fuzz_counter):
    before = table.copy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = model.predict(table, imts)
    except (ValueError, MissingColumnError, ModelError) as exc:
        assert isinstance(exc, (GMLearnError, ValueError))
        fuzz_counter(target, "rejected")
        return
    finally:
        pd.testing.assert_frame_equal(table, before)  # inputs are never modified
    assert pred.mean.shape == (len(imts), len(table))
    for arr in (pred.mean, pred.tau, pred.phi, pred.sigma):
        assert np.isfinite(arr).all()
    if len(table):  # the same numbers as clean floats give the same answer
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clean = model.predict(_numeric(table, model.required_features), imts)
        np.testing.assert_array_equal(pred.mean, clean.mean)
    fuzz_counter(target, "accepted")


VALID = {"mag": (3.0, 8.0), "rrup": (0.0, 300.0), "rjb": (0.0, 300.0), "vs30": (150.0, 1500.0), "z1pt0": (0.0, 1000.0),
         "hypo_depth": (0.0, 40.0), "ztor": (0.0, 20.0), "rake": (-180.0, 180.0), "dip": (10.0, 90.0)}


@given(data=st.data())
def test_tree_predict_fuzz(small_tree, data, fuzz_counter):
    table = data.draw(feature_tables(tuple(small_tree.features), VALID))
    _check_prediction(small_tree, table, ["PGA", "SA(1.0)"], "TreeGMM.predict", fuzz_counter)


@pytest.fixture(scope="module")
def bssa():
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    return OpenQuakeGMPE("BooreEtAl2014")


@given(data=st.data())
def test_openquake_predict_fuzz(bssa, data, fuzz_counter):
    table = data.draw(feature_tables(bssa.required_features, VALID))
    _check_prediction(bssa, table, ["PGA", "SA(1.0)", "PGV"], "OpenQuakeGMPE.predict", fuzz_counter)


@pytest.mark.parametrize(("column", "value", "match"), [
    ("mag", True, "'mag'"), ("rrup", -1.0, "'rrup'"), ("vs30", "fast", "'vs30'"), ("rjb", np.inf, "'rjb'"),
    ("rrup", 1e300, r"Allowed: finite numbers in \[0, 20000\] km"), ("mag", None, "'mag'"),
    ("vs30", 1e-5, r"'vs30'.*Allowed: finite numbers in \[50, 5000\] m/s"), ("rake", "90", None),
])
def test_predict_names_the_bad_column(small_tree, nzsmd_crustal, column, value, match):
    table = nzsmd_crustal.iloc[:3].copy()
    table[column] = pd.Series([value, table[column].iloc[1], table[column].iloc[2]], dtype=object)
    if match is None:  # numeric text is a number
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            numeric = table.assign(rake=pd.to_numeric(table["rake"]))
            np.testing.assert_array_equal(small_tree.predict(table).mean, small_tree.predict(numeric).mean)
        return
    with pytest.raises(ValueError, match=match):
        small_tree.predict(table)


@pytest.mark.parametrize("vs30", [0.0, 1e-5, 49.9])
def test_openquake_refuses_impossible_vs30(bssa, nzsmd_crustal, vs30):
    # BSSA14 returns +inf at vs30 = 0 and ln PGA = 7.2 (1300 g) at vs30 = 1e-5: refused before it is called.
    with pytest.raises(ValueError, match="'vs30'"):
        bssa.predict(nzsmd_crustal.iloc[:2].assign(vs30=vs30), "PGA")


def test_predict_empty_and_huge_tables(small_tree, nzsmd_crustal):
    empty = small_tree.predict(nzsmd_crustal.iloc[:0])
    assert empty.mean.shape == (2, 0)
    far = nzsmd_crustal.iloc[:2].assign(rrup=19_999.0, rjb=19_999.0, vs30=4999.0)
    with pytest.warns(Warning, match="outside the training range"):
        pred = small_tree.predict(far)
    assert np.isfinite(pred.mean).all()
