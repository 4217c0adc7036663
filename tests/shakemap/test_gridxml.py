"""ShakeMap 4 grid.xml / uncertainty.xml read back by OpenQuake, and the CF-1.8 netCDF checked by compliance-checker."""

from __future__ import annotations

import numpy as np
import pytest

from gmlearn.shakemap.errors import ShakemapError
from gmlearn.shakemap.export import cf_compliance, read_netcdf, write_netcdf
from gmlearn.shakemap.gridxml import grid_fields, write_grid_xml, write_uncertainty_xml
from gmlearn.shakemap.scenario import compute_shakemap
from gmlearn.shakemap.sites import grid_sites

BOX = (173.4, -42.2, 174.8, -41.0)
IMTS = ["PGA", "PGV", "SA(0.3)", "SA(1.0)", "SA(3.0)"]


@pytest.fixture(scope="module")
def full_map(grassmere_rupture, grassmere_stations, bssa14):
    """Every ShakeMap IMT, conditioned on the Grassmere stations (PGA, SA(1.0))."""
    return compute_shakemap(grassmere_rupture, grid_sites(BOX, 0.1, vs30=400.0), bssa14, IMTS, grassmere_stations)


def test_openquake_reads_grid_and_uncertainty(full_map, tmp_path):
    from openquake.hazardlib.shakemap.parsers import get_shakemap_array

    ds = full_map.dataset
    grid, unc = write_grid_xml(ds, tmp_path / "grid.xml"), write_uncertainty_xml(ds, tmp_path / "uncertainty.xml")
    assert grid_fields(ds) == ["PGA", "PGV", "MMI", "PSA03", "PSA10", "PSA30"]
    text = grid.read_text()
    for name, units in [("LON", "dd"), ("LAT", "dd"), ("PGA", "pctg"), ("PGV", "cms"), ("MMI", "intensity"),
                        ("PSA03", "pctg"), ("PSA10", "pctg"), ("PSA30", "pctg"), ("SVEL", "ms")]:
        assert f'name="{name}" units="{units}"' in text
    assert 'nlon="15" nlat="13"' in text and "<grid_specification" in text
    assert 'name="STDPGA" units="ln(pctg)"' in unc.read_text() and 'name="STDMMI" units="intensity"' in unc.read_text()
    arr = get_shakemap_array(str(grid), str(unc))
    assert len(arr) == 13 * 15
    # rows run from the north-west corner; OpenQuake's values are ShakeMap's units (% g, intensity)
    assert arr["lat"][0] == pytest.approx(-41.0) and arr["lon"][0] == pytest.approx(173.4) and arr["lat"][-1] == pytest.approx(-42.2)
    north_west = {"lat": 12, "lon": 0}
    for imt, k in (("PGA", 0), ("SA(1.0)", 3), ("SA(3.0)", 4)):
        assert arr["val"][imt][0] == pytest.approx(100 * float(ds["median"][k].isel(north_west)), rel=1e-4)
        assert arr["std"][imt][0] == pytest.approx(float(ds["sigma"][k].isel(north_west)), rel=1e-4)
    assert arr["val"]["MMI"][0] == pytest.approx(float(ds["mmi"].isel(north_west)), rel=1e-4)
    assert arr["std"]["MMI"][0] == pytest.approx(float(ds["mmi_sigma"].isel(north_west)), rel=1e-4)
    np.testing.assert_allclose(arr["vs30"], 400.0)


def test_mmi_layer_comes_from_pgv_with_its_sigma(full_map):
    from gmlearn.shakemap.gmice import mmi_from_ground_motion

    ds = full_map.dataset
    mmi, sigma = mmi_from_ground_motion("PGV", ds["mean"][1].to_numpy(), ds["sigma"][1].to_numpy())
    np.testing.assert_allclose(ds["mmi"].to_numpy(), mmi)
    np.testing.assert_allclose(ds["mmi_sigma"].to_numpy(), sigma)
    assert (ds["mmi_sigma"] > 0.65).all() and 3.0 < float(ds["mmi"].max()) < 9.0


def test_netcdf_is_cf_compliant(full_map, tmp_path):
    path = write_netcdf(full_map.dataset, tmp_path / "shakemap.nc")
    report = cf_compliance(path)
    assert report["errors"] == 0, report["messages"]
    assert report["scored"] == report["possible"] > 300
    back = read_netcdf(path)
    assert back["mean"].sel(imt="PGV").shape == (13, 15) and back.attrs["Conventions"] == "CF-1.8"
    assert back["lat"].attrs["standard_name"] == "latitude" and back["mean"].attrs["units"] == "1"


def test_site_list_netcdf_is_cf_compliant_and_refuses_grid_xml(tmp_path, grassmere_rupture, bssa14):
    import pandas as pd

    from gmlearn.shakemap.sites import read_sites

    pd.DataFrame({"lon": [173.9, 174.2], "lat": [-41.6, -41.8], "vs30": [250.0, 500.0]}).to_csv(tmp_path / "s.csv", index=False)
    sm = compute_shakemap(grassmere_rupture, read_sites(tmp_path / "s.csv"), bssa14, ["PGA"], gmice="WordenEtAl2012MR")
    report = cf_compliance(write_netcdf(sm.dataset, tmp_path / "sites.nc"))
    assert report["errors"] == 0, report["messages"]
    with pytest.raises(ShakemapError, match="regular grid"):
        write_grid_xml(sm.dataset, tmp_path / "grid.xml")
    with pytest.raises(ShakemapError, match="'gmice' parameter"):
        compute_shakemap(grassmere_rupture, read_sites(tmp_path / "s.csv"), bssa14, ["PGA"], gmice="Wald1999")
    none = compute_shakemap(grassmere_rupture, read_sites(tmp_path / "s.csv"), bssa14, ["PGA"], gmice=None)
    assert "mmi" not in none.dataset


def test_openquake_draws_ground_motion_fields_from_the_files(full_map, tmp_path):
    """OpenQuake's ShakeMap route (site collection + GMFs, as a ``shakemap_uri`` job does) runs on the files."""
    from openquake.hazardlib.shakemap.gmfs import to_gmfs
    from openquake.hazardlib.shakemap.maps import get_sitecol_shakemap

    ds = full_map.dataset
    uri = {"kind": "usgs_xml", "grid_url": str(write_grid_xml(ds, tmp_path / "grid.xml")),
           "uncertainty_url": str(write_uncertainty_xml(ds, tmp_path / "uncertainty.xml"))}
    sitecol, shakemap, discarded = get_sitecol_shakemap(uri, ["PGA", "SA(1.0)"])
    assert len(sitecol) == 13 * 15 and len(discarded) == 0
    _, gmfs = to_gmfs(shakemap, {"kind": "basic"}, None, 3.0, 400, 42, ["PGA", "SA(1.0)"])
    assert gmfs.shape == (13 * 15, 400, 2)
    # OpenQuake takes the ShakeMap value as the mean of a lognormal (it subtracts sigma^2 / 2): the GMF mean
    # per site matches our median to Monte Carlo error
    median = np.stack([ds["median"][k].sortby("lat", ascending=False).to_numpy().ravel() for k in (0, 3)], axis=1)
    sigma = np.stack([ds["sigma"][k].sortby("lat", ascending=False).to_numpy().ravel() for k in (0, 3)], axis=1)
    ratio = gmfs.mean(axis=1) / median
    assert np.all(np.abs(np.log(ratio)) < 4 * sigma / np.sqrt(400) + 0.02)
