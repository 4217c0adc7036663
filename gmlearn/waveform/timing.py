"""Time structure of an earthquake record: arrivals, duration, record length and kappa.

Small, named pieces the realism layer (:mod:`gmlearn.waveform.realism`) and the
benchmarks share:

- P and S travel times over a homogeneous crust (``VP`` = 6.2 km/s, ``VS`` = 3.5 km/s)
  from the hypocentral distance ``sqrt(rrup^2 + depth^2)``; the S-P time therefore
  grows linearly with distance (about 0.12 s/km);
- the 5-95 % significant duration of Afshari and Stewart (2016), evaluated with
  OpenQuake's ``AfshariStewart2016`` (median and total sigma, ln s);
- the record length of a triggered record: a pre-event lead, the S-P time, twice the
  significant duration for the strong phase and coda, and a tail;
- kappa: the site term ``kappa0`` of Van Houtte et al. (2011),
  ``ln kappa0 = 3.490 - 1.062 ln vs30``, plus a path term ``KAPPA_R * rrup`` in the
  form of Anderson and Hough (1984).
"""

from __future__ import annotations

import numpy as np

__all__ = ["VP", "VS", "DEPTH", "LEAD", "KAPPA_R", "travel_times", "sp_time", "scenario_table", "duration_as16",
           "scenario_normal_draws", "record_length", "kappa0_vs30", "kappa_total"]

#: Crustal P- and S-wave velocities (km/s).
VP, VS = 6.2, 3.5
#: Default hypocentral depth (km) when none is given.
DEPTH = 8.0
#: Pre-event lead (s) before the P arrival in a record.
LEAD = 2.0
#: Path kappa per km (s/km): 1 / (Q beta) with Q ~ 950 near 20 Hz (Q(f) = 250 f^0.45) and beta 3.5 km/s.
KAPPA_R = 0.0003


def _arr(x: object) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def travel_times(rrup: object, depth: object = DEPTH) -> tuple[np.ndarray, np.ndarray]:
    """P and S travel times (s) from the origin to a station at rupture distance ``rrup`` (km)."""
    r = np.sqrt(_arr(rrup) ** 2 + _arr(depth) ** 2)
    return r / VP, r / VS


def sp_time(rrup: object, depth: object = DEPTH) -> np.ndarray:
    """S-P time (s) at rupture distance ``rrup`` (km)."""
    tp, ts = travel_times(rrup, depth)
    return ts - tp


def scenario_table(mag: object, rrup: object, vs30: object, rake: object = 0.0) -> "pandas.DataFrame":  # noqa: F821
    """An earthquake-scenario table with every context column common GMPEs need.

    Strike-slip ruptures (|rake| < 30 or > 150) dip 90°, others 45°; the top of rupture
    is at the surface (so ``rjb = rrup``), the site on the footwall (``rx = -rjb``),
    the width from Wells and Coppersmith (1994, all slip types), ``z1pt0`` from vs30
    (Chiou and Youngs 2014) and ``z2pt5`` (Campbell and Bozorgnia 2014) from vs30.
    """
    import pandas as pd

    from gmlearn.store.derived import z1pt0_from_vs30, z2pt5_from_vs30

    mag, rrup, vs30, rake = np.broadcast_arrays(_arr(mag), _arr(rrup), _arr(vs30), _arr(rake))
    strike_slip = (np.abs(rake) < 30) | (np.abs(rake) > 150)
    z1 = np.asarray(z1pt0_from_vs30(vs30), dtype=float)
    return pd.DataFrame({
        "mag": mag, "rake": rake, "rrup": rrup, "rjb": rrup, "rx": -rrup, "ry0": 0.0, "vs30": vs30,
        "vs30measured": True, "z1pt0": z1, "z2pt5": np.asarray(z2pt5_from_vs30(vs30), dtype=float), "ztor": 0.0,
        "dip": np.where(strike_slip, 90.0, 45.0), "width": 10.0 ** (-1.01 + 0.32 * mag), "hypo_depth": DEPTH,
    })


def duration_as16(mag: object, rrup: object, vs30: object, rake: object = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Afshari and Stewart (2016) 5-95 % significant duration: ln median (ln s) and total sigma, each (n,)."""
    import warnings

    from openquake.hazardlib import imt as oq_imt
    from openquake.hazardlib.contexts import get_mean_stds

    from gmlearn.gmpe.reference import OpenQuakeGMPE

    table = scenario_table(mag, rrup, vs30, rake)
    model = OpenQuakeGMPE("AfshariStewart2016")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = get_mean_stds(model._gsim, model.context(table), [oq_imt.from_string("RSD595")])
    return np.asarray(out[0][0], dtype=float), np.asarray(out[1][0], dtype=float)


def scenario_normal_draws(keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Standard normal draws, one per row of ``keys`` (n, k); rows with equal keys (3 or more) get normal scores.

    Within a group of equal scenarios the draws are replaced by the normal quantiles of
    their ranks, rescaled to unit sample standard deviation, so the group's median is 0
    and its spread 1 (the duration of a set then has the model's median by construction).
    """
    from scipy.stats import norm

    z = rng.standard_normal(len(keys))
    _, group = np.unique(np.round(np.asarray(keys, dtype=float), 6), axis=0, return_inverse=True)
    group = np.asarray(group).ravel()
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        if rows.size >= 3:
            ranks = np.argsort(np.argsort(z[rows], kind="stable"), kind="stable")
            scores = norm.ppf((ranks + 0.5) / rows.size)
            z[rows] = scores / scores.std(ddof=1)
    return z


def record_length(sp: np.ndarray, d595: np.ndarray, tail: float = 5.0, limit: float = 240.0) -> np.ndarray:
    """Record length (s): lead + S-P time + 2 x D5-95 + ``tail``, rounded up to whole seconds, at most ``limit``."""
    return np.minimum(np.ceil(LEAD + np.asarray(sp) + 2.0 * np.asarray(d595) + tail), limit)


def kappa0_vs30(vs30: object) -> np.ndarray:
    """Site kappa (s) from vs30 (m/s), Van Houtte et al. (2011): ``exp(3.490 - 1.062 ln vs30)``."""
    return np.exp(3.490 - 1.062 * np.log(_arr(vs30)))


def kappa_total(vs30: object, rrup: object, kappa0: object | None = None) -> np.ndarray:
    """Total kappa (s): site ``kappa0`` (default :func:`kappa0_vs30`) + ``KAPPA_R * rrup``."""
    k0 = kappa0_vs30(vs30) if kappa0 is None else _arr(kappa0)
    return k0 + KAPPA_R * _arr(rrup)
