"""Bad input raises errors that name the column, the value and what is allowed."""

import numpy as np
import pandas as pd
import pytest

from gmlearn.catalog.bvalue import aki_utsu
from gmlearn.catalog.completeness import estimate_mc, mc_max_curvature
from gmlearn.catalog.declustering import decluster
from gmlearn.catalog.declustering_gk import gardner_knopoff
from gmlearn.catalog.frame import validate_catalog
from gmlearn.catalog.readers import read_catalog, read_comcat, read_mlnz20
from gmlearn.catalog.windows import get_window
from gmlearn.exceptions import FlatfileError, MissingColumnError, SchemaError


@pytest.fixture()
def small(geonet_2025):
    return geonet_2025.iloc[:300].reset_index(drop=True)


def _write(frame: pd.DataFrame, path):
    frame.to_csv(path, index=False)
    return path


def test_missing_column_in_file(mlnz20_files, tmp_path):
    raw = pd.read_csv(mlnz20_files[1], nrows=50).drop(columns=["Lat"])
    path = _write(raw, tmp_path / "no_lat.csv")
    with pytest.raises(MissingColumnError, match=r"lacks column\(s\) \['Lat'\].*given \['#ID', 'OT'"):
        read_mlnz20(path)
    with pytest.raises(KeyError):  # catchable as the built-in too
        read_mlnz20(path)


def test_missing_column_in_comcat(tmp_path):
    path = _write(pd.DataFrame({"time": ["2025-01-01T00:00:00Z"], "latitude": [-41.0], "longitude": [174.0],
                                "mag": [2.0], "id": ["a"]}), tmp_path / "c.csv")
    with pytest.raises(MissingColumnError, match=r"\['depth'\]"):
        read_comcat(path)


def test_nan_magnitude_raises_when_asked(mlnz20_files, tmp_path):
    raw = pd.read_csv(mlnz20_files[1], nrows=50, dtype={"#ID": str})
    raw.loc[7, "MLNZ20"] = np.nan
    path = _write(raw, tmp_path / "nan_mag.csv")
    with pytest.raises(FlatfileError, match=r"column 'mag', row 8.*missing or non-numeric magnitude.*allowed: a finite number") as err:
        read_mlnz20(path, on_bad="raise")
    assert err.value.row == 8 and raw.loc[7, "#ID"] in str(err.value)
    with pytest.warns(UserWarning, match=f"1 rows with missing or non-numeric magnitude .*{raw.loc[7, '#ID']}"):
        assert len(read_mlnz20(path)) == 49


def test_nan_magnitude_in_frame(small):
    bad = small.copy()
    bad.loc[3, "mag"] = np.nan
    with pytest.raises(SchemaError, match=r"column 'mag' has 1 invalid value\(s\), first nan .*magnitudes must be finite numbers in \[-3, 10\]"):
        validate_catalog(bad)
    for call in (lambda: gardner_knopoff(bad), lambda: mc_max_curvature(bad), lambda: aki_utsu(bad, 2.0)):
        with pytest.raises(ValueError, match="'mag'"):
            call()
    with pytest.raises(SchemaError, match="non-finite value"):
        aki_utsu(np.array([2.0, np.nan, 3.0]), 2.0)


def test_negative_depth_beyond_tolerance(mlnz20_files, tmp_path, small):
    raw = pd.read_csv(mlnz20_files[1], nrows=20, dtype={"#ID": str})
    raw.loc[2, "Dep"] = -25.0
    path = _write(raw, tmp_path / "deep.csv")
    with pytest.raises(FlatfileError, match=r"column 'depth', row 3, value -?25.*allowed: \[-10.0, 800.0\] km"):
        read_mlnz20(path, on_bad="raise")
    assert read_mlnz20(path, depth_tolerance_km=30.0, warn=False)["depth"].min() == -25.0
    bad = small.copy()
    bad.loc[0, "depth"] = -12.0
    with pytest.raises(SchemaError, match=r"column 'depth' .* first -12.0 .*in \[-10, 800\]"):
        validate_catalog(bad)
    assert validate_catalog(bad, depth_tolerance_km=15.0) is bad


def test_missing_column_in_frame(small):
    with pytest.raises(MissingColumnError, match=r"\['mag'\] missing; required .* given \['event_id', 'time'"):
        gardner_knopoff(small.drop(columns=["mag"]))


def test_unknown_window(small):
    with pytest.raises(SchemaError, match=r"'window' parameter must be one of \['gardner_knopoff', 'gruenthal', 'uhrhammer'\].*Got 'knopoff' instead"):
        gardner_knopoff(small, window="knopoff")
    with pytest.raises(ValueError, match="uhrhammer"):
        get_window("nope")
    assert get_window("UrhammerWindow") is get_window("uhrhammer")


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda c: decluster(c, "kmeans"), r"'method' parameter of decluster must be one of \['gardner_knopoff', 'reasenberg', 'zaliapin'\]"),
        (lambda c: estimate_mc(c, "eyeball"), r"'method' parameter of estimate_mc must be one of"),
        (lambda c: gardner_knopoff(c, fs_time_prop=2.0), r"'fs_time_prop' .* \[0, 1\]. Got 2.0"),
        (lambda c: mc_max_curvature(c, delta_m=0.0), r"'delta_m' .* \(0, 1\] \(magnitude units\). Got 0.0"),
        (lambda c: read_catalog("x.csv", format="isc"), r"'format' .* \['auto', 'mlnz20', 'cmt', 'comcat', 'quakeml'\]"),
        (lambda c: read_mlnz20("x.csv", magnitude="Mw"), r"'magnitude' .* \['MLNZ20', 'MLv'\]. Got 'Mw'"),
    ],
)
def test_bad_parameters(small, call, pattern):
    with pytest.raises(SchemaError, match=pattern):
        call(small)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_mlnz20(tmp_path / "none.csv")
