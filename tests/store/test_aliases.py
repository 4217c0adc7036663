"""Reading the world's flatfile layouts through the alias table (gmlearn.store.readers.aliases).

The ESM-2018, eGSIM and NGA-West1 files in tests/store/data are bundled
NGA-West2 records renamed to those layouts (data_recipes/build_flatfile_fixtures.py),
so every value read back can be checked against the bundled dataset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gmlearn import datasets
from gmlearn.exceptions import FlatfileError
from gmlearn.store.readers import read_flatfile, report_of, sniff_format
from gmlearn.store.readers.aliases import COLUMN_ALIASES, G_CM_S2, IMT_PATTERNS, imt_of_pattern
from gmlearn.store.readers.files import read_header

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def bundled() -> pd.DataFrame:
    table = datasets.load("ngawest2_subset")
    return table[table["event_id"].isin(["48", "53", "103"])].reset_index(drop=True)


def test_alias_table_targets_are_vocabulary_or_imts() -> None:
    from gmlearn.schema import COLUMNS

    assert all(a.target in COLUMNS for a in COLUMN_ALIASES.values())
    assert imt_of_pattern("rotD50_T0_200") == ("SA(0.2)", IMT_PATTERNS[2])
    assert imt_of_pattern("rotD50_T10_000")[0] == "SA(10.0)"
    assert imt_of_pattern("T0.010S")[0] == "SA(0.01)" and imt_of_pattern("rotD100_pga") is None


def test_esm2018_layout(bundled: pd.DataFrame) -> None:
    path = DATA / "esm2018_layout.csv"
    assert sniff_format(read_header(path)) == "generic"
    table = read_flatfile(path)
    report = report_of(table)
    assert report["layouts"] == ["esm2018"] and report["rows_kept"] == len(bundled) == len(table)
    # accelerations: cm/s^2 -> g; PGV cm/s
    np.testing.assert_allclose(table["PGA"], bundled["PGA"], atol=2e-4)
    np.testing.assert_allclose(table["SA(1.0)"], bundled["SA(1.0)"], atol=2e-4)
    np.testing.assert_allclose(table["PGV"], bundled["PGV"], atol=2e-4)
    assert report["converted"]["rotD50_pga"] == pytest.approx(1 / G_CM_S2)
    # station id from network.station(.location), location "00" kept as text
    assert table["station_id"].iloc[0] == "CI.S" + bundled["station_id"].iloc[0] + ".00"
    assert table["station_id"].iloc[1] == "CI.S" + bundled["station_id"].iloc[1]
    # EMEC_Mw blank for event 103: filled from Mw
    np.testing.assert_allclose(table["mag"], bundled["mag"])
    assert report["filled"]["mag"] == {"Mw": int((bundled["event_id"] == "103").sum())}
    # two stations have only the Wald-Allen vs30: used, and marked inferred
    np.testing.assert_allclose(table.loc[[1, 4], "vs30"], (bundled.loc[[1, 4], "vs30"] * 1.1).round(1))
    assert not table.loc[[1, 4], "vs30measured"].any() and table["vs30measured"].sum() == len(table) - 2
    # event 53 has no source model: rake from fm_type_code (strike-slip), no finite-fault distances
    ev53 = (table["event_id"] == "NGA_53").to_numpy()
    assert (table.loc[ev53, "rake"] == 0.0).all() and table.loc[ev53, "rrup"].isna().all()
    np.testing.assert_allclose(table.loc[~ev53, "rrup"], bundled.loc[~ev53, "rrup"], atol=1e-3)
    assert {"rotD100_pga", "U_pga", "ML", "ec8_code"} <= set(report["ignored"])
    text = str(report)
    assert "esm2018" in text and "filled mag on 11 row(s) from Mw" in text and "rotD100_pga" in text


def test_egsim_layout(bundled: pd.DataFrame) -> None:
    table = read_flatfile(DATA / "egsim_layout.csv")
    report = report_of(table)
    assert report["layouts"] == ["egsim"]
    assert report["mapped"]["event_id"] == "evt_id" and report["mapped"]["hypo_depth"] == "evt_depth"
    assert list(table["station_id"]) == list(bundled["station_id"])
    np.testing.assert_allclose(table["hypo_lat"], bundled["hypo_lat"])
    np.testing.assert_allclose(table["SA(0.2)"], bundled["SA(0.2)"], atol=1e-5)
    assert report["ignored"] == ["backarc"]


def test_ngawest1_layout(bundled: pd.DataFrame) -> None:
    path = DATA / "ngawest1_layout.csv"
    assert sniff_format(read_header(path)) == "generic"  # not an NGA-West2 layout
    table = read_flatfile(path, sentinels=(-999,))
    report = report_of(table)
    assert report["layouts"] == ["ngawest1"]
    # rake -999 everywhere: derived from the mechanism code (0 SS, 1 normal, 2 reverse)
    expected = np.where((bundled["rake"].abs() <= 30) | (bundled["rake"].abs() >= 150), 0.0,
                        np.where(bundled["rake"] > 0, 90.0, -90.0))
    np.testing.assert_allclose(table["rake"], expected)
    assert table["z1pt0"].isna().all() and report["ignored"] == ["Campbell R Dist. (km)"]
    np.testing.assert_allclose(table["rjb"], bundled["rjb"], atol=1e-3)


def test_kaklamanos_baise_short_names(bundled: pd.DataFrame) -> None:
    frame = pd.DataFrame({
        "event_id": bundled["event_id"], "station_id": bundled["station_id"], "M": bundled["mag"],
        "Rrup": bundled["rrup"], "Rjb": bundled["rjb"], "Rx": bundled["rx"], "Rhyp": bundled["rhypo"],
        "Ztor": bundled["ztor"], "W": bundled["width"], "Zhyp": bundled["hypo_depth"], "dip": bundled["dip"],
        "Vs30": bundled["vs30"], "VsFlag": 1, "Z1.0": 300.0, "Z2.5": 1.2, "PGA": np.exp(bundled["PGA"]),
    })
    table = read_flatfile(frame)
    assert report_of(table)["layouts"] == ["kaklamanos-baise"]
    np.testing.assert_allclose(table["width"], bundled["width"])
    assert table["vs30measured"].all() and (table["z2pt5"] == 1.2).all() and (table["z1pt0"] == 300.0).all()
    np.testing.assert_allclose(table["hypo_depth"], bundled["hypo_depth"])


def test_two_primary_names_conflict() -> None:
    frame = pd.DataFrame({"evt_id": [1], "ev_id": [2], "sta_id": ["a"], "mag": [6.0], "vs30": [400.0],
                          "rjb": [10.0], "PGA": [0.1]})
    with pytest.raises(FlatfileError, match="both give 'event_id'"):
        read_flatfile(frame)


# --- coordinates against the file's own repi ------------------------------------------------------


def _with_typo(tmp_path: Path) -> tuple[Path, str]:
    raw = pd.read_csv(DATA / "esm2018_layout.csv", sep=";", dtype=str, keep_default_na=False)
    raw.loc[5, "st_latitude"] = str(float(raw.loc[5, "st_latitude"]) + 2.0)  # a latitude typo: ~220 km
    path = tmp_path / "esm_typo.csv"
    raw.to_csv(path, sep=";", index=False)
    return path, "NGA_48_CI.S" + raw.loc[5, "station_code"][1:], float(raw.loc[5, "epi_dist"])


def test_latitude_typo_is_refused_with_both_coordinates_and_distances(tmp_path: Path) -> None:
    path, record, repi = _with_typo(tmp_path)
    with pytest.raises(FlatfileError) as info:
        read_flatfile(path)
    err, text = info.value, str(info.value)
    assert err.row == 6 and err.column == "epi_dist" and err.value == pytest.approx(repi)
    for part in (record, "station at (lat 39.", "lon -121.", "hypocentre at (lat 37.", f"repi ('epi_dist') is {repi:.1f} km",
                 "great circle", "on_distance_mismatch='drop'"):
        assert part in text, part


def test_latitude_typo_dropped_and_counted(tmp_path: Path) -> None:
    path, record, _ = _with_typo(tmp_path)
    table = read_flatfile(path, on_distance_mismatch="drop")
    report = report_of(table)
    assert len(table) == 27 and record not in set(table["record_id"])
    assert report["dropped_records"] == [record] and sum(report["dropped"].values()) == 1
    assert "dropped 1 row(s)" in str(report)


def test_distance_check_runs_for_every_reader(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "ngawest2_flatfile_subsets" / "gmpe_smtk_ngawest2_flatfile_sample_fixedheader.csv.gz"
    ok = read_flatfile(src, imts=["PGA"])
    assert report_of(ok)["format"] == "ngawest2" and report_of(ok)["rows_kept"] == len(ok)
    raw = pd.read_csv(src, dtype=str, keep_default_na=False)
    col = "Station Latitude (deg positive N)"
    raw.loc[0, col] = str(float(raw.loc[0, col]) + 2.0)
    bad = tmp_path / "smtk_typo.csv"
    raw.to_csv(bad, index=False)
    with pytest.raises(FlatfileError, match="great circle"):
        read_flatfile(bad, imts=["PGA"])
    dropped = read_flatfile(bad, imts=["PGA"], on_distance_mismatch="drop")
    assert len(dropped) == len(ok) - 1 and len(report_of(dropped)["dropped_records"]) == 1
    with pytest.raises(ValueError, match="'on_distance_mismatch'"):
        read_flatfile(bad, imts=["PGA"], on_distance_mismatch="ignore")


def test_cli_ingest_prints_the_report(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gmlearn.cli import app

    result = CliRunner().invoke(app, ["data", "ingest", str(DATA / "esm2018_layout.csv"), "--store", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "layout esm2018" in out and "filled mag on 11 row(s) from Mw" in out and "ignored (6)" in out
    from gmlearn.store import FeatureStore

    frame = FeatureStore(tmp_path / "s").to_frame(dropna=False)
    assert frame["rrup_estimated"].sum() == 7 and frame.loc[frame["rrup_estimated"], "rrup"].notna().all()


def test_incomplete_records_dropped_on_request(tmp_path: Path) -> None:
    raw = pd.read_csv(DATA / "esm2018_layout.csv", sep=";", dtype=str, keep_default_na=False)
    raw.loc[2, ["EMEC_Mw", "Mw"]] = ""  # only ML: no moment magnitude
    raw.loc[7, "vs30_m_sec"] = raw.loc[7, "vs30_m_sec_WA"] = ""
    path = tmp_path / "esm_gaps.csv"
    raw.to_csv(path, sep=";", index=False)
    with pytest.raises(FlatfileError, match="'mag' is missing") as info:
        read_flatfile(path)
    assert info.value.row == 3 and info.value.column == "EMEC_Mw"
    table = read_flatfile(path, drop_incomplete=True)
    report = report_of(table)
    assert len(table) == 26 and report["rows_read"] == 28 and report["rows_kept"] == 26
    assert list(report["dropped"].values()) == [2] and "mag ('EMEC_Mw'): 1" in next(iter(report["dropped"]))
    assert len(report["dropped_records"]) == 2 and report["dropped_records"][0].startswith("NGA_48_CI.S")
