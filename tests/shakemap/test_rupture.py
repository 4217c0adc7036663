import json

import numpy as np
import pytest

from gmlearn.shakemap.errors import RuptureError
from gmlearn.shakemap.rupture import Rupture, read_rupture


def test_parameters_plane_contains_hypocentre():
    rup = Rupture.from_parameters(lon=173.0, lat=-42.7, depth=12.0, mag=7.0, strike=45.0, dip=60.0, rake=90.0,
                                  length=40.0, width=18.0)
    p = rup.parameters()
    assert p["width"] == pytest.approx(18.0, rel=1e-3)
    assert p["dip"] == pytest.approx(60.0, abs=0.1) and p["strike"] == pytest.approx(45.0, abs=0.1)
    # centred: top at 12 - 9 sin(60) km
    assert p["ztor"] == pytest.approx(12.0 - 9.0 * np.sin(np.radians(60)), abs=0.05)
    # the hypocentre lies on the plane: its distance to the surface is zero
    from openquake.hazardlib.geo.mesh import Mesh

    d = rup.surface.get_min_distance(Mesh(np.array([173.0]), np.array([-42.7]), np.array([12.0])))
    assert d[0] < 0.2


def test_scaling_relation_gives_area_and_caps_width():
    rup = Rupture.from_parameters(lon=173.0, lat=-42.7, depth=10.0, mag=7.5, strike=0.0, dip=30.0, rake=0.0,
                                  msr="WC1994", lower_seismogenic_depth=20.0)
    from openquake.hazardlib.scalerel import WC1994

    area = WC1994().get_median_area(7.5, 0.0)
    p = rup.parameters()
    length = area / p["width"]
    assert p["width"] * np.sin(np.radians(30)) <= 20.0 + 1e-6
    assert p["width"] * length == pytest.approx(area, rel=1e-3)


def test_distances_match_openquake_context(bssa14, shared_data):
    from openquake.hazardlib.contexts import ContextMaker
    from openquake.hazardlib.site import SiteCollection

    rup = Rupture.from_nrml(shared_data / "openquake_demos/hazard/ScenarioCase1/rupture_model.xml")
    lon, lat = np.array([0.1, -0.3, 0.5]), np.array([0.0, 0.2, -0.4])
    mine = rup.distances(lon, lat)
    sites = SiteCollection.from_points(lon, lat, req_site_params=("vs30",))
    sites.array["vs30"] = 760.0
    from openquake.hazardlib.calc.filters import IntegrationDistance

    cm = ContextMaker("*", [bssa14._gsim], {"imtls": {"PGA": [0]}, "maximum_distance": IntegrationDistance.new("1000")})
    [ctx] = cm.get_ctx_iter([rup.to_openquake()], sites)
    for name in ("rrup", "rjb"):  # what BSSA14 asks OpenQuake to compute
        np.testing.assert_allclose(mine[name][ctx.sids], ctx[name], rtol=1e-4, atol=1e-3)
    assert rup.mag == 7.0 and rup.hypo_depth == 10.0


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"depth": 30.0, "ztor": 0.0, "width": 10.0}, "Inconsistent rupture geometry"),
        ({"dip": 0.0}, "'dip'"),
        ({"length": -5.0, "width": 10.0}, "'length'"),
        ({"mag": float("nan")}, "'mag'"),
    ],
)
def test_inconsistent_parameters_raise(kwargs, needle):
    base = {"lon": 173.0, "lat": -42.7, "depth": 10.0, "mag": 7.0, "strike": 45.0, "dip": 60.0, "rake": 90.0}
    with pytest.raises(RuptureError, match=needle):
        Rupture.from_parameters(**(base | kwargs))


def test_planes_and_bad_planes():
    good = [[(0, 0, 0), (0, 0.3, 0), (0.1, 0.3, 10), (0.1, 0, 10)], [(0, 0.3, 0), (0, 0.6, 0), (0.1, 0.6, 10), (0.1, 0.3, 10)]]
    rup = Rupture.from_planes(good, mag=7.0, rake=0.0, hypocentre=(0.0, 0.2, 5.0))
    assert len(rup.outlines()) == 2
    d = rup.distances(np.array([0.05, 0.05]), np.array([0.1, 0.5]))
    assert (d["rjb"] < 1e-6).all()  # above the dipping planes
    with pytest.raises(RuptureError, match="Plane 0 has inconsistent geometry"):
        Rupture.from_planes([[(0, 0, 10), (0, 0.3, 10), (0.1, 0.3, 0), (0.1, 0, 0)]], mag=7, rake=0, hypocentre=(0, 0, 5))
    with pytest.raises(RuptureError, match="four finite"):
        Rupture.from_planes([[(0, 0, 0), (0, 0.3, 0)]], mag=7, rake=0, hypocentre=(0, 0, 5))


def test_read_rupture_json(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"mag": 6.6, "rake": 21, "lon": 174.15, "lat": -41.73, "depth": 8.2, "strike": 331,
                                "dip": 81, "length": 18.3, "width": 18.3}))
    assert read_rupture(path).parameters()["width"] == pytest.approx(18.3, rel=1e-3)
    path.write_text(json.dumps({"mag": 6.6, "rake": 21, "lon": 174.15, "lat": -41.73, "depth": 8.2, "strike": 331,
                                "dip": 81, "lenght": 18.3}))
    with pytest.raises(RuptureError, match="unknown keys"):
        read_rupture(path)
    path.write_text(json.dumps({"rake": 21}))
    with pytest.raises(RuptureError, match="mag"):
        read_rupture(path)


def test_json_planes_trace_and_complex_nrml(tmp_path, shared_data):
    planes = {"mag": 7.0, "rake": 0, "hypocentre": [0.0, 0.2, 5.0],
              "planes": [[[0, 0, 0], [0, 0.3, 0], [0.1, 0.3, 10], [0.1, 0, 10]]]}
    (tmp_path / "p.json").write_text(json.dumps(planes))
    assert read_rupture(tmp_path / "p.json").source == "planes"
    trace = {"mag": 7.85, "rake": 143, "dip": 50, "upper_depth": 0, "lower_depth": 20,
             "hypocentre": [173.02, -42.69, 15], "trace": [[174.35, -41.72], [173.55, -42.30], [172.95, -42.72]]}
    (tmp_path / "t.json").write_text(json.dumps(trace))
    rup = read_rupture(tmp_path / "t.json")
    assert len(rup.outlines()) == 2
    assert rup.parameters()["width"] == pytest.approx(20 / np.sin(np.radians(50)), rel=1e-3)
    d = rup.distances(np.array([174.35]), np.array([-41.72]))  # on the trace
    assert d["rjb"][0] < 0.5 and d["rrup"][0] < 0.5
    cx = read_rupture(shared_data / "openquake_demos/hazard/ScenarioCase2/rupture_model.xml")
    assert cx.mag == 8.0 and cx.source.startswith("nrml:") and cx.parameters()["ztor"] == pytest.approx(2.0, abs=0.1)
    (tmp_path / "bad.xml").write_text("<nrml/>")
    with pytest.raises(RuptureError, match="not a valid OpenQuake NRML rupture"):
        read_rupture(tmp_path / "bad.xml")
