"""Result type of every declustering method and a dispatcher over them.

Methods (each in its own module):

- ``gardner_knopoff`` -- window method, :mod:`gmlearn.catalog.declustering_gk`;
- ``reasenberg`` -- interaction-zone linking, :mod:`gmlearn.catalog.declustering_reasenberg`;
- ``zaliapin`` -- nearest-neighbour proximity, :mod:`gmlearn.catalog.declustering_zaliapin`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gmlearn.exceptions import SchemaError

__all__ = ["DeclusterResult", "DECLUSTER_METHODS", "decluster"]

#: Method name -> "module:function".
DECLUSTER_METHODS: dict[str, str] = {
    "gardner_knopoff": "gmlearn.catalog.declustering_gk:gardner_knopoff",
    "reasenberg": "gmlearn.catalog.declustering_reasenberg:reasenberg",
    "zaliapin": "gmlearn.catalog.declustering_zaliapin:zaliapin",
}


@dataclass(frozen=True)
class DeclusterResult:
    """Clusters found in a catalogue, aligned with its rows.

    Attributes
    ----------
    method
        Method name.
    params
        Arguments used.
    event_id
        Event ids, shape (n,).
    cluster_id
        Cluster number per event, shape (n,); 0 for events in no cluster.
    flag
        Shape (n,): 0 background event or mainshock (kept), 1 aftershock, -1
        foreshock (both removed by declustering). Same convention as
        OpenQuake hmtk's ``flagvector``.
    extra
        Method-specific arrays (e.g. nearest-neighbour distances).
    """

    method: str
    params: dict[str, Any]
    event_id: np.ndarray
    cluster_id: np.ndarray
    flag: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def removed(self) -> np.ndarray:
        """Boolean mask of dependent events (fore- and aftershocks), shape (n,)."""
        return self.flag != 0

    @property
    def keep(self) -> np.ndarray:
        """Boolean mask of the declustered catalogue (background and mainshocks)."""
        return self.flag == 0

    @property
    def n_events(self) -> int:
        """Events analysed."""
        return int(self.flag.size)

    @property
    def n_removed(self) -> int:
        """Dependent events."""
        return int(np.count_nonzero(self.flag))

    @property
    def fraction_removed(self) -> float:
        """Share of events flagged as dependent."""
        return self.n_removed / self.n_events if self.n_events else 0.0

    @property
    def n_clusters(self) -> int:
        """Clusters with at least two events."""
        ids, counts = np.unique(self.cluster_id[self.cluster_id > 0], return_counts=True)
        return int(np.count_nonzero(counts > 1)) if ids.size else 0

    def declustered(self, catalog: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``catalog`` (the one analysed) that are kept, index reset."""
        if len(catalog) != self.n_events:
            msg = f"The catalogue has {len(catalog)} rows but the declustering result has {self.n_events}; pass the catalogue that was declustered."
            raise SchemaError(msg)
        out = catalog.loc[self.keep].reset_index(drop=True)
        out.attrs = dict(catalog.attrs)
        out.attrs["declustering"] = self.summary()
        return out

    def to_frame(self) -> pd.DataFrame:
        """``event_id``, ``cluster_id``, ``flag`` as a table."""
        return pd.DataFrame({"event_id": self.event_id, "cluster_id": self.cluster_id, "flag": self.flag})

    def summary(self) -> dict[str, Any]:
        """JSON-ready counts and parameters."""
        return {
            "method": self.method,
            "params": {k: v for k, v in self.params.items()},
            "n_events": self.n_events,
            "n_removed": self.n_removed,
            "fraction_removed": round(self.fraction_removed, 6),
            "n_clusters": self.n_clusters,
            "n_foreshocks": int(np.count_nonzero(self.flag < 0)),
            "n_aftershocks": int(np.count_nonzero(self.flag > 0)),
        }


def flags_from_clusters(cluster_id: np.ndarray, mag: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Flags from cluster labels: the largest event of each cluster is its mainshock (0).

    Ties go to the earliest event. Events before the mainshock get -1, after it 1;
    events in no cluster (label 0) or alone in theirs get 0.
    """
    flag = np.zeros(cluster_id.size, dtype=np.int8)
    member = np.flatnonzero(cluster_id > 0)
    if member.size == 0:
        return flag
    order = member[np.lexsort((days[member], -mag[member], cluster_id[member]))]
    labels = cluster_id[order]
    first = np.r_[True, labels[1:] != labels[:-1]]
    main_of = dict(zip(labels[first].tolist(), order[first].tolist()))
    main = np.fromiter((main_of[c] for c in cluster_id[member]), dtype=np.int64, count=member.size)
    flag[member] = np.where(days[member] < days[main], -1, 1)
    flag[main] = 0
    return flag


def decluster(catalog: pd.DataFrame, method: str = "gardner_knopoff", **kwargs: Any) -> DeclusterResult:
    """Decluster with a method named in :data:`DECLUSTER_METHODS`.

    Parameters
    ----------
    catalog
        Canonical catalogue (:mod:`gmlearn.catalog.frame`).
    method
        ``"gardner_knopoff"``, ``"reasenberg"`` or ``"zaliapin"``.
    **kwargs
        Passed to the method.
    """
    if method not in DECLUSTER_METHODS:
        msg = f"The 'method' parameter of decluster must be one of {list(DECLUSTER_METHODS)}. Got {method!r} instead."
        raise SchemaError(msg)
    import importlib

    module, func = DECLUSTER_METHODS[method].split(":")
    return getattr(importlib.import_module(module), func)(catalog, **kwargs)
