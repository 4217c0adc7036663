"""Macroseismic intensity from ground motion: the GMICE of Worden et al. (2012), with its sigma propagated.

Worden, C. B., Gerstenberger, M. C., Rhoades, D. A. and Wald, D. J. (2012).
Probabilistic relationships between ground-motion parameters and modified
Mercalli intensity in California. Bulletin of the Seismological Society of
America 102(1), 204-221. doi:10.1785/0120110156

The relation is bilinear in ``log10 Y`` (Y in cm/s² for PGA and PSA, cm/s for
PGV; eq. 3 and Table 1):

    MMI = c1 + c2 log10 Y   for log10 Y <= t1
    MMI = c3 + c4 log10 Y   for log10 Y >  t1

and, in the magnitude-distance form (eq. 5, Table 2), plus
``c5 + c6 log10 rrup + c7 M``, with rrup clipped to 10-300 km and M to 3.0-7.3
as USGS ShakeMap does. MMI is clipped to [1, 10]. The standard deviation of
MMI combines the GMICE's own scatter with the ground-motion sigma through the
slope of the relation (first-order propagation):

    sigma_MMI^2 = sigma_GMICE^2 + (slope * log10(e) * sigma_lnY)^2

with ``slope`` = c2 or c4 on the segment of the median. The ShakeMap
extension below MMI 2 is not part of the paper and is not used.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from gmlearn.schema import imt_string

__all__ = ["WORDEN_2012", "GMICES", "GMICE_IMTS", "mmi_from_ground_motion", "choose_imt"]

#: cm/s² in one g (standard gravity); the GMICE takes accelerations in cm/s².
CM_S2_PER_G = 980.665

#: Worden et al. (2012) Table 1 (c1-c4, t1; sigma_mmi of eq. 3) and Table 2 (c5-c7; sigma_mmi_mr of eq. 5).
WORDEN_2012: dict[str, dict[str, float]] = {
    "PGA": {"c1": 1.78, "c2": 1.55, "c3": -1.60, "c4": 3.70, "t1": 1.57, "c5": -0.91, "c6": 1.02, "c7": -0.17,
            "sigma_mmi": 0.73, "sigma_mmi_mr": 0.66},
    "PGV": {"c1": 3.78, "c2": 1.47, "c3": 2.89, "c4": 3.16, "t1": 0.53, "c5": 0.90, "c6": 0.00, "c7": -0.18,
            "sigma_mmi": 0.65, "sigma_mmi_mr": 0.63},
    "SA(0.3)": {"c1": 1.26, "c2": 1.69, "c3": -4.15, "c4": 4.14, "t1": 2.21, "c5": -1.05, "c6": 0.60, "c7": 0.00,
                "sigma_mmi": 0.84, "sigma_mmi_mr": 0.82},
    "SA(1.0)": {"c1": 2.50, "c2": 1.51, "c3": 0.20, "c4": 2.90, "t1": 1.65, "c5": 2.27, "c6": -0.49, "c7": -0.29,
                "sigma_mmi": 0.80, "sigma_mmi_mr": 0.75},
    "SA(3.0)": {"c1": 3.81, "c2": 1.17, "c3": 1.99, "c4": 3.01, "t1": 0.99, "c5": 1.91, "c6": -0.57, "c7": -0.21,
                "sigma_mmi": 0.95, "sigma_mmi_mr": 0.89},
}

#: Allowed values of the ``gmice`` parameter: the plain relation and its magnitude-distance form.
GMICES: tuple[str, ...] = ("WordenEtAl2012", "WordenEtAl2012MR")

#: IMTs the GMICE converts, in order of preference (PGV has the smallest scatter).
GMICE_IMTS: tuple[str, ...] = ("PGV", "PGA", "SA(1.0)", "SA(0.3)", "SA(3.0)")

#: Limits of rrup (km) and magnitude in the magnitude-distance terms (as in USGS ShakeMap).
RRUP_LIMITS, MAG_LIMITS = (10.0, 300.0), (3.0, 7.3)


def choose_imt(imts: Sequence[str]) -> str | None:
    """The IMT of ``imts`` the GMICE converts to MMI (first of :data:`GMICE_IMTS`), or None."""
    names = {imt_string(i) for i in imts}
    return next((i for i in GMICE_IMTS if i in names), None)


def _check_gmice(gmice: str) -> None:
    if gmice not in GMICES:
        msg = f"The 'gmice' parameter must be one of {list(GMICES)} or None. Got {gmice!r} instead."
        raise ValueError(msg)


def mmi_from_ground_motion(
    imt: str,
    ln_median: np.ndarray,
    ln_sigma: np.ndarray | None = None,
    *,
    gmice: str = "WordenEtAl2012",
    mag: float | None = None,
    rrup: np.ndarray | None = None,
    coefficients: Mapping[str, Mapping[str, float]] = WORDEN_2012,
) -> tuple[np.ndarray, np.ndarray]:
    """MMI and its standard deviation from the ln median of a ground-motion IMT.

    Parameters
    ----------
    imt
        ``PGA``, ``PGV``, ``SA(0.3)``, ``SA(1.0)`` or ``SA(3.0)``.
    ln_median
        Natural log of the median: ln(g) for PGA and SA, ln(cm/s) for PGV; any shape.
    ln_sigma
        Standard deviation of ln Y (same shape), propagated into MMI; None for
        the GMICE scatter alone.
    gmice
        ``"WordenEtAl2012"`` (eq. 3) or ``"WordenEtAl2012MR"`` (eq. 5, needs
        ``mag`` and ``rrup``).
    mag, rrup
        Moment magnitude and rupture distance (km, shape of ``ln_median``) of
        the magnitude-distance form.

    Returns
    -------
    mmi, sigma
        Modified Mercalli intensity in [1, 10] and its standard deviation
        (intensity units), each of the shape of ``ln_median``.
    """
    _check_gmice(gmice)
    key = imt_string(imt)
    if key not in coefficients:
        msg = f"The GMICE converts {list(coefficients)} to MMI; {imt!r} is not among them."
        raise ValueError(msg)
    c = coefficients[key]
    ln_y = np.asarray(ln_median, dtype=float)
    log10_y = (ln_y + (0.0 if key == "PGV" else np.log(CM_S2_PER_G))) * np.log10(np.e)
    upper = log10_y > c["t1"]
    mmi = np.where(upper, c["c3"] + c["c4"] * log10_y, c["c1"] + c["c2"] * log10_y)
    scatter = c["sigma_mmi"]
    if gmice == "WordenEtAl2012MR":
        if mag is None or rrup is None:
            msg = "The magnitude-distance GMICE 'WordenEtAl2012MR' needs 'mag' and 'rrup'."
            raise ValueError(msg)
        r = np.clip(np.broadcast_to(np.asarray(rrup, dtype=float), ln_y.shape), *RRUP_LIMITS)
        mmi = mmi + c["c5"] + c["c6"] * np.log10(r) + c["c7"] * float(np.clip(mag, *MAG_LIMITS))
        scatter = c["sigma_mmi_mr"]
    slope = np.where(upper, c["c4"], c["c2"]) * np.log10(np.e)  # dMMI / dlnY
    sig_y = np.zeros_like(ln_y) if ln_sigma is None else np.asarray(ln_sigma, dtype=float)
    sigma = np.sqrt(scatter**2 + (slope * sig_y) ** 2)
    return np.clip(mmi, 1.0, 10.0), sigma
