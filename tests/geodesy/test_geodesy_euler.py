"""Euler-pole estimation on synthetic rigid blocks with known poles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import MissingColumnError, SchemaError
from gmlearn.geodesy import angle_between_deg, euler_velocity, fit_euler_pole, omega_to_pole, pole_to_omega
from gmlearn.geodesy.euler import RAD_YR_TO_DEG_MYR, pole_covariance
from gmlearn.geodesy.synthetic import rigid_block_field

POLE = (48.9, -71.7, 0.75)  # deg N, deg E, deg/Myr
REGION = (-124.0, -116.0, 32.0, 40.0)


def test_rotation_about_z_at_equator_is_eastward():
    """Hand check: 1 deg/Myr about the spin axis moves an equatorial point east at R * 1 deg/Myr."""
    ve, vn = euler_velocity(pole_to_omega(90.0, 0.0, 1.0), np.array([30.0]), np.array([0.0]))
    assert ve[0] == pytest.approx(6_371_008.8e3 * np.radians(1.0) / 1e6, rel=1e-12)  # 111.19 mm/yr
    assert vn[0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("pole", [(48.9, -71.7, 0.75), (-63.6, 114.7, 0.651), (10.0, 170.0, 2.0)])
def test_pole_omega_roundtrip(pole):
    lat, lon, rate = omega_to_pole(pole_to_omega(*pole))
    assert (lat, lon, rate) == pytest.approx(pole, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noise_free_block_recovers_pole_exactly(seed):
    vel = rigid_block_field(POLE, REGION, 30, random_state=seed)
    pole = fit_euler_pole(vel)
    assert abs(pole.lat - POLE[0]) < 1e-6
    assert abs(pole.lon - POLE[1]) < 1e-6
    assert abs(pole.rate - POLE[2]) < 1e-9
    assert angle_between_deg(pole.omega, pole_to_omega(*POLE)) < 1e-6
    assert pole.chi2 < 1e-12 and pole.wrms < 1e-9
    assert pole.dof == 2 * 30 - 3


def test_noisy_block_within_two_sigma():
    vel = rigid_block_field(POLE, REGION, 40, sigma=0.5, rho=0.3, random_state=11)
    pole = fit_euler_pole(vel)
    assert abs(pole.lat - POLE[0]) < 2 * pole.sigma_lat
    assert abs(pole.lon - POLE[1]) < 2 * pole.sigma_lon
    assert abs(pole.rate - POLE[2]) < 2 * pole.sigma_rate
    d = pole.omega - pole_to_omega(*POLE)
    assert d @ np.linalg.solve(pole.covariance, d) < 11.34  # chi2(3) 99 %
    assert 0.6 < pole.reduced_chi2 < 1.5


def test_formal_sigmas_have_nominal_coverage():
    """Over 200 noisy realisations about 95 % of the estimates lie within 2 sigma (correlated noise, weighted fit)."""
    rng = np.random.default_rng(5)
    hits = np.zeros(3)
    truth = np.array(POLE)
    for _ in range(200):
        vel = rigid_block_field(POLE, REGION, 25, sigma=1.0, rho=-0.4, random_state=rng)
        p = fit_euler_pole(vel)
        hits += np.abs(np.array([p.lat, p.lon, p.rate]) - truth) < 2 * np.array([p.sigma_lat, p.sigma_lon, p.sigma_rate])
    assert np.all((hits / 200 > 0.90) & (hits / 200 < 0.99)), hits / 200


def test_pole_covariance_matches_finite_differences():
    omega = pole_to_omega(*POLE)
    cov = np.diag([1e-20, 4e-20, 9e-20])
    jac = np.empty((3, 3))
    for j in range(3):
        h = np.zeros(3)
        h[j] = 1e-12
        jac[:, j] = (np.array(omega_to_pole(omega + h)) - np.array(omega_to_pole(omega - h))) / 2e-12
    np.testing.assert_allclose(pole_covariance(omega, cov), jac @ cov @ jac.T, rtol=1e-5)


def test_subset_mask_residuals_and_scaling():
    a = rigid_block_field(POLE, REGION, 20, sigma=0.3, prefix="A", random_state=1)
    b = rigid_block_field((60.0, -100.0, 0.2), (-116.0, -110.0, 34.0, 40.0), 15, sigma=0.3, prefix="B", random_state=2)
    vel = pd.concat([a, b], ignore_index=True)
    by_id = fit_euler_pole(vel, a["station"].tolist())
    by_mask = fit_euler_pole(vel, vel["station"].str.startswith("A").to_numpy())
    np.testing.assert_allclose(by_id.omega, by_mask.omega)
    assert len(by_id.residuals) == 20
    np.testing.assert_allclose(by_id.residuals["re"], by_id.residuals["ve"] - by_id.residuals["ve_model"])
    both = fit_euler_pole(vel)
    assert both.reduced_chi2 > 100  # two blocks do not fit one rotation
    scaled = fit_euler_pole(vel, scale_covariance=True)
    np.testing.assert_allclose(scaled.covariance, both.covariance * both.reduced_chi2)
    unweighted = fit_euler_pole(vel, a["station"], weighted=False)
    assert angle_between_deg(unweighted.omega, by_id.omega) < 1.0


def test_bad_inputs_name_parameter_and_value():
    vel = rigid_block_field(POLE, REGION, 5, random_state=0)
    with pytest.raises(SchemaError, match="at least 2 stations; got 1"):
        fit_euler_pole(vel, ["S000"])
    with pytest.raises(SchemaError, match="not in the table, e.g. \\['XXXX'\\]"):
        fit_euler_pole(vel, ["S000", "XXXX"])
    same = pd.concat([vel.iloc[[0]]] * 3, ignore_index=True).assign(station=["a", "b", "c"])
    with pytest.raises(SchemaError, match="do not constrain a rotation"):
        fit_euler_pole(same)
    with pytest.raises(SchemaError, match="column 'sn'.*'S002': -1.0"):
        fit_euler_pole(vel.assign(sn=[1.0, 1.0, -1.0, 1.0, 1.0]))
    with pytest.raises(MissingColumnError, match="lacks column\\(s\\) \\['rho'\\]"):
        fit_euler_pole(vel.drop(columns="rho"))
    assert RAD_YR_TO_DEG_MYR == pytest.approx(57295779.5, rel=1e-9)
