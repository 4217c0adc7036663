"""Reasenberg (1985) cluster declustering.

Events are visited in time order. Each event looks ahead ``tau`` days and
links every later event within its interaction zone: ``rfact`` crack radii
``r = 0.011 * 10**(0.4 M)`` km (Kanamori & Anderson 1975) around itself and,
inside a cluster, one crack radius around the cluster's largest event.
Outside clusters ``tau = tau_min``; inside, the look-ahead time grows with the
time ``t`` since the largest event, as the Omori-law time at which the next
event is expected with probability ``p``:

``tau = -ln(1 - p) * t / 10**(2 (dM - 1) / 3)``, ``dM = (1 - xk) M_max - xmeff``,

clipped to ``[tau_min, tau_max]``. Linked clusters merge. Distances are
hypocentral after subtracting the location errors ``err_km`` (horizontal)
and ``derr_km`` (vertical). The largest event of each cluster is kept.

Reference: Reasenberg, P. (1985). Second-order moment of central California
seismicity, 1969-1982. JGR 90(B7), 5479-5495. Defaults follow the ones
commonly used with it (ZMAP; van Stiphout et al. 2012, CORSSA).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gmlearn.catalog.declustering import DeclusterResult, flags_from_clusters
from gmlearn.catalog.frame import validate_catalog
from gmlearn.catalog.geometry import EARTH_RADIUS_KM, days_since, to_cartesian_km
from gmlearn.exceptions import SchemaError

__all__ = ["reasenberg", "crack_radius_km"]


def crack_radius_km(mag: np.ndarray) -> np.ndarray:
    """Crack radius (km) of Kanamori & Anderson (1975) as used by Reasenberg: ``0.011 * 10**(0.4 M)``."""
    return 0.011 * 10.0 ** (0.4 * np.asarray(mag, dtype=float))


class _Clusters:
    """Union-find over cluster numbers, tracking each cluster's largest event."""

    def __init__(self, n: int, mag: np.ndarray) -> None:
        self.parent = np.arange(n + 1)
        self.big = np.full(n + 1, -1)
        self.mag = mag
        self.count = 0

    def find(self, c: int) -> int:
        parent = self.parent
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return int(c)

    def new(self, event: int) -> int:
        self.count += 1
        self.big[self.count] = event
        return self.count

    def merge(self, labels: set[int]) -> int:
        target = min(labels)
        for c in labels:
            if c != target:
                self.parent[c] = target
                if self.mag[self.big[c]] > self.mag[self.big[target]]:
                    self.big[target] = self.big[c]
        return target


def _check(name: str, value: float, lo: float, hi: float) -> None:
    if not lo <= float(value) <= hi:
        msg = f"The {name!r} parameter of reasenberg must be in [{lo}, {hi}]. Got {value!r} instead."
        raise SchemaError(msg)


def _look_ahead(clusters: _Clusters, c: int, i: int, t: np.ndarray, params: dict) -> float:
    """Look-ahead time (days) of event ``i`` in cluster ``c`` (0 = none)."""
    if not c:
        return params["tau_min"]
    big = clusters.big[c]
    if clusters.mag[i] >= clusters.mag[big]:
        clusters.big[c] = i
        return params["tau_min"]
    dm = max((1.0 - params["xk"]) * clusters.mag[big] - params["xmeff"], 0.0)
    tau = -np.log(1.0 - params["p"]) * (t[i] - t[big]) / 10.0 ** ((dm - 1.0) * 2.0 / 3.0)
    return float(np.clip(tau, params["tau_min"], params["tau_max"]))


def _distances(i: int, j: np.ndarray, xyz: np.ndarray, depth: np.ndarray, err: float, derr: float) -> np.ndarray:
    chord = np.linalg.norm(xyz[j] - xyz[i], axis=1)
    epi = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / (2.0 * EARTH_RADIUS_KM), 1.0))
    dz = np.nan_to_num(np.abs(depth[j] - depth[i]), nan=0.0)
    return np.hypot(np.maximum(epi - err, 0.0), np.maximum(dz - derr, 0.0))


def reasenberg(
    catalog: pd.DataFrame,
    *,
    rfact: float = 10.0,
    xmeff: float | None = None,
    xk: float = 0.5,
    tau_min: float = 1.0,
    tau_max: float = 10.0,
    p: float = 0.95,
    err_km: float = 1.5,
    derr_km: float = 2.0,
    max_radius_km: float | None = None,
) -> DeclusterResult:
    """Decluster a catalogue with Reasenberg's (1985) algorithm.

    Parameters
    ----------
    catalog
        Canonical catalogue (``time``, ``lon``, ``lat``, ``mag``; ``depth`` used when present).
    rfact
        Interaction radius in crack radii around the current event.
    xmeff
        Effective minimum magnitude (default: the smallest magnitude).
    xk
        Raise of ``xmeff`` during clusters, as a fraction of the largest magnitude.
    tau_min, tau_max
        Look-ahead time outside clusters and its upper bound inside (days).
    p
        Confidence of observing the next event of a sequence.
    err_km, derr_km
        Horizontal and vertical location errors subtracted from distances.
    max_radius_km
        Optional cap of the interaction radius (e.g. 30 km, a crustal thickness).

    Returns
    -------
    DeclusterResult
        Aligned with the rows of ``catalog``.
    """
    validate_catalog(catalog)
    _check("p", p, 0.0, 0.999999)
    _check("xk", xk, 0.0, 1.0)
    _check("tau_min", tau_min, 1e-9, tau_max)
    _check("rfact", rfact, 1e-9, 1e6)
    order = np.argsort(days_since(catalog["time"]), kind="stable")
    cat = catalog.iloc[order]
    t = days_since(cat["time"])
    mag = cat["mag"].to_numpy(dtype=float)
    params = {"rfact": float(rfact), "xmeff": float(mag.min() if xmeff is None else xmeff), "xk": float(xk),
              "tau_min": float(tau_min), "tau_max": float(tau_max), "p": float(p), "err_km": float(err_km),
              "derr_km": float(derr_km), "max_radius_km": max_radius_km}
    xyz = to_cartesian_km(cat["lon"].to_numpy(), cat["lat"].to_numpy())
    depth = cat["depth"].to_numpy(dtype=float) if "depth" in cat.columns else np.zeros(len(cat))
    r_main = crack_radius_km(mag)
    r_zone = rfact * r_main if max_radius_km is None else np.minimum(rfact * r_main, max_radius_km)
    labels = _link(t, mag, xyz, depth, r_main, r_zone, params)
    cid = np.zeros(len(cat), dtype=np.int64)
    cid[order] = labels
    flag = flags_from_clusters(cid, catalog["mag"].to_numpy(dtype=float), days_since(catalog["time"]))
    ids = catalog["event_id"].astype(str).to_numpy(dtype=object) if "event_id" in catalog.columns else np.arange(len(catalog)).astype(str)
    return DeclusterResult("reasenberg", params, ids, cid, flag)


def _link(t: np.ndarray, mag: np.ndarray, xyz: np.ndarray, depth: np.ndarray, r_main: np.ndarray,
          r_zone: np.ndarray, params: dict) -> np.ndarray:
    """Cluster labels (0 = none, else 1..k renumbered) of time-sorted events."""
    n = t.size
    clusters = _Clusters(n, mag)
    label = np.zeros(n, dtype=np.int64)
    ends = np.searchsorted(t, t + params["tau_max"], side="right")
    for i in range(n - 1):
        c = clusters.find(label[i]) if label[i] else 0
        tau = _look_ahead(clusters, c, i, t, params)
        stop = min(int(np.searchsorted(t[i + 1:ends[i]], t[i] + tau, side="right")) + i + 1, n)
        if stop <= i + 1:
            continue
        cand = np.arange(i + 1, stop)
        near = _distances(i, cand, xyz, depth, params["err_km"], params["derr_km"]) <= r_zone[i]
        if c and tau > params["tau_min"]:
            big = clusters.big[c]
            near |= _distances(big, cand, xyz, depth, params["err_km"], params["derr_km"]) <= r_main[big]
        linked = cand[near]
        if linked.size == 0:
            continue
        found = {clusters.find(v) for v in label[linked][label[linked] > 0].tolist()}
        if c:
            found.add(c)
        if not found:
            found = {clusters.new(i)}
        target = clusters.merge(found)
        label[i] = label[i] or target
        label[linked[label[linked] == 0]] = target
    roots = np.array([clusters.find(v) if v else 0 for v in label.tolist()], dtype=np.int64)
    _, renumbered = np.unique(roots, return_inverse=True)
    return np.where(roots > 0, renumbered + (0 if (roots == 0).any() else 1), 0)
