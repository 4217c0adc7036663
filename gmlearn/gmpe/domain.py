"""A learned model's training domain as a density in standardised feature space.

Per-feature ranges say nothing about holes: NGA-West2 has M 7.5 records and
records at 150 km, but few M 7.5 records at 150 km. :class:`TrainingDomain`
keeps a subsample of the training points in standardised coordinates
(magnitude, log10 distance, log10 vs30) and measures how far a new point is
from its ``k`` nearest training points, relative to the same distance among the
training points themselves. ``membership`` is 1 inside the bulk of the data
(within the 95th percentile of the training points' own neighbour distance) and
tapers (cosine) to 0 at three times that distance; it scales the epistemic term
of every learned model's sigma.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

__all__ = ["TrainingDomain", "MAX_POINTS"]

#: Training points kept (a random subsample beyond this many).
MAX_POINTS = 2000


def _coordinates(table: pd.DataFrame, distance: str) -> np.ndarray:
    mag = pd.to_numeric(table["mag"], errors="coerce").to_numpy(dtype=float)
    dist = pd.to_numeric(table[distance], errors="coerce").to_numpy(dtype=float)
    vs30 = pd.to_numeric(table["vs30"], errors="coerce").to_numpy(dtype=float) if "vs30" in table else np.full(len(table), 760.0)
    return np.column_stack([mag, np.log10(np.maximum(dist, 0.0) + 1.0), np.log10(np.maximum(vs30, 1.0))])


@dataclass
class TrainingDomain:
    """Subsampled training points in standardised (mag, log10 distance, log10 vs30) space.

    Attributes
    ----------
    distance
        Distance column (``rjb`` or ``rrup``).
    center, scale
        Standardisation, shape (3,).
    points
        Standardised training points, shape (n, 3).
    radius
        95th percentile of the training points' mean distance to their ``k``
        nearest neighbours.
    k
        Neighbours averaged.
    """

    distance: str
    center: np.ndarray
    scale: np.ndarray
    points: np.ndarray
    radius: float
    k: int = 5
    _tree: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_table(cls, table: pd.DataFrame, distance: str = "rjb", *, k: int = 5, random_state: int = 0) -> TrainingDomain:
        """Domain of the finite rows of ``table``."""
        coords = _coordinates(table, distance)
        coords = coords[np.all(np.isfinite(coords), axis=1)]
        if len(coords) > MAX_POINTS:
            keep = np.random.default_rng(random_state).choice(len(coords), MAX_POINTS, replace=False)
            coords = coords[np.sort(keep)]
        center = coords.mean(axis=0)
        scale = np.where(coords.std(axis=0) > 1e-9, coords.std(axis=0), 1.0)
        points = np.round((coords - center) / scale, 5)
        domain = cls(distance, center, scale, points, 1.0, int(min(k, max(len(points) - 1, 1))))
        own = domain._mean_distance(points, skip_self=True)
        domain.radius = float(max(np.quantile(own, 0.95), 1e-3)) if own.size else 1.0
        return domain

    def _mean_distance(self, z: np.ndarray, *, skip_self: bool = False) -> np.ndarray:
        from scipy.spatial import cKDTree

        if self._tree is None:
            self._tree = cKDTree(self.points)
        kk = self.k + 1 if skip_self else self.k
        dist, _ = self._tree.query(z, k=kk)
        dist = np.atleast_2d(dist.reshape(len(z), -1))
        return dist[:, 1:].mean(axis=1) if skip_self else dist.mean(axis=1)

    def distance_ratio(self, table: pd.DataFrame) -> np.ndarray:
        """Mean distance to the ``k`` nearest training points over :attr:`radius`, shape (n_rows,)."""
        z = (_coordinates(table, self.distance) - self.center) / self.scale
        out = np.full(len(z), np.inf)
        ok = np.all(np.isfinite(z), axis=1)
        if ok.any():
            out[ok] = self._mean_distance(z[ok]) / self.radius
        return out

    def membership(self, table: pd.DataFrame) -> np.ndarray:
        """1 inside the bulk of the training data, tapering to 0 at three :attr:`radius`, shape (n_rows,)."""
        ratio = self.distance_ratio(table)
        frac = np.clip((ratio - 1.0) / 2.0, 0.0, 1.0)
        return 0.5 * (1.0 + np.cos(np.pi * frac))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {"distance": self.distance, "center": self.center.tolist(), "scale": self.scale.tolist(),
                "points": self.points.tolist(), "radius": self.radius, "k": self.k}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingDomain:
        """Inverse of :meth:`to_dict`, with the shapes and values checked."""
        try:
            points = np.asarray(data["points"], dtype=float)
            center = np.asarray(data["center"], dtype=float)
            scale = np.asarray(data["scale"], dtype=float)
            out = cls(str(data["distance"]), center, scale, points, float(data["radius"]), int(data["k"]))
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"Model metadata 'domain' is malformed ({exc}); expected distance, center, scale, points, radius, k."
            raise ValueError(msg) from None
        ok = (points.ndim == 2 and points.shape[1] == 3 and 1 < len(points) <= MAX_POINTS and center.shape == (3,)
              and scale.shape == (3,) and np.all(np.isfinite(points)) and np.all(scale > 0) and out.radius > 0
              and 1 <= out.k < len(points))
        if not ok:
            msg = "Model metadata 'domain' has impossible shapes or values (points (n, 3) with 1 < n <= 2000, positive scale and radius)."
            raise ValueError(msg)
        return out
