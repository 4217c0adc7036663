"""Tests of gmlearn.store.readers.ngawest2 on the real NGA-West2 subsets in shared/data."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import FlatfileError, MissingColumnError
from gmlearn.store.readers import read_ngawest2

SIMCENTER = "simcenter_NGAWest2-1000.csv.gz"
SMTK = "gmpe_smtk_ngawest2_flatfile_sample_fixedheader.csv.gz"


@pytest.fixture(scope="module")
def data_dir() -> Path:
    """shared/data next to the repository (as on the dev machine and in CI)."""
    path = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ngawest2_flatfile_subsets"
    if not path.is_dir():
        pytest.skip(f"NGA-West2 subsets not found at {path}")
    return path


@pytest.fixture(scope="module")
def simcenter(data_dir: Path) -> pd.DataFrame:
    with pytest.warns(UserWarning, match="dropped 4 of 1000"):
        return read_ngawest2(data_dir / SIMCENTER)


@pytest.fixture(scope="module")
def smtk(data_dir: Path) -> pd.DataFrame:
    return read_ngawest2(data_dir / SMTK)


@pytest.fixture(scope="module")
def tables(simcenter: pd.DataFrame, smtk: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {"simcenter": simcenter, "smtk": smtk}


def test_layouts_and_row_counts(simcenter: pd.DataFrame, smtk: pd.DataFrame) -> None:
    assert (simcenter.attrs["layout"], len(simcenter)) == ("simcenter", 1000 - 4)
    assert (smtk.attrs["layout"], len(smtk)) == ("smtk", 98)
    assert simcenter["record_id"].is_unique and smtk["record_id"].is_unique


def test_records_without_vs30_are_dropped_with_their_rsns(data_dir: Path, simcenter: pd.DataFrame) -> None:
    assert simcenter.attrs["dropped_record_ids"] == ["463", "465", "466", "467"]
    with pytest.warns(UserWarning) as record:
        read_ngawest2(data_dir / SIMCENTER, imts=["PGA"])
    message = str(record[0].message)
    assert "RSN 463, 465, 466, 467" in message and "'Vs30'" in message and SIMCENTER in message


def test_drop_incomplete_false_raises_on_the_first_one(data_dir: Path) -> None:
    with pytest.raises(FlatfileError) as info:
        read_ngawest2(data_dir / SIMCENTER, imts=["PGA"], drop_incomplete=False)
    err = info.value
    assert (err.column, err.row) == ("Vs30", 265)  # RSN 463 is data row 265
    assert SIMCENTER in str(err) and "row 265" in str(err)


@pytest.mark.parametrize(("layout", "sa1"), [("simcenter", 1.0114e-01), ("smtk", 0.101136)])
def test_rsn1_values(tables: dict[str, pd.DataFrame], layout: str, sa1: float) -> None:
    row = tables[layout].set_index("record_id").loc["1"]
    assert row["PGA"] == pytest.approx(np.log(0.15702), abs=1e-12)
    assert row["PGV"] == pytest.approx(np.log(10.054), abs=1e-12)
    assert row["SA(1.0)"] == pytest.approx(np.log(sa1), abs=1e-12)
    assert (row["rrup"], row["rjb"], row["rx"]) == pytest.approx((2.86, 2.07, -2.07))
    assert (row["mag"], row["vs30"], row["hypo_depth"]) == pytest.approx((6.0, 593.35, 6.0))
    assert (row["event_id"], row["station_id"], row["tectonic_region"]) == ("1", "197", "crustal")
    assert row["event_name"] == "Helena, Montana-01"


def test_smtk_rupture_and_site_columns(smtk: pd.DataFrame) -> None:
    row = smtk.set_index("record_id").loc["1"]
    assert (row["ztor"], row["width"], row["length"]) == pytest.approx((1.974, 4.2, 16.2))
    assert (row["strike"], row["dip"], row["rake"]) == pytest.approx((268.0, 75.0, 160.0))
    assert not row["vs30measured"]  # class 2 = inferred
    assert np.isnan(row["z1pt0"]) and np.isnan(row["z2pt5"])  # blank in the file
    assert "ry0" not in smtk  # the file's "Ry0 (km)" is signed Ry, not Ry0
    assert smtk["vs30measured"].sum() == 72


def test_smtk_sentinel_spectra_are_missing(smtk: pd.DataFrame) -> None:
    imts = [c for c in smtk.columns if c in ("PGA", "PGV") or c.startswith("SA(")]
    row = smtk.set_index("record_id").loc["29", imts]  # -999 for every IM in the file
    assert row.isna().all()
    assert smtk[imts].isna().any(axis=1).sum() == 1


def test_smtk_z2pt5_is_converted_to_km(smtk: pd.DataFrame) -> None:
    row = smtk.set_index("record_id").loc["4"]  # Z2.5 (m) = 3140 in the file
    assert row["z2pt5"] == pytest.approx(3.14)
    assert smtk["z2pt5"].max() == pytest.approx(4.62)
    assert smtk["z2pt5"].notna().sum() == 85


@pytest.mark.parametrize("layout", ["simcenter", "smtk"])
def test_canonical_imt_names(tables: dict[str, pd.DataFrame], layout: str) -> None:
    imts = [c for c in tables[layout].columns if c in ("PGA", "PGV") or c.startswith("SA(")]
    assert imts[:4] == ["PGA", "PGV", "SA(0.01)", "SA(0.02)"]
    assert imts[-1] == "SA(20.0)" and "SA(1.0)" in imts and len(imts) == 2 + 111
    assert not any(c.startswith("T") and c.endswith("S") for c in tables[layout].columns)


def test_layouts_agree_on_shared_records(simcenter: pd.DataFrame, smtk: pd.DataFrame) -> None:
    cols = ["event_id", "station_id", "mag", "vs30", "rrup", "rjb", "lat", "lon", "PGA", "SA(1.0)"]
    both = simcenter[["record_id", *cols]].merge(smtk[["record_id", *cols]], on="record_id")
    assert len(both) == 50
    for col in ("event_id", "station_id"):
        assert (both[f"{col}_x"] == both[f"{col}_y"]).all()
    for col in ("mag", "vs30", "rrup", "rjb", "lat", "lon"):
        np.testing.assert_allclose(both[f"{col}_x"], both[f"{col}_y"], atol=1e-6)
    # SimCenter rounds spectra to 5 significant digits
    np.testing.assert_allclose(both["SA(1.0)_x"], both["SA(1.0)_y"], atol=1e-4)


@pytest.mark.parametrize("layout", ["simcenter", "smtk"])
def test_one_station_has_one_set_of_attributes(tables: dict[str, pd.DataFrame], layout: str) -> None:
    table = tables[layout]
    counts = table.groupby("station_id")[["vs30", "lat", "lon"]].nunique(dropna=False)
    assert (counts <= 1).all().all()
    assert table.groupby("event_id")["mag"].nunique().max() == 1


def test_imts_subset(data_dir: Path) -> None:
    table = read_ngawest2(data_dir / SMTK, imts=["SA(1)", "PGA"])
    assert [c for c in table.columns if c == "PGA" or c.startswith("SA(")] == ["PGA", "SA(1.0)"]


def test_unknown_imt_is_named(data_dir: Path) -> None:
    with pytest.raises(FlatfileError, match=r"SA\(0\.3333\)") as info:
        read_ngawest2(data_dir / SMTK, imts=["PGA", "SA(0.3333)"])
    assert SMTK in str(info.value)


def test_unknown_layout_names_file_and_headers(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    pd.DataFrame({"rsn": [1], "Mw": [6.0]}).to_csv(path, index=False)
    with pytest.raises(FlatfileError) as info:
        read_ngawest2(path)
    text = str(info.value)
    assert "other.csv" in text and "RecId" in text and "Record Sequence Number" in text and "ClstD (km)" in text


def test_bad_layout_parameter(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="'layout' parameter"):
        read_ngawest2(data_dir / SMTK, layout="esm")


def test_forced_layout_lists_missing_columns(data_dir: Path) -> None:
    with pytest.raises(MissingColumnError) as info:
        read_ngawest2(data_dir / SMTK, layout="peer")
    assert "Vs30 (m/s) selected for analysis" in str(info.value) and SMTK in str(info.value)


# --- the full PEER layout (file not available here: synthetic rows, real headers) ----------

PEER_ROWS = {
    "Record Sequence Number": [1, 2, 3, 4],
    "EQID": [1, 1, 2, 2],
    "Earthquake Name": ["Helena, Montana-01", "Helena, Montana-01", "Test B", "Test B"],
    "YEAR": [1935, 1935, 2000, 2000],
    "Station Name": ["Carroll College", "Helena Fed Bldg", "Sta C", "Sta D"],
    "Station Sequence Number": [197, 198, 300, 301],
    "Station ID  No.": [2022, 2229, -999, -999],
    "Earthquake Magnitude": [6.0, 6.0, 5.5, 5.5],
    "Strike (deg)": [268.0, 268.0, -999.0, -999.0],
    "Dip (deg)": [75.0, 75.0, 90.0, 90.0],
    "Rake Angle (deg)": [160.0, 160.0, 0.0, 0.0],
    "Mechanism Based on Rake Angle": [0, 0, 0, 0],
    "Hypocenter Latitude (deg)": [46.61, 46.61, 36.0, 36.0],
    "Hypocenter Longitude (deg)": [-111.96, -111.96, -120.0, -120.0],
    "Hypocenter Depth (km)": [6.0, 6.0, 8.0, 8.0],
    "Depth to Top Of Fault Rupture Model": [1.974, 1.974, -999.0, -999.0],
    "Fault Rupture Length for Calculation of Ry (km)": [16.2, 16.2, -999.0, -999.0],
    "Fault Rupture Width (km)": [4.2, 4.2, -999.0, -999.0],
    "EpiD (km)": [6.31, 6.38, 20.0, 40.0],
    "HypD (km)": [8.71, 8.76, 21.5, 40.8],
    "Joyner-Boore Dist. (km)": [2.07, 2.92, -999.0, 39.0],
    "Campbell R Dist. (km)": [3.36, 3.88, -999.0, -999.0],
    "ClstD (km)": [2.86, 3.36, 19.0, 39.5],
    "Rx": [-2.07, 2.92, -999.0, -999.0],
    "Ry 2": [8.05, 7.9, -999.0, -999.0],
    "Preferred NEHRP Based on Vs30": ["C", "B", "-999", "D"],
    "Vs30 (m/s) selected for analysis": [593.35, 551.82, 300.0, -999.0],
    "Measured/Inferred Class": [2, 0, -999, 1],
    "Station Latitude": [46.58, 46.59, 36.1, 36.2],
    "Station Longitude": [-112.03, -112.04, -120.1, -120.2],
    "Northern CA/Southern CA - H11 Z1 (m)": [-999.0, -999.0, 250.0, 300.0],
    "Northern CA/Southern CA - H11 Z2.5 (m)": [-999.0, -999.0, 1500.0, 1800.0],
    "Lowest Usable Freq - Ave. Component (Hz)": [0.1625, 0.25, 0.1, 0.1],
    "PGA (g)": [0.15702, 0.0885, 0.05, 0.03],
    "PGV (cm/sec)": [10.054, 8.1, 4.0, 2.5],
    "PGD (cm)": [3.0052, 1.1, 0.5, 0.3],
    "T0.010S": [0.161934, 0.09, 0.051, 0.031],
    "T1.000S": [0.101136, 0.05, -999.0, 0.01],
    "T20.000S": [0.00029478, 0.0002, -999.0, -999.0],
}


@pytest.fixture
def peer_csv(tmp_path: Path) -> Path:
    path = tmp_path / "Updated_NGA_West2_Flatfile_RotD50_d050_public_version.csv"
    pd.DataFrame(PEER_ROWS).to_csv(path, index=False)
    return path


def test_peer_layout(peer_csv: Path) -> None:
    with pytest.warns(UserWarning, match=r"dropped 1 of 4 .*RSN 4 \(rows 4\)"):
        table = read_ngawest2(peer_csv)
    assert table.attrs["layout"] == "peer" and list(table["record_id"]) == ["1", "2", "3"]
    assert list(table["station_id"]) == ["197", "198", "300"]  # station sequence number
    assert list(table["vs30measured"]) == [False, True, False]  # class 0 = measured
    first = table.iloc[0]
    assert (first["ztor"], first["width"], first["length"]) == pytest.approx((1.974, 4.2, 16.2))
    assert first["PGV"] == pytest.approx(np.log(10.054)) and first["SA(1.0)"] == pytest.approx(np.log(0.101136))
    third = table.iloc[2]  # -999 sentinels are missing values
    for col in ("strike", "ztor", "width", "rjb", "rx", "SA(1.0)", "SA(20.0)"):
        assert np.isnan(third[col]), col
    assert pd.isna(third["site_class"]) and third["z2pt5"] == pytest.approx(1.5) and third["z1pt0"] == 250.0
    assert set(table["tectonic_region"]) == {"crustal"} and "ry0" not in table
    imts = [c for c in table.columns if c.startswith(("PG", "SA("))]
    assert imts == ["PGA", "PGV", "SA(0.01)", "SA(1.0)", "SA(20.0)"]


def test_peer_station_conflict_is_an_error(tmp_path: Path) -> None:
    rows = pd.DataFrame(PEER_ROWS).iloc[:2].copy()
    rows["Station Sequence Number"] = [197, 197]  # same station, two vs30 values
    path = tmp_path / "conflict.csv"
    rows.to_csv(path, index=False)
    with pytest.raises(FlatfileError) as info:
        read_ngawest2(path)
    err = info.value
    assert (err.column, err.row, err.value) == ("Vs30 (m/s) selected for analysis", 2, 551.82)
    assert "'197'" in str(err) and "conflict.csv" in str(err) and "row 1" in str(err)


def test_no_warning_when_nothing_is_dropped(data_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_ngawest2(data_dir / SMTK, imts=["PGA"])
