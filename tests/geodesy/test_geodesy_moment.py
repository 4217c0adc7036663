"""Geodetic moment rate (Kostrov / Savage & Simpson) and truncated Gutenberg-Richter rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

from gmlearn.exceptions import MissingColumnError, SchemaError
from gmlearn.geodesy import (
    compare_with_catalog,
    geodetic_moment_rate,
    gr_from_moment_rate,
    moment_magnitude,
    moment_rate_table,
    regional_moment_rate,
    scale_rates_to_moment,
    seismic_moment,
    strain_grid,
    to_nanostrain,
)
from gmlearn.geodesy.synthetic import uniform_strain_field


@pytest.mark.parametrize(
    ("e1", "e2", "emax"),
    [(1e-7, -0.5e-7, 1e-7), (0.3e-7, -1e-7, 1e-7), (1e-7, 1e-7, 2e-7), (-0.4e-7, -0.4e-7, 0.8e-7)],
)
def test_moment_rate_hand_calculation(e1, e2, emax):
    # 2 * mu * H * A * max(|e1|, |e2|, |e1 + e2|) with mu = 3e10 Pa, H = 15 km, A = 100 km x 100 km
    expected = 2 * 3.0e10 * 15e3 * 1e10 * emax
    assert geodetic_moment_rate(e1, e2, 1e10, mu=3.0e10, thickness_km=15.0) == pytest.approx(expected, rel=1e-12)
    assert geodetic_moment_rate(e1, e2, 1e10, mu=3.3e10, thickness_km=12.0) == pytest.approx(expected * 1.1 * 0.8)


def test_moment_magnitude_hanks_kanamori():
    assert seismic_moment(7.0) == pytest.approx(10 ** (10.5 + 9.1))
    assert moment_magnitude(seismic_moment([5.0, 6.5])) == pytest.approx([5.0, 6.5])


@pytest.mark.parametrize("b", [0.8, 1.0, 1.5])
def test_gr_moment_balance_matches_numerical_integral(b):
    target, coupling = 2.0e17, 0.6
    gr = gr_from_moment_rate(target, b=b, m_min=5.0, m_max=7.8, coupling=coupling)
    beta = b * np.log(10.0)
    density = lambda m: gr.rate_min * beta * np.exp(-beta * (m - 5.0)) / (1 - np.exp(-beta * 2.8))  # noqa: E731
    integral = quad(lambda m: seismic_moment(m) * density(m), 5.0, 7.8, epsabs=0, epsrel=1e-12)[0]
    assert integral == pytest.approx(coupling * target, rel=1e-9)
    assert gr.moment_rate() == pytest.approx(coupling * target, rel=1e-12)
    assert gr.cumulative_rate(5.0) == pytest.approx(gr.rate_min)
    assert gr.cumulative_rate(7.8) == pytest.approx(0.0, abs=1e-15)
    bins = gr.incremental_rates(0.1)
    assert bins["rate"].sum() == pytest.approx(gr.rate_min, rel=1e-12)
    assert (bins["rate"] * seismic_moment(bins["mag"])).sum() == pytest.approx(coupling * target, rel=0.02)


def test_gr_b_one_hand_value():
    """b = 1, 5 <= M <= 8: mean moment per event = rate * ln10 * 10^(1.5*5+9.1) * (10^(0.5*3) - 1) / (0.5 ln10) / (1 - 10^-3)."""
    gr = gr_from_moment_rate(1e18, b=1.0, m_min=5.0, m_max=8.0)
    per_event = 10 ** (7.5 + 9.1) * 2 * (10**1.5 - 1) / (1 - 1e-3)
    assert gr.rate_min == pytest.approx(1e18 / per_event, rel=1e-12)
    assert gr.a_value == pytest.approx(np.log10(gr.rate_min) + 5.0)


def test_openquake_mfd_has_the_same_rates():
    gr = gr_from_moment_rate(5e17, b=0.9, m_min=5.0, m_max=7.5, coupling=0.8)
    mfd = gr.to_openquake(bin_width=0.1)
    oq = np.array(mfd.get_annual_occurrence_rates())
    ours = gr.incremental_rates(0.1)
    np.testing.assert_allclose(oq[:, 0], ours["mag"], atol=1e-9)
    np.testing.assert_allclose(oq[:, 1], ours["rate"], rtol=1e-9)


def test_compare_with_catalog_and_scaling():
    gr = gr_from_moment_rate(1e18, b=1.0, m_min=5.0, m_max=8.0)
    rng = np.random.default_rng(1)
    years = 200.0
    n = rng.poisson(gr.rate_min * years)
    u = rng.uniform(size=n)  # inverse-CDF draws of the truncated law
    mags = 5.0 - np.log10(1 - u * (1 - 10 ** (-3.0)))
    table = compare_with_catalog(gr, mags, years, thresholds=np.array([5.0, 6.0]))
    assert list(table.columns) == ["mag", "n_observed", "observed_rate", "predicted_rate", "ratio", "p_value"]
    assert table.loc[0, "ratio"] == pytest.approx(1.0, abs=0.15)
    assert (table["p_value"] > 0.01).all()
    far = compare_with_catalog(gr, mags[:5], years, thresholds=np.array([5.0]))
    assert far.loc[0, "p_value"] < 1e-6  # five events where hundreds are expected
    rates, factor = scale_rates_to_moment(np.array([5.5, 6.5]), np.array([1.0, 0.1]), 2 * (seismic_moment(5.5) + 0.1 * seismic_moment(6.5)))
    assert factor == pytest.approx(2.0) and rates == pytest.approx([2.0, 0.2])


def test_regional_moment_rate_of_uniform_field():
    gradient = np.array([[100e-9, 0.0], [0.0, -40e-9]])
    vel = uniform_strain_field(gradient, (-118.0, 36.0), 300, radius_km=150.0, random_state=0)
    grid = strain_grid(vel, spacing_deg=0.5, region=(-119.0, -117.0, 35.0, 37.0), smoothing_km=60.0)
    total = regional_moment_rate(grid, mu=3e10, thickness_km=15.0)
    area = grid.loc[grid["valid"], "area_m2"].sum()
    assert total["n_cells"] == grid["valid"].sum() >= 12
    assert total["moment_rate"] == pytest.approx(2 * 3e10 * 15e3 * area * 100e-9, rel=1e-3)
    assert total["moment_rate_mean_tensor"] == pytest.approx(total["moment_rate"], rel=1e-3)
    part = regional_moment_rate(grid, (-119.0, -118.0, 35.0, 37.0))
    assert part["moment_rate"] < total["moment_rate"]
    assert moment_rate_table(grid)["moment_rate"].ge(0).all()


def test_errors_name_parameter_and_value():
    with pytest.raises(SchemaError, match="'coupling' parameter must lie in \\(0, 1\\]. Got 1.5"):
        gr_from_moment_rate(1e17, coupling=1.5)
    with pytest.raises(SchemaError, match="'m_min' parameter \\(8.0\\) must be smaller than 'm_max' \\(7.0\\)"):
        gr_from_moment_rate(1e17, m_min=8.0, m_max=7.0)
    with pytest.raises(SchemaError, match="'thickness_km' parameter must be a positive number. Got -15"):
        geodetic_moment_rate(1e-7, 0.0, 1e10, thickness_km=-15)
    with pytest.raises(SchemaError, match="'b' parameter must be a positive number"):
        gr_from_moment_rate(1e17, b=0.0)
    with pytest.raises(MissingColumnError, match="lacks column\\(s\\) \\['area_m2'\\]"):
        moment_rate_table(pd.DataFrame({"e1": [1e-7], "e2": [0.0]}))
    grid = pd.DataFrame({"lon": [0.0], "lat": [0.0], "e1": [1e-7], "e2": [0.0], "area_m2": [1e10]})
    with pytest.raises(SchemaError, match="must be in 1/yr \\(got 'nanostrain/yr'\\)"):
        moment_rate_table(to_nanostrain(grid))
