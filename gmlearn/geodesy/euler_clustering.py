"""Euler-vector clustering: stations grouped by the rigid rotation that fits them best.

In the spirit of Savage & Simpson (2013) and Savage (2018): K Euler vectors
are fitted like k-means centroids. Each iteration assigns every station to the
rotation that predicts its horizontal velocity best, then refits each rotation
(least squares, :mod:`gmlearn.geodesy.euler`) from its stations, until the
assignment no longer changes. Restarts seeded from random station
neighbourhoods guard against local minima; the lowest total misfit wins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gmlearn.geodesy.clustering import ClusterResult, _order_by_speed
from gmlearn.geodesy.euler import design_matrix, whiten
from gmlearn.geodesy.sphere import unit_vectors
from gmlearn.geodesy.threads import single_threaded

__all__ = ["euler_cluster", "euler_misfit"]


def _whitened(table: pd.DataFrame, weighted: bool) -> tuple[np.ndarray, np.ndarray]:
    """Whitened design (n, 2, 3) and data (n, 2)."""
    a = design_matrix(table["lon"].to_numpy(float), table["lat"].to_numpy(float))
    d = table[["ve", "vn"]].to_numpy(float)
    if not weighted:
        return a, d
    w = whiten(table["se"].to_numpy(float), table["sn"].to_numpy(float), table["rho"].to_numpy(float))
    return w @ a, np.einsum("nij,nj->ni", w, d)


def _misfit(aw: np.ndarray, dw: np.ndarray, omegas: np.ndarray) -> np.ndarray:
    pred = np.einsum("nij,kj->nki", aw, omegas)
    return ((dw[:, None, :] - pred) ** 2).sum(axis=2)


def euler_misfit(table: pd.DataFrame, omegas: np.ndarray, *, weighted: bool = False) -> np.ndarray:
    """Misfit of each station to each Euler vector, shape (n, K).

    Squared residual speed (mm/yr)² when ``weighted`` is False, else chi²
    with the station covariance.
    """
    aw, dw = _whitened(table, weighted)
    return _misfit(aw, dw, np.atleast_2d(omegas))


class _Solver:
    """Per-station normal-equation terms, so refits are sums over members."""

    def __init__(self, aw: np.ndarray, dw: np.ndarray, xyz: np.ndarray) -> None:
        self.aw, self.dw, self.xyz = aw, dw, xyz
        self.nmat = np.einsum("nij,nik->njk", aw, aw)
        self.bvec = np.einsum("nij,ni->nj", aw, dw)

    def fit(self, members: np.ndarray) -> np.ndarray:
        n = self.nmat[members].sum(axis=0)
        b = self.bvec[members].sum(axis=0)
        return np.linalg.lstsq(n, b, rcond=1e-12)[0]

    def neighbourhood(self, i: int, m: int) -> np.ndarray:
        d = ((self.xyz - self.xyz[i]) ** 2).sum(axis=1)
        return np.argsort(d, kind="stable")[:m]


def _one_run(solver: _Solver, k: int, rng: np.random.Generator, max_iter: int, m: int, min_size: int):
    n = len(solver.dw)
    omegas = np.array([solver.fit(solver.neighbourhood(i, m)) for i in rng.choice(n, size=k, replace=False)])
    labels = np.full(n, -1)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        mis = _misfit(solver.aw, solver.dw, omegas)
        new = mis.argmin(axis=1)
        counts = np.bincount(new, minlength=k)
        for j in np.flatnonzero(counts < min_size):  # reseed a starved rotation at the worst-fitted station
            worst = int(mis[np.arange(n), new].argmax())
            new[solver.neighbourhood(worst, m)] = j
        if np.array_equal(new, labels):
            break
        labels = new
        omegas = np.array([solver.fit(labels == j) if (labels == j).any() else omegas[j] for j in range(k)])
    mis = _misfit(solver.aw, solver.dw, omegas)
    return labels, omegas, float(mis[np.arange(n), labels].sum()), n_iter


@single_threaded
def euler_cluster(
    table: pd.DataFrame,
    n_clusters: int,
    *,
    random_state: int | None = None,
    n_init: int = 10,
    weighted: bool = False,
    max_iter: int = 100,
    min_size: int = 2,
) -> ClusterResult:
    """Cluster stations by best-fitting Euler vector (k-means-like, with seeded restarts).

    Parameters
    ----------
    table
        Canonical velocity table (mm/yr).
    n_clusters
        Number of rotations K.
    random_state
        Seed of the restarts.
    n_init
        Number of restarts; the lowest total misfit is kept.
    weighted
        Use chi² with station covariances (True) or squared residual speed
        (False, default: robust to the very small formal sigmas of continuous sites).
    max_iter
        Iteration cap per restart.
    min_size
        A rotation with fewer stations is reseeded at the worst-fitted station.

    Returns
    -------
    ClusterResult
        ``omegas`` (rad/yr) per cluster; ``probabilities`` a softmax of
        ``-misfit / (2 s²)`` with ``s²`` the misfit per degree of freedom;
        ``score`` the total misfit; ``params["n_iter"]``.
    """
    rng = np.random.default_rng(random_state)
    aw, dw = _whitened(table, weighted)
    r, _, _ = unit_vectors(table["lon"].to_numpy(float), table["lat"].to_numpy(float))
    solver = _Solver(aw, dw, r)
    n = len(table)
    m = int(np.clip(n // (2 * n_clusters), 3, 20))
    best = None
    for _ in range(max(1, n_init)):
        run = _one_run(solver, n_clusters, rng, max_iter, min(m, n), min_size)
        if best is None or run[2] < best[2]:
            best = run
    labels, omegas, total, n_iter = best
    mis = _misfit(aw, dw, omegas)
    s2 = max(total / max(2 * n - 3 * n_clusters, 1), 1e-12)
    logit = -0.5 * (mis - mis.min(axis=1, keepdims=True)) / s2
    prob = np.exp(logit)
    prob /= prob.sum(axis=1, keepdims=True)
    perm = _order_by_speed(labels, table, n_clusters)
    inv = np.argsort(perm)
    labels = perm[labels]
    v = table[["ve", "vn"]].to_numpy(float)
    centers = np.array([v[labels == j].mean(axis=0) if (labels == j).any() else np.full(2, np.nan) for j in range(n_clusters)])
    return ClusterResult(
        method="euler", n_clusters=n_clusters, stations=table["station"].to_numpy(dtype=object), labels=labels,
        probabilities=prob[:, inv], centers=centers, score=total, omegas=omegas[inv],
        params={"position_scale_km": None, "origin": None, "weighted": weighted, "n_iter": n_iter, "perm": perm.tolist()},
    )  # fmt: skip
