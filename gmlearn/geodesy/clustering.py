"""Clustering of GNSS velocities: k-means, Gaussian mixtures, hierarchical (Ward) and Euler vectors.

Features are the horizontal velocities (mm/yr), optionally with the station
positions in km divided by ``position_scale_km`` (so that many km of
separation weigh like 1 mm/yr of velocity difference). Clusters are numbered by
increasing mean speed of their stations, so labels are comparable between
methods and seeds. The approach follows Simpson, Thatcher & Savage (2012) and
Savage & Simpson (2013): velocities that share a block motion form a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from gmlearn.exceptions import SchemaError
from gmlearn.geodesy.sphere import to_tangent_plane
from gmlearn.geodesy.threads import single_threaded
from gmlearn.geodesy.validation import check_velocity_table

__all__ = ["METHODS", "ClusterResult", "velocity_features", "cluster_velocities", "assign_clusters"]

METHODS: tuple[str, ...] = ("kmeans", "gmm", "hierarchical", "euler")
_LINKAGES = ("ward", "complete", "average", "single")


@dataclass
class ClusterResult:
    """Outcome of :func:`cluster_velocities`.

    Attributes
    ----------
    method, n_clusters
        Method name and number of clusters.
    stations
        Station ids, shape (n,).
    labels
        Cluster of each station, 0 = slowest mean speed, shape (n,).
    probabilities
        Membership probabilities, shape (n, n_clusters): the Gaussian-mixture
        posteriors (``gmm``), a softmax of the misfit to each Euler vector
        (``euler``), or one-hot for ``kmeans`` and ``hierarchical``.
    centers
        Cluster centres in feature space, shape (n_clusters, n_features).
    omegas
        Euler vectors (rad/yr), shape (n_clusters, 3), for ``euler``.
    score
        Objective at the solution: inertia (kmeans, hierarchical: within-cluster
        sum of squares), mean log-likelihood (gmm), misfit (euler).
    params
        Arguments that rebuild the features (``position_scale_km``, ``origin``).
    """

    method: str
    n_clusters: int
    stations: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray
    centers: np.ndarray
    score: float
    params: dict[str, Any]
    omegas: np.ndarray | None = None
    model: Any = field(default=None, repr=False)

    def to_frame(self, table: pd.DataFrame | None = None) -> pd.DataFrame:
        """Per-station table: ``station, cluster, probability`` (of its cluster), ``p0..p{k-1}``.

        With ``table`` the velocity columns are joined on ``station``.
        """
        out = pd.DataFrame({"station": self.stations, "cluster": self.labels})
        out["probability"] = self.probabilities[np.arange(len(self.labels)), self.labels]
        for k in range(self.n_clusters):
            out[f"p{k}"] = self.probabilities[:, k]
        if table is not None:
            out = table.merge(out, on="station", how="inner")
        return out

    def summary(self, table: pd.DataFrame) -> pd.DataFrame:
        """Per cluster: station count, mean ve, vn, speed (mm/yr), azimuth (deg from north), mean lon/lat."""
        df = self.to_frame(table)
        g = df.groupby("cluster")
        out = g.agg(n=("station", "size"), ve=("ve", "mean"), vn=("vn", "mean"), lon=("lon", "mean"), lat=("lat", "mean"))
        out["speed"] = np.hypot(out["ve"], out["vn"])
        out["azimuth"] = np.degrees(np.arctan2(out["ve"], out["vn"]))
        out["mean_probability"] = g["probability"].mean()
        return out.reset_index()


def velocity_features(
    table: pd.DataFrame,
    position_scale_km: float | None = None,
    origin: tuple[float, float] | None = None,
) -> np.ndarray:
    """Feature matrix (n, 2) ``[ve, vn]`` in mm/yr, or (n, 4) with ``[x, y] / position_scale_km``.

    ``x, y`` are km on the tangent plane at ``origin`` (lon, lat; default the
    mean position).
    """
    v = table[["ve", "vn"]].to_numpy(dtype=float)
    if position_scale_km is None:
        return v
    if position_scale_km <= 0:
        msg = f"The 'position_scale_km' parameter must be > 0 km. Got {position_scale_km!r} instead."
        raise SchemaError(msg)
    lon0, lat0 = origin if origin is not None else _mean_position(table)
    x, y, _, _ = to_tangent_plane(table["lon"].to_numpy(float), table["lat"].to_numpy(float), lon0, lat0)
    return np.column_stack([v, x / 1000.0 / position_scale_km, y / 1000.0 / position_scale_km])


def _mean_position(table: pd.DataFrame) -> tuple[float, float]:
    from gmlearn.geodesy.sphere import unit_vectors

    r, _, _ = unit_vectors(table["lon"].to_numpy(float), table["lat"].to_numpy(float))
    m = r.mean(axis=0)
    return float(np.degrees(np.arctan2(m[1], m[0]))), float(np.degrees(np.arctan2(m[2], np.hypot(m[0], m[1]))))


def _order_by_speed(labels: np.ndarray, table: pd.DataFrame, k: int) -> np.ndarray:
    """Permutation ``perm`` so that ``perm[old] = new`` numbers clusters by increasing mean speed."""
    speed = np.hypot(table["ve"].to_numpy(float), table["vn"].to_numpy(float))
    means = np.array([speed[labels == j].mean() if (labels == j).any() else np.inf for j in range(k)])
    perm = np.empty(k, dtype=int)
    perm[np.argsort(means, kind="stable")] = np.arange(k)
    return perm


def _check_args(method: str, n_clusters: int, n: int, linkage: str) -> None:
    if method not in METHODS:
        msg = f"The 'method' parameter must be one of {list(METHODS)}. Got {method!r} instead."
        raise SchemaError(msg)
    if not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1:
        msg = f"The 'n_clusters' parameter must be an integer >= 1. Got {n_clusters!r} instead."
        raise SchemaError(msg)
    if n_clusters > n:
        msg = f"The 'n_clusters' parameter ({n_clusters}) exceeds the number of stations ({n})."
        raise SchemaError(msg)
    if linkage not in _LINKAGES:
        msg = f"The 'linkage' parameter must be one of {list(_LINKAGES)}. Got {linkage!r} instead."
        raise SchemaError(msg)


def _fit_sklearn(method: str, x: np.ndarray, k: int, *, random_state, n_init: int, linkage: str, covariance_type: str):
    """(labels, probabilities, centers, score, model) from scikit-learn (imported here)."""
    if method == "kmeans":
        from sklearn.cluster import KMeans

        model = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(x)
        labels = model.labels_
        return labels, np.eye(k)[labels], model.cluster_centers_, float(model.inertia_), model
    if method == "gmm":
        from sklearn.mixture import GaussianMixture

        model = GaussianMixture(
            n_components=k, covariance_type=covariance_type, n_init=n_init, random_state=random_state, reg_covar=1e-4
        ).fit(x)
        prob = model.predict_proba(x)
        return prob.argmax(axis=1), prob, model.means_, float(model.score(x)), model
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=k, linkage=linkage).fit(x)
    labels = model.labels_
    centers = np.array([x[labels == j].mean(axis=0) for j in range(k)])
    inertia = float(sum(((x[labels == j] - centers[j]) ** 2).sum() for j in range(k)))
    return labels, np.eye(k)[labels], centers, inertia, model


def cluster_velocities(
    table: pd.DataFrame,
    method: Literal["kmeans", "gmm", "hierarchical", "euler"] = "kmeans",
    n_clusters: int = 2,
    *,
    position_scale_km: float | None = None,
    random_state: int | np.random.Generator | None = None,
    n_init: int = 10,
    linkage: str = "ward",
    covariance_type: str = "full",
    weighted: bool = False,
    max_iter: int = 100,
) -> ClusterResult:
    """Cluster stations by their velocities.

    Parameters
    ----------
    table
        Canonical velocity table (mm/yr).
    method
        ``"kmeans"``, ``"gmm"`` (Gaussian mixture with membership
        probabilities), ``"hierarchical"`` (agglomerative, ``linkage``) or
        ``"euler"`` (:func:`~gmlearn.geodesy.euler_clustering.euler_cluster`).
    n_clusters
        Number of clusters.
    position_scale_km
        If given, add positions (km) divided by this scale to the features
        (not used by ``euler``, whose rotations already depend on position).
    random_state
        Seed for the stochastic methods (k-means, GMM and Euler restarts).
    n_init
        Restarts for kmeans, gmm and euler; the best objective wins.
    linkage
        Hierarchical linkage: ``ward`` (default), ``complete``, ``average``, ``single``.
    covariance_type
        Gaussian-mixture covariance type (``full``, ``tied``, ``diag``, ``spherical``).
    weighted, max_iter
        Euler clustering only: weight by station covariances; iteration cap.

    Returns
    -------
    ClusterResult
    """
    check_velocity_table(table, require_sigma=(method == "euler" and weighted))
    _check_args(method, n_clusters, len(table), linkage)
    rs = int(random_state.integers(2**31 - 1)) if isinstance(random_state, np.random.Generator) else random_state
    if method != "euler":
        return _cluster_sklearn(table, method, n_clusters, position_scale_km, rs, n_init, linkage, covariance_type)
    from gmlearn.geodesy.euler_clustering import euler_cluster

    return euler_cluster(table, n_clusters, random_state=rs, n_init=n_init, weighted=weighted, max_iter=max_iter)


def _cluster_sklearn(table, method, n_clusters, position_scale_km, rs, n_init, linkage, covariance_type) -> ClusterResult:
    import sklearn.cluster  # noqa: F401 - load OpenMP before the thread limit is set
    import sklearn.mixture  # noqa: F401

    return _cluster_sklearn_limited(table, method, n_clusters, position_scale_km, rs, n_init, linkage, covariance_type)


@single_threaded
def _cluster_sklearn_limited(table, method, n_clusters, position_scale_km, rs, n_init, linkage, covariance_type) -> ClusterResult:
    params: dict[str, Any] = {"position_scale_km": position_scale_km, "origin": None}
    if position_scale_km is not None:
        params["origin"] = _mean_position(table)
    x = velocity_features(table, position_scale_km, params["origin"])
    labels, prob, centers, score, model = _fit_sklearn(
        method, x, n_clusters, random_state=rs, n_init=n_init, linkage=linkage, covariance_type=covariance_type
    )
    perm = _order_by_speed(labels, table, n_clusters)
    inv = np.argsort(perm)
    params.update(perm=perm.tolist())
    return ClusterResult(
        method=method, n_clusters=n_clusters, stations=table["station"].to_numpy(dtype=object),
        labels=perm[labels], probabilities=prob[:, inv], centers=centers[inv], score=score, params=params,
        model=model,
    )  # fmt: skip


@single_threaded
def assign_clusters(result: ClusterResult, table: pd.DataFrame) -> np.ndarray:
    """Label the stations of ``table`` with the clusters of a fitted ``result``.

    kmeans and hierarchical: nearest centre; gmm: most probable component;
    euler: best-fitting Euler vector.
    """
    if result.method == "euler":
        from gmlearn.geodesy.euler_clustering import euler_misfit

        return euler_misfit(table, result.omegas, weighted=result.params.get("weighted", False)).argmin(axis=1)
    x = velocity_features(table, result.params["position_scale_km"], result.params["origin"])
    if result.method == "gmm":
        return np.asarray(result.params["perm"])[result.model.predict(x)]
    d2 = ((x[:, None, :] - result.centers[None, :, :]) ** 2).sum(axis=2)
    return d2.argmin(axis=1)
