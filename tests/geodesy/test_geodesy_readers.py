"""Readers of GNSS velocity fields: real PBO files, GLOBK and CSV with bad rows."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import FlatfileError, MissingColumnError, SchemaError
from gmlearn.geodesy import CANONICAL, BadRowsWarning, detect_format, read_velocities

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gnss_pbo_nam08"
VEL = DATA / "pbo.final_nam08.vel.gz"
CSV = DATA / "pbo_nam08_velocities_per_station.csv.gz"


def _need(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"real data file {path} is missing; tests need ../shared/data beside the repository")
    return path


@pytest.fixture(scope="module")
def pbo_vel() -> pd.DataFrame:
    with pytest.warns(BadRowsWarning, match="2837 duplicate_station"):
        return read_velocities(_need(VEL))


@pytest.fixture(scope="module")
def pbo_csv() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error", BadRowsWarning)  # the tidy CSV has no bad rows
        return read_velocities(_need(CSV))


def test_pbo_vel_counts(pbo_vel):
    rep = pbo_vel.attrs["report"]
    assert detect_format(VEL) == "pbo"
    assert rep["format"] == "pbo" and rep["frame"] == "NAM08"
    assert rep["n_rows"] == 5045  # one line per station segment
    assert len(pbo_vel) == rep["n_kept"] == 2208
    assert pbo_vel["station"].is_unique
    assert rep["dropped"]["duplicate_station"]["count"] == 5045 - 2208
    assert len(rep["dropped"]["duplicate_station"]["lines"]) == 2837
    assert rep["duplicates"]["conflicting_stations"] == 119  # PROVENANCE.md: 119 stations with two (ve, vn)
    assert sum(v["count"] for k, v in rep["dropped"].items() if k != "duplicate_station") == 0
    assert list(pbo_vel.columns) == [*CANONICAL, "vu", "su"]
    assert pbo_vel["lon"].between(-180, 180).all()


def test_pbo_vel_matches_tidy_csv(pbo_vel, pbo_csv):
    """The .vel reader (m/yr, 0-360 lon, latest segment) reproduces the provider's tidy CSV."""
    assert len(pbo_csv) == 2208
    assert (pbo_vel["station"].to_numpy() == pbo_csv["station"].to_numpy()).all()
    for col in ("ve", "vn", "se", "sn", "rho", "vu", "su"):
        np.testing.assert_allclose(pbo_vel[col], pbo_csv[col], atol=1e-9, err_msg=col)
    np.testing.assert_allclose(pbo_vel[["lon", "lat"]], pbo_csv[["lon", "lat"]], atol=1e-6)
    row = pbo_vel.set_index("station").loc["7ODM"]  # first file line: 7ODM ... dN/dt 0.01648 dE/dt -0.01573
    assert row["lon"] == pytest.approx(242.9068041911 - 360, abs=1e-6)


GLOBK_TEXT = """\
 Velocity field from GLOBK, reference frame ITRF2014
* Long.     Lat.        E & N Rate      E & N Adj.      E & N +-   RHO        H Rate   H adj.    +-  SITE
*  (deg)    (deg)         (mm/yr)          (mm/yr)        (mm/yr)               (mm/yr)
  238.0000   36.0000   -25.10    32.20   -25.10    32.20     0.30     0.30  0.010     1.00    1.00     1.20 AAAA_GPS
  239.0000   37.0000   -10.00    12.00   -10.00    12.00     0.40     0.35 -0.020    -0.50   -0.50     1.10 BBBB_GPS
  240.0000   38.0000   -5.00     xx.xx   -5.00     6.00      0.40     0.35 -0.020    -0.50   -0.50     1.10 CCCC_GPS
  241.0000   38.5000   -5.00     6.00    -5.00     6.00      0.00     0.35 -0.020    -0.50   -0.50     1.10 DDDD_GPS
  242.0000   39.0000   -5.00     6.00    -5.00     6.00      0.40     0.35  1.500    -0.50   -0.50     1.10 EEEE_GPS
  243.0000   95.0000   -5.00     6.00    -5.00     6.00      0.40     0.35  0.000    -0.50   -0.50     1.10 FFFF_GPS
  244.0000   39.5000   -5.00     6.00
  239.0000   37.0000   -10.50    12.50   -10.00    12.00     0.40     0.35 -0.020    -0.50   -0.50     1.10 BBBB_GPS
  400.0000   30.0000   -5.00     6.00    -5.00     6.00      0.40     0.35  0.000    -0.50   -0.50     1.10 GGGG_GPS
  245.0000   40.0000   -4.00     5.00    -4.00     5.00      0.40     0.35  0.000     0.50    0.50    -1.00 HHHH_GPS
"""


@pytest.fixture()
def globk_file(tmp_path: Path) -> Path:
    path = tmp_path / "field.vel.gz"
    path.write_bytes(gzip.compress(GLOBK_TEXT.encode()))
    return path


def test_globk_bad_rows_counted_never_silent(globk_file):
    with pytest.warns(BadRowsWarning) as rec:
        vel = read_velocities(globk_file)
    msg = str(rec[0].message)
    assert "kept 3 of 10 rows" in msg
    rep = vel.attrs["report"]
    assert rep["format"] == "globk" and rep["frame"] == "ITRF2014"
    counts = {k: v["count"] for k, v in rep["dropped"].items()}
    assert counts == {
        "column_count": 1, "missing_station": 0, "non_numeric": 1, "lat_out_of_range": 1, "lon_out_of_range": 1,
        "sigma_nonpositive": 1, "rho_out_of_range": 1, "duplicate_station": 1,
    }  # fmt: skip
    assert rep["dropped"]["non_numeric"]["stations"] == ["CCCC_GPS"]
    assert rep["dropped"]["non_numeric"]["lines"] == [6]
    assert rep["dropped"]["column_count"]["lines"] == [10]
    assert rep["dropped"]["duplicate_station"]["lines"] == [5]  # latest line of BBBB wins
    assert list(vel["station"]) == ["AAAA_GPS", "BBBB_GPS", "HHHH_GPS"]
    bbbb = vel.set_index("station").loc["BBBB_GPS"]
    assert (bbbb["ve"], bbbb["vn"]) == (-10.5, 12.5)
    assert vel.loc[0, "lon"] == pytest.approx(-122.0)
    assert rep["vertical_set_to_nan"] == 1 and np.isnan(vel.set_index("station").loc["HHHH_GPS", "vu"])


def test_globk_duplicates_first_and_raise(globk_file):
    with pytest.warns(BadRowsWarning):
        first = read_velocities(globk_file, duplicates="first")
    assert first.set_index("station").loc["BBBB_GPS", "ve"] == -10.0
    with pytest.raises(FlatfileError, match="BBBB_GPS.*lines \\[5, 11\\]") as err:
        read_velocities(globk_file, duplicates="raise")
    assert err.value.column == "station"


@pytest.mark.parametrize(
    ("text", "column", "value"),
    [
        ("station,lon,lat,ve,vn,se,sn,rho\nA1,-120,36,1,2,0.5,0.5,0.1\nB2,-121,37,abc,2,0.5,0.5,0\n", "ve", "abc"),
        ("station,lon,lat,ve,vn,se,sn,rho\nA1,-120,36,1,2,-0.5,0.5,0.1\n", "se", "-0.5"),
        ("station,lon,lat,ve,vn,se,sn,rho\nA1,-120,36,1,2,0.5,0.5,1.7\n", "rho", "1.7"),
        ("site,longitude,latitude,ve,vn,se,sn\nA1,-120,-91,1,2,0.5,0.5\n", "lat", "-91"),
    ],
)
def test_on_bad_raise_names_column_and_value(tmp_path, text, column, value):
    path = tmp_path / "v.csv"
    path.write_text(text)
    with pytest.raises(FlatfileError) as err:
        read_velocities(path, on_bad="raise")
    assert err.value.column == column
    assert str(err.value.value) == value
    assert f"column {column!r}" in str(err.value) and repr(value) in str(err.value)
    assert isinstance(err.value, ValueError)


def test_csv_units_aliases_and_missing_rho(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("Site,Longitude,Latitude,VE,VN,SE,SN\nA1,240,36,-0.02,0.03,0.0005,0.0006\n")
    vel = read_velocities(path, units="m/yr")
    assert vel.loc[0, ["ve", "vn", "se", "sn", "rho"]].tolist() == pytest.approx([-20.0, 30.0, 0.5, 0.6, 0.0])
    assert vel.loc[0, "lon"] == pytest.approx(-120.0)
    assert vel.attrs["report"]["rho"].startswith("missing")


def test_csv_missing_column_lists_given_and_accepted(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("station,lon,lat,ve,vn\nA1,-120,36,1,2\n")
    with pytest.raises(MissingColumnError, match=r"\['se', 'sn'\] not found; given \['station', 'lon'") as err:
        read_velocities(path)
    assert isinstance(err.value, KeyError)


@pytest.mark.parametrize(("kwargs", "name"), [({"format": "gamit"}, "format"), ({"on_bad": "skip"}, "on_bad"),
                                              ({"duplicates": "mean"}, "duplicates"), ({"units": "in/yr"}, "units")])  # fmt: skip
def test_bad_parameters_name_parameter_and_allowed(tmp_path, kwargs, name):
    path = tmp_path / "v.csv"
    path.write_text("station,lon,lat,ve,vn,se,sn,rho\nA1,-120,36,1,2,0.5,0.5,0.1\n")
    with pytest.raises(SchemaError, match=f"The '{name}' parameter must be one of"):
        read_velocities(path, **kwargs)


def test_missing_file_and_wrong_format(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_velocities(tmp_path / "nope.vel")
    path = tmp_path / "x.vel"
    path.write_text(GLOBK_TEXT)
    with pytest.raises(SchemaError, match="Dot#"):
        read_velocities(path, format="pbo")
