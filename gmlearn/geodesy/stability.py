"""Cluster stability by bootstrap resampling of stations.

Each replicate clusters a resample (with replacement) of the stations, labels
every station with the replicate's clusters (:func:`assign_clusters`), and
matches replicate labels to the reference clustering (Hungarian assignment on
the confusion matrix). Over replicates each station gets membership
frequencies ``p_ik``; its *consistency* is the frequency of its reference
cluster and its normalised *entropy* ``-Σ p ln p / ln K`` is 0 for a station
always put in the same cluster and 1 for one spread evenly (in the spirit of
the bootstrap consistency analysis of Takahashi et al. 2019).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gmlearn.exceptions import SchemaError
from gmlearn.geodesy.clustering import ClusterResult, assign_clusters, cluster_velocities
from gmlearn.geodesy.threads import single_threaded

__all__ = ["StabilityResult", "cluster_stability", "match_labels"]


@dataclass
class StabilityResult:
    """Outcome of :func:`cluster_stability`.

    Attributes
    ----------
    reference
        Clustering of all stations.
    frequencies
        Membership frequencies over replicates, shape (n, K).
    stations
        Per-station table: ``station, cluster, consistency, entropy, p0..``.
    summary
        ``mean_consistency``, ``mean_entropy``, ``fraction_stable`` (consistency
        >= 0.9), ``mean_ari`` (adjusted Rand index of replicates vs reference),
        ``cluster_consistency`` (mean per cluster), ``n_bootstrap``.
    """

    reference: ClusterResult
    frequencies: np.ndarray
    stations: pd.DataFrame
    summary: dict[str, Any]


def match_labels(labels: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    """Relabel ``labels`` to agree best with ``reference`` (maximum overlap, Hungarian method)."""
    from scipy.optimize import linear_sum_assignment

    conf = np.zeros((k, k), dtype=int)
    np.add.at(conf, (labels, reference), 1)
    rows, cols = linear_sum_assignment(-conf)
    mapping = np.arange(k)
    mapping[rows] = cols
    return mapping[labels]


@single_threaded
def cluster_stability(
    table: pd.DataFrame,
    method: str = "kmeans",
    n_clusters: int = 2,
    *,
    n_bootstrap: int = 50,
    random_state: int | np.random.Generator | None = None,
    stable_threshold: float = 0.9,
    **kwargs: Any,
) -> StabilityResult:
    """Bootstrap stability of a velocity clustering.

    Parameters
    ----------
    table
        Canonical velocity table.
    method, n_clusters, **kwargs
        Passed to :func:`~gmlearn.geodesy.clustering.cluster_velocities`.
    n_bootstrap
        Number of resamples.
    random_state
        Seed of the resampling and of each replicate's clustering.
    stable_threshold
        Consistency above which a station counts as stable.

    Returns
    -------
    StabilityResult
    """
    from sklearn.metrics import adjusted_rand_score

    if n_bootstrap < 1:
        msg = f"The 'n_bootstrap' parameter must be >= 1. Got {n_bootstrap!r} instead."
        raise SchemaError(msg)
    rng = np.random.default_rng(random_state)
    ref = cluster_velocities(table, method, n_clusters, random_state=int(rng.integers(2**31 - 1)), **kwargs)
    n, k = len(table), n_clusters
    counts = np.zeros((n, k))
    ari = []
    for _ in range(n_bootstrap):
        idx = rng.integers(0, n, size=n)
        sample = table.iloc[idx].reset_index(drop=True)
        rep = cluster_velocities(sample, method, n_clusters, random_state=int(rng.integers(2**31 - 1)), **kwargs)
        labels = match_labels(assign_clusters(rep, table), ref.labels, k)
        counts[np.arange(n), labels] += 1
        ari.append(adjusted_rand_score(ref.labels, labels))
    freq = counts / n_bootstrap
    consistency = freq[np.arange(n), ref.labels]
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(freq > 0, freq * np.log(freq), 0.0)
    entropy = -plogp.sum(axis=1) / np.log(k) if k > 1 else np.zeros(n)
    frame = pd.DataFrame(
        {"station": table["station"].to_numpy(), "cluster": ref.labels, "consistency": consistency, "entropy": entropy}
    )
    for j in range(k):
        frame[f"p{j}"] = freq[:, j]
    summary = {
        "method": method,
        "n_clusters": k,
        "n_bootstrap": n_bootstrap,
        "mean_consistency": float(consistency.mean()),
        "mean_entropy": float(entropy.mean()),
        "fraction_stable": float((consistency >= stable_threshold).mean()),
        "mean_ari": float(np.mean(ari)),
        "cluster_consistency": [float(consistency[ref.labels == j].mean()) for j in range(k)],
    }
    return StabilityResult(reference=ref, frequencies=freq, stations=frame, summary=summary)
