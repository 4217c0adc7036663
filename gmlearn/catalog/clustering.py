"""Space-time clustering with scikit-learn (DBSCAN, HDBSCAN): sequences and swarms.

Each event becomes a point ``(x, y, z, s * t)``: Earth-centred Cartesian
coordinates of its epicentre (km) and its origin time in days scaled by
``km_per_day`` (so one day weighs as much as ``km_per_day`` km). Density-based
clustering then finds groups dense in space and time; noise (label -1) is
background seismicity.

Each cluster is summarised and labelled, as a heuristic in the spirit of
Vidale & Shearer (2006) and Zhang & Shearer (2016):

- ``"sequence"`` (mainshock-aftershock): the largest event comes early (at most
  ``lead_fraction`` of the cluster's events before it) and stands out by at
  least ``mag_gap`` above the second largest;
- ``"swarm"``: otherwise (no dominant early event).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from gmlearn.catalog.frame import validate_catalog
from gmlearn.catalog.geometry import days_since, to_cartesian_km
from gmlearn.exceptions import SchemaError

__all__ = ["ClusteringResult", "cluster_space_time", "summarize_clusters"]

ALGORITHMS: tuple[str, ...] = ("dbscan", "hdbscan")


@dataclass(frozen=True)
class ClusteringResult:
    """Cluster labels (aligned with the catalogue rows) and a per-cluster summary.

    Attributes
    ----------
    labels
        Shape (n,), -1 for noise (background), else 0..k-1.
    summary
        One row per cluster (see :func:`summarize_clusters`).
    params
        Arguments used.
    """

    labels: np.ndarray
    summary: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return int(self.summary.shape[0])

    @property
    def fraction_clustered(self) -> float:
        """Share of events in a cluster."""
        return float(np.mean(self.labels >= 0)) if self.labels.size else 0.0


def _features(catalog: pd.DataFrame, km_per_day: float, use_depth: bool) -> np.ndarray:
    xyz = to_cartesian_km(catalog["lon"].to_numpy(dtype=float), catalog["lat"].to_numpy(dtype=float))
    cols = [xyz, (days_since(catalog["time"]) * km_per_day)[:, None]]
    if use_depth:
        cols.append(np.nan_to_num(catalog["depth"].to_numpy(dtype=float), nan=0.0)[:, None])
    return np.hstack(cols)


def cluster_space_time(
    catalog: pd.DataFrame,
    algorithm: Literal["dbscan", "hdbscan"] = "dbscan",
    *,
    eps_km: float = 10.0,
    km_per_day: float = 2.0,
    min_samples: int = 5,
    min_cluster_size: int = 10,
    use_depth: bool = False,
    lead_fraction: float = 0.25,
    mag_gap: float = 0.3,
) -> ClusteringResult:
    """Find space-time clusters (sequences, swarms) with DBSCAN or HDBSCAN.

    Parameters
    ----------
    catalog
        Canonical catalogue (``time``, ``lon``, ``lat``, ``mag``).
    algorithm
        ``"dbscan"`` (``eps_km``, ``min_samples``) or ``"hdbscan"``
        (``min_cluster_size``, ``min_samples``); both deterministic.
    eps_km
        DBSCAN neighbourhood radius in the scaled space (km; ``eps_km / km_per_day`` days).
    km_per_day
        Weight of one day, in km.
    min_samples
        Neighbours (including itself) that make a core point.
    min_cluster_size
        Smallest HDBSCAN cluster.
    use_depth
        Add depth (km) as a fourth coordinate.
    lead_fraction, mag_gap
        Sequence/swarm labelling (see the module docstring).

    Returns
    -------
    ClusteringResult
    """
    validate_catalog(catalog)
    if algorithm not in ALGORITHMS:
        msg = f"The 'algorithm' parameter of cluster_space_time must be one of {list(ALGORITHMS)}. Got {algorithm!r} instead."
        raise SchemaError(msg)
    if not eps_km > 0 or not km_per_day > 0 or min_samples < 1:
        msg = (f"cluster_space_time needs eps_km > 0, km_per_day > 0 and min_samples >= 1. "
               f"Got eps_km={eps_km!r}, km_per_day={km_per_day!r}, min_samples={min_samples!r} instead.")
        raise SchemaError(msg)
    x = _features(catalog, km_per_day, use_depth)
    if algorithm == "dbscan":
        from sklearn.cluster import DBSCAN

        labels = DBSCAN(eps=eps_km, min_samples=min_samples, algorithm="kd_tree").fit_predict(x)
    else:
        from sklearn.cluster import HDBSCAN

        labels = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True).fit_predict(x)
    params = {"algorithm": algorithm, "eps_km": eps_km, "km_per_day": km_per_day, "min_samples": min_samples,
              "min_cluster_size": min_cluster_size, "use_depth": use_depth, "lead_fraction": lead_fraction,
              "mag_gap": mag_gap}
    summary = summarize_clusters(catalog, labels, lead_fraction=lead_fraction, mag_gap=mag_gap)
    return ClusteringResult(np.asarray(labels, dtype=np.int64), summary, params)


def summarize_clusters(catalog: pd.DataFrame, labels: np.ndarray, *, lead_fraction: float = 0.25,
                       mag_gap: float = 0.3) -> pd.DataFrame:
    """One row per cluster label >= 0.

    Columns: ``cluster``, ``n_events``, ``start``, ``end``, ``duration_days``,
    ``lon``, ``lat`` (of the largest event), ``mag_max``, ``mag_second``,
    ``largest_event_id``, ``fraction_before_largest``, ``kind``
    (``"sequence"`` or ``"swarm"``), sorted by ``n_events`` descending.
    """
    labels = np.asarray(labels)
    cols = ["cluster", "n_events", "start", "end", "duration_days", "lon", "lat", "mag_max", "mag_second",
            "largest_event_id", "fraction_before_largest", "kind"]
    frame = catalog.assign(_label=labels)
    frame = frame[frame["_label"] >= 0].sort_values(["_label", "time"], kind="stable")
    rows = []
    for label, grp in frame.groupby("_label", sort=True):
        mags = grp["mag"].to_numpy(dtype=float)
        k = int(np.argmax(mags))
        second = float(np.sort(mags)[-2]) if mags.size > 1 else float("nan")
        before = k / mags.size
        gap = mags[k] - second if mags.size > 1 else np.inf
        kind = "sequence" if before <= lead_fraction and gap >= mag_gap else "swarm"
        start, end = grp["time"].iloc[0], grp["time"].iloc[-1]
        rows.append([int(label), int(mags.size), start, end, (end - start) / pd.Timedelta(days=1),
                     float(grp["lon"].iloc[k]), float(grp["lat"].iloc[k]), float(mags[k]), second,
                     str(grp["event_id"].iloc[k]) if "event_id" in grp else str(k), round(before, 4), kind])
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["n_events", "cluster"], ascending=[False, True], kind="stable").reset_index(drop=True)
