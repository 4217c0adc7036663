"""Remedies for data imbalance: density weights and physics pseudo-records.

Strong-motion data sets are crowded with moderate magnitudes at intermediate
distances and thin at large magnitudes near the fault and at small magnitudes
far away. Two remedies, each switchable on every boosted model:

- :func:`density_weights` weights each record by the inverse of the number of
  records in its magnitude-distance cell (normalised to mean one, capped), so
  the learner does not trade the sparse cells for the crowded ones.
- :func:`pseudo_records` places physics pseudo-records of the model's base in
  magnitude-distance cells of the training range that hold (almost) no record;
  the caller gives them a fixed share of the total weight, so they can fill
  holes but never outvote the data.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = ["density_weights", "pseudo_records", "MAG_BIN", "DISTANCE_BINS_PER_DECADE", "MAX_WEIGHT_RATIO"]

#: Cell size: magnitude units, and log10-distance bins per decade.
MAG_BIN = 0.25
DISTANCE_BINS_PER_DECADE = 4
#: Largest ratio between the heaviest and the mean record weight.
MAX_WEIGHT_RATIO = 10.0
#: Cells with fewer records than this get pseudo-records.
MIN_RECORDS_PER_CELL = 3


def _cells(mag: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mi = np.floor(mag / MAG_BIN).astype(int)
    di = np.floor(np.log10(np.maximum(dist, 0.1)) * DISTANCE_BINS_PER_DECADE).astype(int)
    return mi, di


def density_weights(table: pd.DataFrame, distance: str = "rjb") -> np.ndarray:
    """Inverse magnitude-distance cell counts, mean one, at most :data:`MAX_WEIGHT_RATIO`, shape (n_rows,)."""
    mag = pd.to_numeric(table["mag"]).to_numpy(dtype=float)
    dist = pd.to_numeric(table[distance]).to_numpy(dtype=float)
    mi, di = _cells(mag, dist)
    keys = pd.Series(list(zip(mi, di, strict=True)))
    counts = keys.map(keys.value_counts()).to_numpy(dtype=float)
    w = 1.0 / counts
    for _ in range(50):  # cap, renormalise, until the cap holds after normalising
        w = w / w.mean()
        if w.max() <= MAX_WEIGHT_RATIO * (1 + 1e-9):
            break
        w = np.minimum(w, MAX_WEIGHT_RATIO)
    return np.minimum(w, MAX_WEIGHT_RATIO)


def pseudo_records(table: pd.DataFrame, anchor: Any, imts: Sequence[str], features: Sequence[str],
                   *, per_cell: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and base ln means of pseudo-records in the sparse cells of the training box.

    Parameters
    ----------
    table
        Training rows.
    anchor
        The model's :class:`~gmlearn.gmpe.anchor.PhysicsAnchor` (box and base).
    imts
        IMTs of the base means.
    features
        The learner's feature columns, in order.
    per_cell
        Pseudo-records per sparse cell (at the 25th, 50th and 75th percentile
        of the training vs30, strike-slip, geometry of
        :func:`gmlearn.store.derived.scenario_table`).

    Returns
    -------
    x, mean
        ``x`` shape (n_pseudo, n_features); ``mean`` shape (n_imts, n_pseudo).
    """
    from gmlearn.store.derived import scenario_table

    mag = pd.to_numeric(table["mag"]).to_numpy(dtype=float)
    dist = pd.to_numeric(table[anchor.distance]).to_numpy(dtype=float)
    mi, di = _cells(mag, dist)
    filled = pd.Series(list(zip(mi, di, strict=True))).value_counts()
    (m0, m1), (d0, d1) = anchor.box["mag"], anchor.box["distance"]
    lo_m, hi_m = _cells(np.array([m0, m1]), np.array([d0, d1]))
    rows = []
    for a in range(lo_m[0], lo_m[1] + 1):
        for b in range(hi_m[0], hi_m[1] + 1):
            if filled.get((a, b), 0) < MIN_RECORDS_PER_CELL:
                m = float(np.clip((a + 0.5) * MAG_BIN, m0, m1))
                r = float(np.clip(10 ** ((b + 0.5) / DISTANCE_BINS_PER_DECADE), d0, d1))
                rows.append((m, r))
    if not rows:
        return np.zeros((0, len(features))), np.zeros((len(imts), 0))
    vs30 = np.quantile(pd.to_numeric(table["vs30"]).to_numpy(dtype=float), np.linspace(0.25, 0.75, per_cell))
    cells = np.array(rows)
    m = np.repeat(cells[:, 0], per_cell)
    r = np.repeat(cells[:, 1], per_cell)
    v = np.tile(vs30, len(cells))
    scen = scenario_table(m, r, v, np.zeros_like(m))
    if anchor.distance != "rjb":  # the box distance is rrup: place the cell at that rrup
        scen["rrup"] = r
    mean = anchor.ensemble.predict(scen, list(imts)).mean
    missing = [f for f in features if f not in scen]
    for name in missing:  # features the scenario does not define: the training median
        scen[name] = float(pd.to_numeric(table[name], errors="coerce").median())
    return scen[list(features)].to_numpy(dtype=float), mean
