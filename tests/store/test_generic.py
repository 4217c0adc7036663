"""Tests of gmlearn.store.readers.generic, of validation through it, and of read_flatfile."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import FlatfileError, MissingColumnError, SchemaError
from gmlearn.store.readers import READERS, read_flatfile, read_generic, sniff_format


@pytest.fixture(scope="module")
def data_dir() -> Path:
    """shared/data next to the repository (as on the dev machine and in CI)."""
    path = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ngawest2_flatfile_subsets"
    if not path.is_dir():
        pytest.skip(f"NGA-West2 subsets not found at {path}")
    return path


def _frame() -> pd.DataFrame:
    """Four records of RSN 1-4 of NGA-West2 (values from the SimCenter file), vocabulary names."""
    return pd.DataFrame(
        {
            "event_id": ["1", "2", "2", "3"],
            "station_id": ["197", "75", "76", "75"],
            "mag": [6.0, 6.5, 6.5, 6.9],
            "rrup": [2.86, 12.7, 5.8, 16.0],
            "rjb": [2.07, 12.0, 5.1, 15.5],
            "vs30": [593.35, 213.44, 221.78, 213.44],
            "PGA": [0.15702, 0.3, 0.25, 0.2],
            "PGV": [10.054, 30.0, 28.0, 20.0],
            "SA(0.2)": [0.25691, 0.6, 0.5, 0.4],
            "SA(1)": [0.101136, 0.2, 0.18, 0.15],
        }
    )


def _write(frame: pd.DataFrame, tmp_path: Path, name: str = "flatfile.csv") -> Path:
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name", ["flatfile.csv", "flatfile.csv.gz", "flatfile.parquet"])
def test_reads_vocabulary_columns(tmp_path: Path, name: str) -> None:
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    table = read_generic(_write(_frame(), tmp_path, name))
    assert list(table["record_id"]) == ["1_197", "2_75", "2_76", "3_75"]
    assert [c for c in table.columns if c.startswith(("PG", "SA("))] == ["PGA", "PGV", "SA(0.2)", "SA(1.0)"]
    assert table.loc[0, "PGA"] == pytest.approx(np.log(0.15702))
    assert table.loc[0, "SA(1.0)"] == pytest.approx(np.log(0.101136))
    assert table.loc[0, "rrup"] == pytest.approx(2.86) and table["event_id"].tolist() == ["1", "2", "2", "3"]
    assert table.attrs["ignored_columns"] == [] and table.attrs["source"].endswith(name)


def test_dataframe_input_is_not_modified() -> None:
    frame = _frame()
    before = frame.copy()
    table = read_generic(frame, log_values=False)
    pd.testing.assert_frame_equal(frame, before)
    assert table.attrs["source"] == "<DataFrame>" and len(table) == 4


def test_egsim_aliases_and_ignored_columns() -> None:
    frame = _frame().rename(columns={"mag": "magnitude"})
    frame["event_depth"] = [6.0, 10.0, 10.0, 12.0]
    frame["station_latitude"] = [46.58, 34.0, 34.1, 34.0]
    frame["z1"] = [np.nan, 300.0, 280.0, 300.0]
    frame["notes"] = ["a", "b", "c", "d"]
    table = read_generic(frame)
    assert table["mag"].tolist() == [6.0, 6.5, 6.5, 6.9]
    assert table["hypo_depth"].iloc[1] == 10.0 and table["lat"].iloc[0] == 46.58 and table["z1pt0"].iloc[1] == 300.0
    assert table.attrs["ignored_columns"] == ["notes"]
    assert table.attrs["source_columns"]["mag"] == "magnitude"


def test_vocabulary_name_beats_alias() -> None:
    frame = _frame()
    frame["magnitude"] = [1.0, 1.0, 1.0, 1.0]
    table = read_generic(frame)
    assert table["mag"].tolist() == [6.0, 6.5, 6.5, 6.9] and table.attrs["ignored_columns"] == ["magnitude"]


def test_mapping_for_other_names() -> None:
    frame = _frame().rename(columns={"mag": "Mw", "rrup": "Rrup_km", "SA(1)": "psa_1s"})
    table = read_generic(frame, mapping={"mag": "Mw", "rrup": "Rrup_km", "SA(1)": "psa_1s"})
    assert table["mag"].iloc[3] == 6.9 and table["SA(1.0)"].iloc[0] == pytest.approx(np.log(0.101136))
    assert table.attrs["ignored_columns"] == []


def test_bad_mapping_key() -> None:
    with pytest.raises(SchemaError, match="'magnitude_w'"):
        read_generic(_frame(), mapping={"magnitude_w": "mag"})


def test_two_columns_for_one_imt() -> None:
    frame = _frame()
    frame["SA(1.0)"] = frame["SA(1)"]
    with pytest.raises(FlatfileError, match=r"'SA\(1\)' and 'SA\(1\.0\)' both give 'SA\(1\.0\)'"):
        read_generic(frame)


def test_log_values_and_sentinels() -> None:
    frame = _frame()
    linear = read_generic(frame)
    logs = frame.copy()
    for col in ("PGA", "PGV", "SA(0.2)", "SA(1)"):
        logs[col] = np.log(logs[col])
    logs.loc[2, "SA(1)"] = -999.0
    logs.loc[1, "rjb"] = -999.0
    table = read_generic(logs, log_values=True, sentinels=(-999.0,))
    np.testing.assert_allclose(table["PGV"], linear["PGV"], rtol=1e-12)
    assert np.isnan(table.loc[2, "SA(1.0)"]) and np.isnan(table.loc[1, "rjb"])


def test_pgv_in_metres_per_second() -> None:
    frame = _frame()
    frame["PGV"] = frame["PGV"] / 100.0
    table = read_generic(frame, pgv_unit="m/s")
    assert table.loc[0, "PGV"] == pytest.approx(np.log(10.054))


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.xlsx"):
        read_generic(tmp_path / "flatfile.xlsx")


# --- validation errors through the reader: type, file, column, row and value ------------------


def _set(column: str, row: int, value: Any) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        frame.loc[row - 1, column] = value
        return frame

    return change


def _pgv_in_m_per_s(frame: pd.DataFrame) -> pd.DataFrame:
    frame["PGV"] = frame["PGV"] / 100.0
    return frame


def _duplicate_record(frame: pd.DataFrame) -> pd.DataFrame:
    frame.insert(0, "record_id", ["r1", "r2", "r1", "r4"])
    return frame


BAD_INPUTS = {
    "non-numeric distance": (_set("rrup", 3, "abc"), "rrup", 3, "abc"),
    "negative distance": (_set("rjb", 2, -1.5), "rjb", 2, -1.5),
    "magnitude 11": (_set("mag", 4, 11.0), "mag", 4, 11.0),
    "duplicate record id": (_duplicate_record, "record_id", 3, "r1"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_value_names_file_column_row_value(tmp_path: Path, case: str) -> None:
    change, column, row, value = BAD_INPUTS[case]
    path = _write(change(_frame()), tmp_path)
    with pytest.raises(FlatfileError) as info:
        read_generic(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.file, err.column, err.row) == (str(path), column, row)
    assert err.value == value or str(err.value) == str(value)
    text = str(err)
    assert str(path) in text and f"column {column!r}" in text and f"row {row}" in text and str(value) in text


def test_pgv_given_in_m_per_s_while_declared_cm_per_s(tmp_path: Path) -> None:
    frame = _pgv_in_m_per_s(_frame())
    path = _write(frame, tmp_path)
    with pytest.raises(FlatfileError, match="m/s") as info:
        read_generic(path)  # pgv_unit defaults to cm/s
    err = info.value
    assert (err.file, err.column) == (str(path), "PGV") and 1 <= err.row <= len(frame)
    assert err.value == pytest.approx(frame["PGV"].iloc[err.row - 1])
    assert str(path) in str(err) and f"row {err.row}" in str(err) and "PGV" in str(err)


def test_missing_required_column_names_it_and_lists_given(tmp_path: Path) -> None:
    path = _write(_frame().drop(columns="vs30"), tmp_path)
    with pytest.raises(MissingColumnError) as info:
        read_generic(path)
    text = str(info.value)
    assert isinstance(info.value, KeyError)
    assert str(path) in text and "'vs30'" in text and "'rrup'" in text  # names it, lists what was given


def test_mapped_column_absent(tmp_path: Path) -> None:
    path = _write(_frame(), tmp_path)
    with pytest.raises(MissingColumnError, match="'Mw'"):
        read_generic(path, mapping={"mag": "Mw"})


# --- registry and format sniffing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["Record Sequence Number", "EQID", "ClstD (km)"], "ngawest2"),
        (["RecId", "EqId", "ClstD"], "ngawest2"),
        (["CuspID", "Record", "f1.0000SA_RotD50"], "nzsmd"),
        (["CuspID", "mag"], "generic"),
        (["event_id", "station_id", "mag", "PGA"], "generic"),
    ],
)
def test_sniff_format(columns: list[str], expected: str) -> None:
    assert sniff_format(columns) == expected


def test_read_flatfile_picks_the_reader(data_dir: Path, tmp_path: Path) -> None:
    assert {"ngawest2", "generic"} <= set(READERS)
    smtk = read_flatfile(data_dir / "gmpe_smtk_ngawest2_flatfile_sample_fixedheader.csv.gz", imts=["PGA"])
    assert smtk.attrs["format"] == "ngawest2" and len(smtk) == 98
    generic = read_flatfile(_write(_frame(), tmp_path))
    assert generic.attrs["format"] == "generic" and len(generic) == 4
    assert read_flatfile(_frame()).attrs["format"] == "generic"
    with pytest.raises(ValueError, match="'format' parameter"):
        read_flatfile(_frame(), format="esm")


def test_generic_reads_a_real_flatfile_with_a_mapping(data_dir: Path) -> None:
    mapping = {
        "record_id": "Record Sequence Number",
        "event_id": "EQID",
        "station_id": "Station ID",
        "mag": "Magnitude",
        "rrup": "Rupture Distance (km)",
        "vs30": "Preferred Vs30 (m/s)",
        "PGA": "PGA (g)",
    }
    path = data_dir / "gmpe_smtk_ngawest2_flatfile_sample_fixedheader.csv.gz"
    with pytest.raises(FlatfileError, match="positive") as info:
        read_generic(path, mapping=mapping)  # RSN 29 has PGA -999
    assert (info.value.column, info.value.row, info.value.value) == ("PGA (g)", 29, -999.0)
    table = read_generic(path, mapping=mapping, sentinels=(-999,))
    assert len(table) == 98 and table.loc[0, "PGA"] == pytest.approx(np.log(0.15702))
    assert np.isnan(table.loc[28, "PGA"])
    assert "Joyner-Boore Distance (km)" in table.attrs["ignored_columns"]
