import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gmlearn.shakemap.errors import RuptureError, ShakemapError, StationError
from gmlearn.shakemap.scenario import compute_shakemap
from gmlearn.shakemap.sites import grid_sites

BOX = (173.4, -42.2, 174.8, -41.0)


@pytest.fixture(scope="module")
def small_map(grassmere_rupture, grassmere_stations, bssa14):
    sites = grid_sites(BOX, 0.1, vs30=400.0)
    return compute_shakemap(grassmere_rupture, sites, bssa14, ["PGA", "SA(1.0)"], grassmere_stations)


def test_map_is_conditioned(small_map, grassmere_stations):
    ds = small_map.dataset
    assert ds["mean"].shape == (2, 13, 15)
    assert (ds["sigma"] <= ds["sigma_prior"] + 1e-12).all()
    assert float((ds["sigma_prior"] - ds["sigma"]).max()) > 0.1  # stations inside the box sharpen the map
    assert set(small_map.bias) == {"PGA", "SA(1.0)"} and small_map.bias["PGA"]["n_obs"] == len(grassmere_stations)
    st = small_map.stations
    assert np.allclose(st["PGA_resid"], st["PGA"] - st["PGA_prior"])


def test_outputs(small_map, tmp_path):
    import xarray as xr

    files = small_map.write(tmp_path / "out")
    names = sorted(p.name for p in files)
    assert names == sorted(["shakemap.nc", "shakemap.csv", "stations.csv", "contours_PGA.geojson", "map_PGA.png",
                            "contours_SA1p0.geojson", "map_SA1p0.png", "contours_MMI.geojson", "map_MMI.png",
                            "grid.xml", "uncertainty.xml"])
    with xr.open_dataset(tmp_path / "out" / "shakemap.nc") as ds:
        np.testing.assert_allclose(ds["mean"].to_numpy(), small_map.dataset["mean"].to_numpy())
        assert json.loads(ds.attrs["bias"])["PGA"]["n_obs"] > 0
        assert list(ds["imt_name"].to_numpy()) == ["PGA", "SA(1.0)"] and "_FillValue" not in ds["lat"].encoding
    gj = json.loads((tmp_path / "out" / "contours_PGA.geojson").read_text())
    assert gj["features"] and {f["properties"]["imt"] for f in gj["features"]} == {"PGA"}
    assert all(f["geometry"]["type"] == "MultiLineString" for f in gj["features"])
    import pandas as pd

    csv = pd.read_csv(tmp_path / "out" / "shakemap.csv")
    assert len(csv) == 13 * 15 and np.allclose(csv["PGA_median"], np.exp(csv["PGA_mean"]), rtol=1e-5)
    assert csv["mmi"].between(1, 10).all() and (csv["mmi_sigma"] > 0.73).all()  # PGA's GMICE scatter plus its sigma
    mmi = json.loads((tmp_path / "out" / "contours_MMI.geojson").read_text())
    assert mmi["features"] and all(float(f["properties"]["value"]).is_integer() for f in mmi["features"])


def test_stations_outside_the_grid(grassmere_rupture, grassmere_stations, bssa14):
    sites = grid_sites((173.9, -41.9, 174.3, -41.5), 0.1, vs30=400.0)
    inside = grassmere_stations["lon"].between(173.9, 174.3) & grassmere_stations["lat"].between(-41.9, -41.5)
    with pytest.raises(StationError, match="outside the site box"):
        compute_shakemap(grassmere_rupture, sites, bssa14, ["PGA"], grassmere_stations, outside="error")
    dropped = compute_shakemap(grassmere_rupture, sites, bssa14, ["PGA"], grassmere_stations, outside="drop")
    assert len(dropped.stations) == int(inside.sum()) < len(grassmere_stations)
    used = compute_shakemap(grassmere_rupture, sites, bssa14, ["PGA"], grassmere_stations)
    assert len(used.stations) == len(grassmere_stations) and (~used.stations["inside_grid"]).sum() > 0
    with pytest.raises(ShakemapError, match="'outside'"):
        compute_shakemap(grassmere_rupture, sites, bssa14, ["PGA"], grassmere_stations, outside="maybe")


def test_unconditioned_map_is_the_model(grassmere_rupture, bssa14):
    sites = grid_sites(BOX, 0.2, vs30=760.0)
    sm = compute_shakemap(grassmere_rupture, sites, bssa14, "PGA")
    pred = bssa14.predict(grassmere_rupture.context(sites.frame), ["PGA"])
    np.testing.assert_allclose(sm.dataset["mean"].to_numpy().ravel(), pred.mean[0])
    assert sm.stations is None and sm.bias == {}


def _write_inputs(tmp_path, grassmere_stations, *, bad=None):
    rup = {"mag": 6.6, "rake": 21, "lon": 174.1522, "lat": -41.734, "depth": 8.16, "strike": 331, "dip": 81,
           "length": 18.34, "width": 18.34}
    st = grassmere_stations[["station_id", "lon", "lat", "vs30", "PGA", "SA(1.0)"]].copy()
    st["PGA"], st["SA(1.0)"] = np.exp(st["PGA"]), np.exp(st["SA(1.0)"])
    if bad == "duplicate":
        st.loc[1, "station_id"] = st.loc[0, "station_id"]
    if bad == "geometry":
        rup |= {"depth": 30.0, "ztor": 0.0}
    (tmp_path / "rup.json").write_text(json.dumps(rup))
    st.to_csv(tmp_path / "st.csv", index=False)


def test_cli(tmp_path, grassmere_stations):
    from gmlearn.cli import app

    _write_inputs(tmp_path, grassmere_stations)
    out = tmp_path / "map"
    res = CliRunner().invoke(app, ["shakemap", "--rupture", str(tmp_path / "rup.json"), "--stations",
                                   str(tmp_path / "st.csv"), "--model", "BSSA14", "--bbox", ",".join(map(str, BOX)),
                                   "--spacing", "0.2", "--out", str(out), "--formats", "netcdf,geojson"])
    assert res.exit_code == 0, res.output
    assert (out / "shakemap.nc").is_file() and (out / "contours_PGA.geojson").is_file()
    assert "SA(1.0)" in res.output


def test_cli_twice_refuses_then_replaces_the_folder_whole(tmp_path, grassmere_stations):
    """`gmlearn shakemap -o out` twice: refused without --overwrite; with it no file of the first run is left."""
    from gmlearn.cli import app

    _write_inputs(tmp_path, grassmere_stations)
    out = tmp_path / "map"
    common = ["shakemap", "--rupture", str(tmp_path / "rup.json"), "--model", "BSSA14", "--bbox", ",".join(map(str, BOX)),
              "--spacing", "0.2", "--out", str(out), "--formats", "csv"]
    first = CliRunner().invoke(app, [*common, "--stations", str(tmp_path / "st.csv")])
    assert first.exit_code == 0, first.output
    assert (out / "stations.csv").is_file()
    again = CliRunner().invoke(app, common)
    assert again.exit_code == 2 and "--overwrite" in again.output and (out / "stations.csv").is_file()
    second = CliRunner().invoke(app, [*common, "--overwrite"])
    assert second.exit_code == 0, second.output
    assert not (out / "stations.csv").exists() and (out / "shakemap.csv").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


@pytest.mark.parametrize(("bad", "needle"), [("duplicate", "duplicate station_id"), ("geometry", "Inconsistent rupture")])
def test_cli_bad_input_writes_nothing(tmp_path, grassmere_stations, bad, needle):
    from gmlearn.cli import app

    _write_inputs(tmp_path, grassmere_stations, bad=bad)
    out = tmp_path / "map"
    res = CliRunner().invoke(app, ["shakemap", "--rupture", str(tmp_path / "rup.json"), "--stations",
                                   str(tmp_path / "st.csv"), "--spacing", "0.2", "--out", str(out)])
    assert res.exit_code == 2 and needle in " ".join(res.output.split())
    assert not out.exists()


def test_rupture_error_is_a_value_error():
    assert issubclass(RuptureError, ValueError) and issubclass(StationError, ShakemapError)


def test_learned_gmlearn_model_and_site_list(tmp_path, nzsmd_crustal, grassmere_rupture, grassmere_stations):
    """A learned gmlearn model drives the same pipeline; a site CSV gives a site-list map (no contours)."""
    import pandas as pd

    from gmlearn.gmpe.tree import TreeGMM
    from gmlearn.shakemap.sites import read_sites

    model = TreeGMM(n_estimators=60, learning_rate=0.2, n_validation_splits=2, early_stopping_rounds=10, n_jobs=1)
    model.fit(nzsmd_crustal, ["PGA"])
    pd.DataFrame({"lon": [173.9, 174.2, 174.0], "lat": [-41.6, -41.8, -41.4], "vs30": [250.0, 500.0, 760.0]}).to_csv(
        tmp_path / "sites.csv", index=False)
    sites = read_sites(tmp_path / "sites.csv")
    from gmlearn.exceptions import OutOfRangeWarning

    with pytest.warns(OutOfRangeWarning) as caught:  # the model's own range warnings reach the caller
        sm = compute_shakemap(grassmere_rupture, sites, model, "PGA", grassmere_stations)
    assert any("outside the training" in str(w.message) for w in caught)
    assert {w.filename.rsplit("/", 1)[-1] for w in caught} == {"scenario.py"}  # the predict call, not a wrapper
    assert sm.dataset["mean"].dims == ("imt", "site")
    assert (sm.dataset["sigma"] < sm.dataset["sigma_prior"]).all()
    files = sm.write(tmp_path / "out")
    assert sorted(p.name for p in files) == ["map_MMI.png", "map_PGA.png", "shakemap.csv", "shakemap.nc", "stations.csv"]


def test_failed_write_leaves_no_partial_output(small_map, tmp_path, monkeypatch):
    from gmlearn.shakemap import export

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export, "write_png", broken)
    with pytest.raises(OSError, match="disk full"):
        small_map.write(tmp_path / "out")
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []


def test_cli_refused_ensemble_writes_nothing(tmp_path, grassmere_stations):
    from gmlearn.cli import app

    _write_inputs(tmp_path, grassmere_stations)
    out = tmp_path / "map"
    res = CliRunner().invoke(app, ["shakemap", "--rupture", str(tmp_path / "rup.json"), "--stations",
                                   str(tmp_path / "st.csv"), "--spacing", "0.02", "--fields", "10", "--out", str(out)])
    assert res.exit_code == 2 and "limited to" in " ".join(res.output.split())
    assert not out.exists()
