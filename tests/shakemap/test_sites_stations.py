import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import MissingColumnError
from gmlearn.shakemap.errors import SiteGridError, StationError
from gmlearn.shakemap.sites import grid_sites, read_sites, vs30_from_slope
from gmlearn.shakemap.stations import read_stations, validate_stations


def test_grid_shape_and_site_columns():
    sites = grid_sites((172.0, -43.0, 172.5, -42.8), 0.1, vs30=400.0)
    assert sites.shape == (3, 6) and len(sites) == 18
    f = sites.frame
    assert (f["vs30"] == 400.0).all() and f["z1pt0"].gt(0).all() and f["z2pt5"].gt(0).all()
    assert f["lon"].iloc[1] == pytest.approx(172.1) and f["lat"].iloc[6] == pytest.approx(-42.9)


@pytest.mark.parametrize("bbox", [(173, -43, 172, -42), (172, -42, 173, -43), (172, float("nan"), 173, -42)])
def test_bad_bbox(bbox):
    with pytest.raises(SiteGridError, match="bbox"):
        grid_sites(bbox, 0.1)


def test_vs30_from_grid_and_slope(tmp_path):
    grid = pd.DataFrame({"lon": [172.0, 173.0], "lat": [-43.0, -43.0], "vs30": [250.0, 700.0]})
    grid.to_csv(tmp_path / "vs30.csv", index=False)
    sites = grid_sites((172.0, -43.0, 173.0, -43.0 + 1e-9), 0.25, vs30=tmp_path / "vs30.csv")
    v = sites.frame["vs30"].tolist()  # nearest grid point; the middle site is a tie
    assert v[:2] == [250.0, 250.0] and v[3:] == [700.0, 700.0] and v[2] in (250.0, 700.0)
    # Wald & Allen (2007) active-tectonic bin edges map onto their vs30 edges; outside them it clamps
    np.testing.assert_allclose(vs30_from_slope(np.array([1e-4, 0.018, 0.138, 1.0, 0.0])), [180, 360, 760, 760, 180])
    slope = pd.DataFrame({"lon": [172.0], "lat": [-43.0], "slope": [0.05]})
    slope.to_csv(tmp_path / "slope.csv", index=False)
    s2 = grid_sites((172.0, -43.0, 172.2, -42.9), 0.1, vs30=None, slope=tmp_path / "slope.csv")
    assert np.allclose(s2.frame["vs30"], 490.0)


def test_site_file_needs_vs30(tmp_path):
    pd.DataFrame({"lon": [172.0, 172.1], "lat": [-43.0, -43.1], "vs30": [300.0, None]}).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(SiteGridError, match="row 2"):
        read_sites(tmp_path / "s.csv")
    assert read_sites(tmp_path / "s.csv", vs30=500.0).frame["vs30"].tolist() == [300.0, 500.0]


def _stations():
    return pd.DataFrame({"station_id": ["A", "B", "C"], "lon": [172.0, 172.5, 173.0], "lat": [-43.0, -42.5, -42.0],
                         "vs30": [300.0, 450.0, 760.0], "PGA": [0.1, np.nan, 0.02], "SA(1.0)": [0.05, 0.03, np.nan]})


def test_stations_ln_and_nan_handling():
    out = validate_stations(_stations())
    assert out.attrs["imts"] == ["PGA", "SA(1.0)"]
    assert out["PGA"].iloc[0] == pytest.approx(np.log(0.1)) and np.isnan(out["PGA"].iloc[1])


@pytest.mark.parametrize(
    ("change", "error", "needle"),
    [
        (lambda f: f.assign(station_id=["A", "A", "C"]), StationError, "duplicate station_id values \\['A'\\]"),
        (lambda f: f.assign(vs30=[300.0, np.nan, 760.0]), StationError, "'vs30' is missing for station 'B'"),
        (lambda f: f.assign(PGA=[0.1, np.nan, -1.0]), StationError, "'PGA' has -1.0 for station 'C'"),
        (lambda f: f.assign(PGA=[0.1, np.nan, np.nan], **{"SA(1.0)": [0.1, 0.2, np.nan]}), StationError,
         "\\['C'\\] have no finite observation"),
        (lambda f: f.drop(columns=["vs30"]), MissingColumnError, "vs30"),
        (lambda f: f.assign(lat=[-43.0, -95.0, -42.0]), StationError, "'lat' is -95.0 for station 'B'"),
    ],
)
def test_bad_stations(change, error, needle):
    with pytest.raises(error, match=needle):
        validate_stations(change(_stations()))


def test_read_stations_csv(tmp_path):
    _stations().to_csv(tmp_path / "st.csv", index=False)
    assert len(read_stations(tmp_path / "st.csv")) == 3
    with pytest.raises(FileNotFoundError):
        read_stations(tmp_path / "missing.csv")
