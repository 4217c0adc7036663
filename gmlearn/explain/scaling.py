"""Scaling of a published OpenQuake GMPE along one feature, for comparison with SHAP dependence.

A SHAP dependence plot shows how a model's prediction moves with one feature
around its average. :func:`gmpe_scaling` gives the same quantity for a GMPE:
its ln mean along a grid of the feature, every other input held at the median
of the explained records, centred so that its mean over those records' values
of the feature is zero. Distances vary together (``rrup``, ``rjb``, ``rx``,
``repi``, ``rhypo`` all set to the grid value), which is exact for a vertical
rupture reaching the surface and an approximation otherwise.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["gmpe_scaling", "DISTANCES"]

#: Distance columns varied together.
DISTANCES: tuple[str, ...] = ("rrup", "rjb", "rx", "ry0", "repi", "rhypo")


def _grid(values: np.ndarray, log: bool, n: int) -> np.ndarray:
    v = values[np.isfinite(values)]
    if log:
        v = v[v > 0]
        return np.geomspace(max(v.min(), 0.1), v.max(), n) if v.size else np.zeros(0)
    return np.linspace(v.min(), v.max(), n) if v.size else np.zeros(0)


def gmpe_scaling(gsim: str, table: pd.DataFrame, feature: str, imt: str, *, n: int = 60,
                 log: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """Centred ln mean of an OpenQuake GMPE along ``feature``.

    Parameters
    ----------
    gsim
        OpenQuake GSIM class name (e.g. ``"BooreEtAl2014"``).
    table
        The explained records (physical units); medians fix the other inputs.
    feature
        Column varied along a grid spanning its range in ``table``.
    imt
        IMT of the curve.
    n
        Grid points.
    log
        Geometric grid (distances, vs30).

    Returns
    -------
    (grid, curve) or None
        None when the GMPE does not use the feature, lacks an input or the IMT.
    """
    from gmlearn.exceptions import GMLearnError
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    model = OpenQuakeGMPE(gsim)
    needed = model.required_features
    varied = [d for d in DISTANCES if d in needed] if feature in DISTANCES else [feature]
    if feature not in table or not any(v in needed for v in varied):
        return None
    missing = [c for c in needed if c not in table and c not in varied]
    if missing:
        return None
    grid = _grid(pd.to_numeric(table[feature]).to_numpy(dtype=float), log, n)
    if grid.size < 2:
        return None
    ref = {}
    for name in needed:
        col = table[name]
        if col.dtype == bool or str(col.dtype) == "boolean":
            ref[name] = bool(col.mode().iloc[0])
        else:
            ref[name] = float(pd.to_numeric(col).median())
    rows = pd.DataFrame({k: np.repeat(v, len(grid)) for k, v in ref.items()})
    for name in varied:
        rows[name] = grid
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            curve = np.asarray(model.predict(rows, [imt]).mean[0], dtype=float)
    except (GMLearnError, ValueError, KeyError):
        return None
    if not np.isfinite(curve).all():
        return None
    x = pd.to_numeric(table[feature]).to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    at_data = np.interp(np.log(np.maximum(x, 1e-3)) if log else x, np.log(grid) if log else grid, curve)
    return grid, curve - at_data.mean()
