"""Worden et al. (2012) GMICE: published values, segments, sigma propagation, magnitude-distance form."""

from __future__ import annotations

import numpy as np
import pytest

from gmlearn.shakemap.gmice import WORDEN_2012, choose_imt, mmi_from_ground_motion


@pytest.mark.parametrize(
    ("imt", "value", "expected"),
    [
        ("PGV", 10.0, 2.89 + 3.16 * 1.0),  # 10 cm/s: upper segment, log10 Y = 1
        ("PGV", 1.0, 3.78),  # 1 cm/s: lower segment, log10 Y = 0
        ("PGA", 0.1, -1.60 + 3.70 * np.log10(98.0665)),  # 0.1 g = 98.07 cm/s2
        ("SA(1.0)", 0.02, 2.50 + 1.51 * np.log10(19.6133)),  # below t1 = 1.65
    ],
)
def test_published_relation(imt: str, value: float, expected: float) -> None:
    mmi, sigma = mmi_from_ground_motion(imt, np.log([value]))
    assert mmi[0] == pytest.approx(expected, abs=1e-9)
    assert sigma[0] == WORDEN_2012[imt]["sigma_mmi"]  # no ground-motion sigma: the GMICE scatter alone


def test_sigma_propagation_and_clipping() -> None:
    ln_y = np.log([0.001, 0.5, 50.0])  # g
    mmi, sigma = mmi_from_ground_motion("PGA", ln_y, np.full(3, 0.6))
    slope = np.where(ln_y + np.log(980.665) > 1.57 / np.log10(np.e), 3.70, 1.55) * np.log10(np.e)
    np.testing.assert_allclose(sigma, np.sqrt(0.73**2 + (slope * 0.6) ** 2))
    assert mmi[2] == 10.0 and 1.0 <= mmi[0] < mmi[1]  # clipped to the intensity scale
    assert np.all(sigma > 0.73)


def test_magnitude_distance_form() -> None:
    ln_y = np.log([10.0, 10.0])
    plain, _ = mmi_from_ground_motion("PGV", ln_y)
    mr, sigma = mmi_from_ground_motion("PGV", ln_y, gmice="WordenEtAl2012MR", mag=8.0, rrup=np.array([5.0, 50.0]))
    c = WORDEN_2012["PGV"]
    # rrup clipped to 10-300 km and M to 3.0-7.3; PGV has no distance term (c6 = 0)
    np.testing.assert_allclose(mr, plain + c["c5"] + c["c7"] * 7.3)
    assert sigma[0] == c["sigma_mmi_mr"]
    with pytest.raises(ValueError, match="needs 'mag' and 'rrup'"):
        mmi_from_ground_motion("PGV", ln_y, gmice="WordenEtAl2012MR")
    with pytest.raises(ValueError, match="'gmice' parameter"):
        mmi_from_ground_motion("PGV", ln_y, gmice="Wald1999")
    with pytest.raises(ValueError, match="SA\\(2.0\\)"):
        mmi_from_ground_motion("SA(2.0)", ln_y)


def test_choose_imt_prefers_pgv() -> None:
    assert choose_imt(["SA(1.0)", "PGA", "PGV"]) == "PGV"
    assert choose_imt(["SA(1)", "SA(3.0)"]) == "SA(1.0)"
    assert choose_imt(["SA(2.0)"]) is None
