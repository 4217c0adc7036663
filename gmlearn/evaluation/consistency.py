"""Physical consistency of a ground-motion model on a grid of consistent scenarios.

A *consistent scenario* is a rupture whose geometry follows its magnitude the way
:mod:`gmlearn.store.derived` builds geometry for records that lack it: width
from Wells & Coppersmith (1994) bounded by the seismogenic layer, dip from the
style of faulting, a hypocentre that deepens with magnitude, and the top of
rupture from the hypocentre (Kaklamanos et al. 2011, eq. 4). Sites sit on the
footwall, perpendicular to the strike at Joyner-Boore distance ``d`` from the
surface projection, so ``rjb = d``, ``rx = -d``, ``ry0 = 0`` and
``rrup = sqrt(d**2 + ztor**2)``.

On such a grid ln IM should never fall as magnitude grows (at fixed site and
``d``) and never rise as ``d`` grows (at fixed rupture and site).
:func:`scaling_violations` counts the steps that break either rule by more than
a tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["consistent_scenarios", "scaling_violations", "GRID_MAGS", "GRID_DISTANCES", "GRID_VS30"]

#: Default grid: magnitudes 3-8.5, Joyner-Boore distances 0.1-500 km, vs30 150-1500 m/s.
GRID_MAGS: np.ndarray = np.round(np.arange(3.0, 8.5001, 0.1), 2)
GRID_DISTANCES: np.ndarray = np.geomspace(0.1, 500.0, 30)
GRID_VS30: tuple[float, ...] = (150.0, 270.0, 400.0, 760.0, 1500.0)


def consistent_scenarios(
    mags: Sequence[float] = tuple(GRID_MAGS),
    distances: Sequence[float] = tuple(GRID_DISTANCES),
    vs30s: Sequence[float] = GRID_VS30,
    rakes: Sequence[float] = (0.0, 90.0, -90.0),
) -> pd.DataFrame:
    """Scenario table over magnitude x distance x vs30 x rake with consistent geometry.

    Returns one row per combination with every context column gmlearn's
    models and the NGA-West2 GMPEs read (``mag, rake, dip, ztor, width,
    hypo_depth, rrup, rjb, rx, ry0, repi, rhypo, vs30, vs30measured, z1pt0,
    z2pt5``), plus ``event_id``/``station_id`` keys, ordered so that
    magnitude varies fastest after distance (see :func:`scaling_violations`).
    """
    from gmlearn.store.derived import scenario_table

    rake, vs30, mag, d = (a.ravel() for a in np.meshgrid(np.asarray(rakes, float), np.asarray(vs30s, float),
                                                          np.asarray(mags, float), np.asarray(distances, float),
                                                          indexing="ij"))
    table = scenario_table(mag, d, vs30, rake)
    table["event_id"] = [f"scenario-M{m:.2f}-r{r:g}" for m, r in zip(mag, rake, strict=True)]
    table["station_id"] = [f"site-d{x:.3g}-v{v:g}" for x, v in zip(d, vs30, strict=True)]
    return table


def scaling_violations(
    table: pd.DataFrame, mean: np.ndarray, *, tolerance: float = 0.01
) -> dict[str, Any]:
    """Count magnitude and distance scaling violations of ``mean`` on a scenario grid.

    Parameters
    ----------
    table
        Output of :func:`consistent_scenarios` (any subset of rows that keeps
        whole magnitude and distance lines).
    mean
        ln IM, shape (n_rows,) or (n_imts, n_rows).
    tolerance
        ln units a step may go the wrong way before it counts.

    Returns
    -------
    dict
        ``magnitude`` and ``distance``: number of violating steps (summed over
        IMTs); ``worst_magnitude`` / ``worst_distance``: the largest wrong-way
        step (ln units, 0 when none); ``worst_magnitude_at`` / ``worst_distance_at``:
        the scenario (mag, rjb, vs30, rake, imt index) of the worst step.
    """
    means = np.atleast_2d(np.asarray(mean, dtype=float))
    keys = table[["rake", "vs30", "mag", "rjb"]].to_numpy(dtype=float)
    out: dict[str, Any] = {"magnitude": 0, "distance": 0, "worst_magnitude": 0.0, "worst_distance": 0.0,
                           "worst_magnitude_at": None, "worst_distance_at": None, "steps": 0}
    for axis, other, name, sign in ((2, 3, "magnitude", -1.0), (3, 2, "distance", 1.0)):
        order = np.lexsort((keys[:, axis], keys[:, other], keys[:, 1], keys[:, 0]))
        k = keys[order]
        same_line = np.all(k[1:, [0, 1, other]] == k[:-1, [0, 1, other]], axis=1)
        for i, m in enumerate(means):
            step = np.diff(m[order])[same_line] * sign  # positive = wrong way
            bad = step > tolerance
            out[name] += int(bad.sum())
            out["steps"] += int(step.size)
            if bad.any() and step.max() > out[f"worst_{name}"]:
                j = np.flatnonzero(same_line)[int(np.argmax(step))]
                out[f"worst_{name}"] = float(step.max())
                out[f"worst_{name}_at"] = {"mag": float(k[j, 2]), "rjb": float(k[j, 3]), "vs30": float(k[j, 1]),
                                           "rake": float(k[j, 0]), "imt_index": i}
    return out
