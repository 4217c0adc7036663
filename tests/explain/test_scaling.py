"""OpenQuake GMPE scaling drawn beside the SHAP dependence plots."""

from __future__ import annotations

import numpy as np

from gmlearn.explain.scaling import gmpe_scaling


def test_bssa14_scaling_is_centred_and_physical(nzsmd_crustal):
    grid, curve = gmpe_scaling("BooreEtAl2014", nzsmd_crustal, "rrup", "PGA", log=True)
    x = nzsmd_crustal["rrup"].to_numpy()
    assert grid[0] == max(x.min(), 0.1) and np.isclose(grid[-1], x.max())
    assert np.all(np.diff(curve) < 0)  # attenuation with distance
    centre = np.interp(np.log(x), np.log(grid), curve).mean()
    assert abs(centre) < 1e-9
    mag_grid, mag_curve = gmpe_scaling("BooreEtAl2014", nzsmd_crustal, "mag", "PGA")
    assert np.all(np.diff(mag_curve) > 0) and mag_grid.min() == nzsmd_crustal["mag"].min()


def test_no_curve_for_a_feature_the_gmpe_does_not_use(nzsmd_crustal):
    assert gmpe_scaling("BooreEtAl2014", nzsmd_crustal, "z1pt0", "PGA") is None
    assert gmpe_scaling("BooreEtAl2014", nzsmd_crustal.drop(columns="rake"), "mag", "PGA") is None
