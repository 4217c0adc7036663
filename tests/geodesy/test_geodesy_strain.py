"""Strain rates: invariants by hand, uniform-strain and rigid-rotation synthetic fields, sigmas by Monte Carlo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import SchemaError
from gmlearn.geodesy import pole_to_omega, strain_grid, strain_invariants, strain_triangles, to_nanostrain
from gmlearn.geodesy.sphere import unit_vectors
from gmlearn.geodesy.strain_grid import make_grid
from gmlearn.geodesy.synthetic import rigid_block_field, uniform_strain_field

# Imposed gradient [[dvx/dx, dvx/dy], [dvy/dx, dvy/dy]] in 1/yr: exx 100, eyy -50, exy 20 nanostrain/yr, rotation -40 nrad/yr.
L = np.array([[100e-9, 60e-9], [-20e-9, -50e-9]])
EXX, EYY, EXY, ROT = 100e-9, -50e-9, 20e-9, -40e-9
CENTER = (-118.0, 36.0)


def test_invariants_by_hand():
    inv = strain_invariants(np.array([1.0, 0.0, 3.0]), np.array([-1.0, 0.0, 1.0]), np.array([0.0, 2.0, 0.0]))
    np.testing.assert_allclose(inv["e1"], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(inv["e2"], [-1.0, -2.0, 1.0])
    np.testing.assert_allclose(inv["azimuth_e1"], [90.0, 45.0, 90.0])  # E-W extension; pure shear exy>0 -> N45E
    np.testing.assert_allclose(inv["max_shear"], [1.0, 2.0, 1.0])
    np.testing.assert_allclose(inv["dilatation"], [0.0, 0.0, 4.0])
    np.testing.assert_allclose(inv["second_invariant"], [np.sqrt(2.0), np.sqrt(8.0), np.sqrt(10.0)])
    north = strain_invariants(0.0, 1.0, 0.0)
    assert north["azimuth_e1"] == pytest.approx(0.0) and north["e1"] == pytest.approx(1.0)


def _expected():
    return strain_invariants(EXX, EYY, EXY)


@pytest.mark.parametrize("seed", [0, 1])
def test_triangles_recover_uniform_strain(seed):
    vel = uniform_strain_field(L, CENTER, 60, radius_km=80.0, translation=(-20.0, 25.0), random_state=seed)
    tri = strain_triangles(vel)
    exp = _expected()
    assert len(tri) >= 60 and tri.attrs["units"] == "1/yr"
    # invariants do not depend on the local axes; each triangle's axes turn by up to ~0.6° from the centre's
    for col in ("e1", "e2", "max_shear", "dilatation", "second_invariant"):
        np.testing.assert_allclose(tri[col], exp[col], rtol=2e-3, atol=3e-10, err_msg=col)
    np.testing.assert_allclose(tri["rotation"], ROT, rtol=2e-3)
    np.testing.assert_allclose(tri["exx"], EXX, atol=1.5e-9)
    np.testing.assert_allclose(tri["exy"], EXY, atol=2.5e-9)
    assert np.abs(tri["azimuth_e1"] - exp["azimuth_e1"]).max() < 1.0
    # area of the triangulation = area of the convex hull of the stations (< disc of 80 km)
    assert 0.6 < tri["area_m2"].sum() / 1e6 / (np.pi * 80**2) < 1.0  # hull of the stations, less slivers


def test_grid_recovers_uniform_strain_and_velocity_at_centre():
    vel = uniform_strain_field(L, CENTER, 80, radius_km=100.0, translation=(-20.0, 25.0), random_state=3)
    grid = strain_grid(vel, nodes=(np.array([CENTER[0], -117.6]), np.array([CENTER[1], 36.2])), smoothing_km=40.0)
    centre = grid.iloc[0]
    assert centre["valid"]
    assert (centre["exx"], centre["eyy"], centre["exy"]) == pytest.approx((EXX, EYY, EXY), rel=1e-4, abs=1e-13)
    assert centre["rotation"] == pytest.approx(ROT, rel=1e-4)
    assert (centre["ve"], centre["vn"]) == pytest.approx((-20.0, 25.0), abs=1e-3)
    np.testing.assert_allclose(grid["second_invariant"], _expected()["second_invariant"], rtol=1e-3)


def test_rigid_rotation_has_no_strain():
    """A rigid block turning at 0.75 deg/Myr (~45 mm/yr over 800 km) shows no strain, only spin about the vertical.

    The tangent-plane approximation leaves a second-order residual of about (size / R) * v / R:
    0.2 nanostrain/yr for 200-km triangles, far below tectonic rates (10-1000 nanostrain/yr).
    """
    pole = (48.9, -71.7, 0.75)
    vel = rigid_block_field(pole, (-124.0, -116.0, 32.0, 40.0), 80, random_state=4)
    tri = strain_triangles(vel)
    assert tri["second_invariant"].max() < 5e-10
    grid = strain_grid(vel, spacing_deg=1.0, region=(-123.0, -117.0, 33.0, 39.0))
    ok = grid[grid["valid"]]
    assert len(ok) >= 20
    assert ok["second_invariant"].max() < 5e-10
    r, _, _ = unit_vectors(ok["lon"].to_numpy(), ok["lat"].to_numpy())
    np.testing.assert_allclose(ok["rotation"], r @ pole_to_omega(*pole), rtol=1e-2)  # vertical spin = omega . r


def test_triangle_sigmas_match_monte_carlo():
    base = uniform_strain_field(L, CENTER, 4, radius_km=60.0, random_state=9).iloc[:3]
    base = base.assign(se=[0.5, 0.8, 0.6], sn=[0.7, 0.5, 0.9], rho=[0.3, -0.2, 0.0])
    formal = strain_triangles(base, min_angle_deg=0.0).iloc[0]
    rng = np.random.default_rng(0)
    covs = [[[se**2, r * se * sn], [r * se * sn, sn**2]] for se, sn, r in base[["se", "sn", "rho"]].to_numpy()]
    noise = np.stack([rng.multivariate_normal([0, 0], c, size=500) for c in covs], axis=1)  # (draws, 3, 2)
    cols = ["exx", "eyy", "exy", "dilatation"]
    draws = [strain_triangles(base.assign(ve=base["ve"] + n[:, 0], vn=base["vn"] + n[:, 1]), min_angle_deg=0.0).iloc[0][cols]
             for n in noise]  # fmt: skip
    empirical = pd.DataFrame(draws).std()
    for col in cols:  # 500 draws: the sample std is good to about 3 %
        assert formal[f"sigma_{col}"] == pytest.approx(empirical[col], rel=0.1), col


def test_grid_marks_nodes_outside_network_invalid_and_cell_areas():
    vel = uniform_strain_field(L, CENTER, 60, radius_km=50.0, random_state=2)
    grid = strain_grid(vel, spacing_deg=0.5, region=(-120.0, -116.0, 34.0, 38.0))
    far = grid[(np.abs(grid["lon"] - CENTER[0]) > 1.5) | (np.abs(grid["lat"] - CENTER[1]) > 1.5)]
    assert not far["valid"].any() and far["exx"].isna().all()
    assert grid.loc[grid["valid"]].shape[0] >= 1
    lon, lat, area = make_grid((-120.0, -116.0, 34.0, 38.0), 0.5)
    assert len(lon) == 64
    sphere_band = 6_371_008.8**2 * np.radians(4.0) * (np.sin(np.radians(38)) - np.sin(np.radians(34)))
    assert area.sum() == pytest.approx(sphere_band, rel=1e-12)


def test_adaptive_smoothing_shrinks_where_dense():
    dense = uniform_strain_field(L, CENTER, 200, radius_km=30.0, random_state=5)
    sparse = uniform_strain_field(L, (-116.0, 36.0), 30, radius_km=120.0, random_state=6, prefix="V")
    vel = pd.concat([dense, sparse], ignore_index=True)
    grid = strain_grid(vel, nodes=(np.array([CENTER[0], -116.0]), np.array([36.0, 36.0])), weight_threshold=8.0)
    assert grid.loc[0, "smoothing_km"] < grid.loc[1, "smoothing_km"] / 2
    assert (grid["weight_sum"] >= 8.0).all()


def test_nanostrain_and_errors():
    vel = uniform_strain_field(L, CENTER, 30, radius_km=50.0, random_state=1)
    tri = strain_triangles(vel)
    ns = to_nanostrain(tri)
    assert ns.attrs["units"] == "nanostrain/yr"
    np.testing.assert_allclose(ns["exx"], tri["exx"] * 1e9)
    np.testing.assert_allclose(ns["azimuth_e1"], tri["azimuth_e1"])
    with pytest.raises(SchemaError, match="'weighting' parameter must be one of \\['gaussian', 'quadratic'\\]. Got 'cubic'"):
        strain_grid(vel, weighting="cubic")
    with pytest.raises(SchemaError, match="'smoothing_km' parameter must be > 0 km or None. Got 0"):
        strain_grid(vel, smoothing_km=0)
    twin = pd.concat([vel.iloc[:2], vel.iloc[[0]].assign(station="TWIN", lon=vel.lon[0] + 1e-6)], ignore_index=True)
    with pytest.raises(SchemaError, match="at least 3 distinct stations; got 2"):
        strain_triangles(twin)
