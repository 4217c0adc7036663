"""Evaluation of generators against OpenQuake GMPEs and held-out real records.

:func:`gmpe_reference` gives GMPE medians and sigmas for scenarios: PSA and PGV
from Boore et al. (2014) (``BooreEtAl2014``, RotD50), Arias intensity from Travasarou
et al. (2003) and the 5-95 % significant duration from Afshari and Stewart (2016).
:func:`scenario_scores` compares a generator's samples with them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gmlearn.waveform.metrics import summary

__all__ = ["EVAL_PERIODS", "MEASURES", "gmpe_reference", "measures", "scenario_scores"]

#: Periods (s) at which spectra are compared: 0.1-3 s.
EVAL_PERIODS = np.array([0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0])
#: Scalar measures compared besides PSA, with their GMPE.
MEASURES = {"pgv": ("BooreEtAl2014", "PGV"), "arias": ("TravasarouEtAl2003", "IA"),
            "d5_95": ("AfshariStewart2016", "RSD595")}


def _table(mag: float, rrup: float, vs30: float) -> "pandas.DataFrame":  # noqa: F821
    import pandas as pd

    from gmlearn.store.derived import z1pt0_from_vs30

    return pd.DataFrame({"mag": [mag], "rake": [0.0], "rrup": [rrup], "rjb": [rrup], "vs30": [vs30],
                         "z1pt0": [float(np.asarray(z1pt0_from_vs30(np.array([vs30])))[0])]})


def gmpe_reference(mag: float, rrup: float, vs30: float, periods: np.ndarray = EVAL_PERIODS) -> dict[str, Any]:
    """GMPE ln medians and total sigmas for one scenario (strike-slip, rjb = rrup).

    Returns ``{"psa": (mean (n_periods,), sigma (n_periods,)), "pgv": (mean, sigma),
    "arias": ..., "d5_95": ...}`` in ln g, ln cm/s, ln m/s and ln s.
    """
    import warnings

    from openquake.hazardlib import imt as oq_imt
    from openquake.hazardlib.contexts import get_mean_stds

    from gmlearn.gmpe.reference import OpenQuakeGMPE

    table = _table(mag, rrup, vs30)
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bssa = OpenQuakeGMPE("BooreEtAl2014")
        pred = bssa.predict(table, [f"SA({t:g})" for t in periods])
        out["psa"] = (pred.mean[:, 0], pred.sigma[:, 0])
        for key, (gsim, imt) in MEASURES.items():
            model = OpenQuakeGMPE(gsim)
            res = get_mean_stds(model._gsim, model.context(table), [oq_imt.from_string(imt)])
            out[key] = (float(res[0][0, 0]), float(res[1][0, 0]))
    return out


def measures(acc: np.ndarray, dt: float = 0.02, periods: np.ndarray = EVAL_PERIODS, n_angles: int = 36) -> dict:
    """ln RotD50 PSA (n, n_periods) and ln PGV, Arias intensity, D5-95 (n,) of three-component records."""
    s = summary(acc, dt, periods, n_angles=n_angles)
    tiny = 1e-12
    return {"psa": np.log(s["psa"] + tiny), "pgv": np.log(s["pgv"] + tiny), "arias": np.log(s["arias"] + tiny),
            "d5_95": np.log(s["d5_95"] + 0.02)}


def scenario_scores(ln: dict, ref: dict) -> dict[str, Any]:
    """Median bias and sigma ratio of generated ln measures ``ln`` (from :func:`measures`) vs a GMPE ``ref``."""
    out = {"psa_bias": np.median(ln["psa"], axis=0) - ref["psa"][0],
           "psa_sigma_ratio": np.std(ln["psa"], axis=0, ddof=1) / ref["psa"][1]}
    for key in MEASURES:
        out[f"{key}_bias"] = float(np.median(ln[key]) - ref[key][0])
        out[f"{key}_sigma_ratio"] = float(np.std(ln[key], ddof=1) / ref[key][1])
    return out
