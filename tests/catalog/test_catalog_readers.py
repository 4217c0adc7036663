import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from gmlearn.catalog.frame import CATALOG_COLUMNS, CatalogWarning, catalog_report, describe_catalog
from gmlearn.catalog.readers import (
    read_catalog,
    read_comcat,
    read_mlnz20,
    read_quakeml,
    sniff_catalog_format,
)

MISSING_MAG = "with missing or non-numeric magnitude"


def test_three_files_counts_and_report(geonet):
    assert len(geonet) == 53060
    assert list(geonet.columns) == list(CATALOG_COLUMNS)
    assert str(geonet["time"].dtype) == "datetime64[ns, UTC]"
    assert geonet["time"].is_monotonic_increasing and geonet["event_id"].is_unique
    assert geonet["lon"].between(-180, 180).all() and set(geonet["mag_type"]) == {"MLNZ20"}
    report = catalog_report(geonet)
    assert report.n_read == 54725 and report.n_kept == 53060
    dup = geonet.attrs["duplicates"]
    assert (dup["n_ids"], dup["n_rows"], dup["n_removed"], dup["action"]) == (1640, 1640, 1640, "kept first")
    assert dup["n_conflicting"] == 278 and len(dup["examples"]) == 5
    bad = geonet.attrs["bad_rows"]
    assert bad[MISSING_MAG]["count"] == 25 and bad[MISSING_MAG]["action"] == "dropped"
    assert bad["with missing depth"] == {**bad["with missing depth"], "count": 64, "action": "kept"}
    assert geonet["depth"].isna().sum() == 64
    assert geonet["mag"].min() == pytest.approx(-0.98)


@pytest.mark.parametrize(("index", "rows", "kept", "duplicates", "no_mag"),
                         [(0, 23090, 21450, 1640, 0), (1, 20764, 20761, 0, 3), (2, 10871, 10849, 0, 22)])
def test_yearly_files(mlnz20_files, index, rows, kept, duplicates, no_mag):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cat = read_mlnz20(mlnz20_files[index])
    report = catalog_report(cat)
    assert (report.n_read, len(cat), report.n_duplicates_removed) == (rows, kept, duplicates)
    assert cat.attrs["bad_rows"].get(MISSING_MAG, {"count": 0})["count"] == no_mag
    messages = [str(w.message) for w in caught if issubclass(w.category, CatalogWarning)]
    assert len(messages) == 1 and f"{rows} rows read, {kept} kept" in messages[0]


def test_duplicates_are_reported_with_real_ids(mlnz20_files):
    raw = pd.read_csv(mlnz20_files[0], dtype={"#ID": str})
    with pytest.warns(CatalogWarning, match=r"1640 duplicated event ids .* e\.g\. 2024p"):
        cat = read_mlnz20(mlnz20_files[0])
    repeated = set(raw.loc[raw["#ID"].duplicated(), "#ID"])
    assert len(repeated) == 1640 and set(cat.attrs["duplicates"]["examples"]) <= repeated
    first = raw.drop_duplicates("#ID").set_index("#ID")["MLNZ20"]
    kept = cat.set_index("event_id")["mag"]
    np.testing.assert_allclose(kept.loc[sorted(repeated)].to_numpy(), first.loc[sorted(repeated)].to_numpy())


def test_dedupe_false_keeps_and_reports(mlnz20_files):
    with pytest.warns(CatalogWarning):
        cat = read_mlnz20(mlnz20_files[0], dedupe=False)
    assert len(cat) == 23090 and cat.attrs["duplicates"]["action"] == "kept all"
    assert cat["event_id"].duplicated().sum() == 1640


def test_mlv_magnitude(mlnz20_files):
    with pytest.warns(CatalogWarning):
        cat = read_mlnz20(mlnz20_files[1], magnitude="MLv")
    raw = pd.read_csv(mlnz20_files[1], dtype={"#ID": str}).set_index("#ID")
    assert set(cat["mag_type"]) == {"MLv"}
    np.testing.assert_allclose(cat.set_index("event_id")["mag"], raw.loc[cat["event_id"], "MLv"].to_numpy())


def test_cmt(cmt):
    assert len(cmt) == 3691 and set(cmt["mag_type"]) == {"Mw"}
    assert cmt["mag"].between(2.8, 8.0).all() and cmt["depth"].between(1, 375).all()
    generated = cmt.attrs["bad_rows"]["with no event id (PublicID 9999999)"]
    assert generated["count"] == 4 and generated["action"] == "id generated"
    assert cmt["event_id"].is_unique and {"strike", "dip", "rake"} <= set(cmt.columns)
    assert cmt["time"].min() == pd.Timestamp("2003-08-21 12:12", tz="UTC")


@pytest.fixture()
def comcat_csv(geonet_2025, tmp_path):
    """200 real GeoNet events in the ComCat CSV layout, one row duplicated."""
    sub = geonet_2025.iloc[:200]
    out = pd.DataFrame({
        "time": sub["time"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "latitude": sub["lat"], "longitude": sub["lon"],
        "depth": sub["depth"], "mag": sub["mag"], "magType": "ml", "id": sub["event_id"], "place": "New Zealand",
    })
    out = pd.concat([out, out.iloc[[5]]], ignore_index=True)
    path = tmp_path / "query.csv"
    out.to_csv(path, index=False)
    return path


def test_comcat(comcat_csv, geonet_2025):
    assert sniff_catalog_format(comcat_csv) == "comcat"
    with pytest.warns(CatalogWarning, match="1 duplicated event ids"):
        cat = read_catalog(comcat_csv)
    assert len(cat) == 200 and set(cat["mag_type"]) == {"ml"}
    pd.testing.assert_series_equal(cat["time"], geonet_2025["time"].iloc[:200], check_names=False)
    with pytest.warns(CatalogWarning):
        assert len(read_comcat(comcat_csv, dedupe=False)) == 201


def test_sniff_and_read_catalog(geonet_dir, mlnz20_files):
    assert sniff_catalog_format(mlnz20_files[2]) == "mlnz20"
    assert sniff_catalog_format(geonet_dir / "GeoNet_CMT_solutions.csv.gz") == "cmt"
    with pytest.warns(CatalogWarning):
        assert len(read_catalog(mlnz20_files[1:])) == 20761 + 10849


def test_quakeml_needs_obspy(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "obspy", None)  # as if ObsPy were not installed
    path = tmp_path / "events.xml"
    path.write_text("<q:quakeml/>")
    with pytest.raises(ImportError, match="obspy"):
        read_quakeml(path)


def test_describe(geonet):
    info = describe_catalog(geonet)
    assert info["events"] == 53060 and info["duplicates_removed"] == 1640 and info["bad_rows_dropped"] == 25
    assert info["depth_missing"] == 64 and info["mag_max"] == pytest.approx(6.2)
