"""Zaliapin & Ben-Zion nearest-neighbour declustering.

The proximity of event ``j`` to an earlier event ``i`` is
``eta_ij = t_ij * r_ij**d_f * 10**(-b m_i)`` (Baiesi & Paczuski 2004), with
``t`` in years and ``r`` the epicentral distance in km (at least
``min_distance_km``). Each event's parent is its nearest earlier neighbour.
``log10 eta`` is bimodal: a clustered mode (small eta) and a background mode.
Links with ``eta`` below the threshold ``eta_0`` are strong; strongly linked
events form clusters whose largest event is kept. By default ``eta_0`` is
where a two-component Gaussian mixture fitted to ``log10 eta`` (scikit-learn,
``random_state``) switches component between the two means.

The rescaled time and distance ``T = t 10**(-q b m_i)``,
``R = r**d_f 10**(-(1-q) b m_i)`` (``eta = T R``) are returned in ``extra``
for the usual T-R density plot.

References
----------
Zaliapin, I. & Ben-Zion, Y. (2013). JGR Solid Earth 118, 2847-2864.
Zaliapin, I., Gabrielov, A., Keilis-Borok, V. & Wong, H. (2008). PRL 101, 018501.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gmlearn.catalog.declustering import DeclusterResult, flags_from_clusters
from gmlearn.catalog.frame import validate_catalog
from gmlearn.catalog.geometry import EARTH_RADIUS_KM, days_since, to_cartesian_km
from gmlearn.exceptions import SchemaError

__all__ = ["zaliapin", "nearest_neighbours", "gmm_threshold"]

_DAYS_PER_YEAR = 365.25


def nearest_neighbours(
    t_years: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    mag: np.ndarray,
    *,
    b: float = 1.0,
    d_f: float = 1.6,
    min_distance_km: float = 0.1,
    block_elements: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nearest earlier neighbour of each event (events sorted by time).

    Returns
    -------
    parent, log10_eta, log10_t, log10_r
        Each shape (n,); ``parent`` is -1 and the logs NaN for the first event
        and for events with no strictly earlier one.
    """
    n = t_years.size
    xyz = to_cartesian_km(lon, lat)
    parent = np.full(n, -1, dtype=np.int64)
    log_eta = np.full(n, np.nan)
    log_t = np.full(n, np.nan)
    log_r = np.full(n, np.nan)
    weight = -b * mag
    block = max(1, int(block_elements // max(n, 1)))
    for start in range(1, n, block):
        stop = min(start + block, n)
        j = np.arange(start, stop)
        dt = t_years[j][:, None] - t_years[None, :stop]
        chord = np.sqrt(((xyz[j][:, None, :] - xyz[None, :stop, :]) ** 2).sum(axis=2))
        r = np.maximum(2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / (2.0 * EARTH_RADIUS_KM), 1.0)),
                       min_distance_km)
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = np.where(dt > 0, np.log10(np.where(dt > 0, dt, 1.0)) + d_f * np.log10(r) + weight[None, :stop], np.inf)
        best = np.argmin(eta, axis=1)
        rows = np.arange(j.size)
        ok = np.isfinite(eta[rows, best])
        parent[j[ok]] = best[ok]
        log_eta[j[ok]] = eta[rows, best][ok]
        log_t[j[ok]] = np.log10(dt[rows, best][ok])
        log_r[j[ok]] = np.log10(r[rows, best][ok])
    return parent, log_eta, log_t, log_r


def gmm_threshold(log_eta: np.ndarray, random_state: int | None = 0) -> float:
    """Threshold on ``log10 eta`` between the two modes of a 2-component Gaussian mixture."""
    from sklearn.mixture import GaussianMixture

    x = log_eta[np.isfinite(log_eta)].reshape(-1, 1)
    if x.shape[0] < 10:
        msg = f"zaliapin needs at least 10 finite proximities to fit the mixture; got {x.shape[0]}. Pass 'threshold'."
        raise SchemaError(msg)
    gmm = GaussianMixture(n_components=2, random_state=random_state).fit(x)
    lo, hi = np.sort(gmm.means_.ravel())
    grid = np.linspace(lo, hi, 2001).reshape(-1, 1)
    low_comp = int(np.argmin(gmm.means_.ravel()))
    post = gmm.predict_proba(grid)[:, low_comp]
    switch = np.flatnonzero(post < 0.5)
    return float(grid[switch[0], 0] if switch.size else (lo + hi) / 2.0)


def _components(parent: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """Cluster labels of strongly linked trees (0 for events in no multi-event cluster)."""
    n = parent.size
    root = np.arange(n)
    for j in np.flatnonzero(strong):  # parents precede children: one pass suffices
        root[j] = root[parent[j]]
    _, inverse, counts = np.unique(root, return_inverse=True, return_counts=True)
    multi = counts[inverse] > 1
    labels = np.zeros(n, dtype=np.int64)
    _, labels[multi] = np.unique(inverse[multi], return_inverse=True)
    labels[multi] += 1
    return labels


def zaliapin(
    catalog: pd.DataFrame,
    *,
    b: float = 1.0,
    d_f: float = 1.6,
    q: float = 0.5,
    threshold: float | None = None,
    min_distance_km: float = 0.1,
    random_state: int | None = 0,
) -> DeclusterResult:
    """Decluster with the nearest-neighbour method of Zaliapin & Ben-Zion (2013).

    Parameters
    ----------
    catalog
        Canonical catalogue, ideally above Mc (``time``, ``lon``, ``lat``, ``mag``).
    b
        b-value in the proximity.
    d_f
        Fractal dimension of epicentres.
    q
        Split of the magnitude weight between rescaled time and distance (for ``extra`` only).
    threshold
        ``log10 eta_0``; None fits a Gaussian mixture (see :func:`gmm_threshold`).
    min_distance_km
        Floor of epicentral distances (co-located events).
    random_state
        Seed of the mixture fit.

    Returns
    -------
    DeclusterResult
        ``extra`` holds ``parent`` (row of the nearest neighbour, -1 none),
        ``log10_eta``, ``log10_T``, ``log10_R`` and ``threshold``.
    """
    validate_catalog(catalog)
    if not 0.0 <= q <= 1.0 or not d_f > 0 or not b > 0:
        msg = f"zaliapin needs b > 0, d_f > 0 and q in [0, 1]. Got b={b!r}, d_f={d_f!r}, q={q!r} instead."
        raise SchemaError(msg)
    days = days_since(catalog["time"])
    order = np.argsort(days, kind="stable")
    cat = catalog.iloc[order]
    mag = cat["mag"].to_numpy(dtype=float)
    parent, log_eta, log_t, log_r = nearest_neighbours(
        days[order] / _DAYS_PER_YEAR, cat["lon"].to_numpy(dtype=float), cat["lat"].to_numpy(dtype=float), mag,
        b=b, d_f=d_f, min_distance_km=min_distance_km,
    )
    eta0 = gmm_threshold(log_eta, random_state) if threshold is None else float(threshold)
    strong = np.isfinite(log_eta) & (log_eta < eta0)
    labels = _components(parent, strong)
    cid = np.zeros(len(cat), dtype=np.int64)
    cid[order] = labels
    flag = flags_from_clusters(cid, catalog["mag"].to_numpy(dtype=float), days)
    parent_mag = np.where(parent >= 0, mag[np.maximum(parent, 0)], np.nan)
    rows = np.empty_like(order)
    rows[order] = np.arange(order.size)
    extra = {
        "parent": np.where(parent >= 0, order[np.maximum(parent, 0)], -1)[rows],
        "log10_eta": log_eta[rows],
        "log10_T": (log_t - q * b * parent_mag)[rows],
        "log10_R": (d_f * log_r - (1.0 - q) * b * parent_mag)[rows],
        "threshold": eta0,
    }
    params = {"b": b, "d_f": d_f, "q": q, "threshold": eta0, "min_distance_km": min_distance_km,
              "random_state": random_state}
    ids = catalog["event_id"].astype(str).to_numpy(dtype=object) if "event_id" in catalog.columns else np.arange(len(catalog)).astype(str)
    return DeclusterResult("zaliapin", params, ids, cid, flag, extra)
