"""Spatial and cross-IMT correlation of ground-motion residuals, from OpenQuake's models.

Within-event residuals of IMTs ``a`` and ``b`` at sites ``h`` km apart are
correlated as ``rho_W(a, b) * exp(-3 h / max(b_a, b_b))`` - the Markov-type
product OpenQuake's conditioned-GMF calculator and USGS ShakeMap 4 use:
Jayaram & Baker (2009) ranges ``b`` (``JB2009CorrelationModel``) times Baker &
Jayaram (2008) cross-IMT correlation. Between-event residuals are correlated
across IMTs by Goda & Atkinson (2009), OpenQuake's default for conditioning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["CorrelationModel", "great_circle_km", "EARTH_RADIUS_KM"]

#: Earth radius used by OpenQuake's ``geodetic_distance`` (km).
EARTH_RADIUS_KM = 6371.0


def great_circle_km(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance (km) between every point 1 (rows) and point 2 (columns), shape (n1, n2).

    The haversine formula on OpenQuake's sphere (same values as
    ``openquake.hazardlib.geo.geodetic.geodetic_distance``).
    """
    la1 = np.radians(np.asarray(lat1, dtype=float))[:, None]
    la2 = np.radians(np.asarray(lat2, dtype=float))[None, :]
    dlon = np.radians(np.asarray(lon1, dtype=float))[:, None] - np.radians(np.asarray(lon2, dtype=float))[None, :]
    s = np.sin((la1 - la2) * 0.5) ** 2 + np.cos(la1) * np.cos(la2) * np.sin(dlon * 0.5) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(s, 0.0, 1.0)))


@dataclass(frozen=True)
class CorrelationModel:
    """Correlation of residuals used for conditioning and for ensembles.

    Parameters
    ----------
    vs30_clustering
        Jayaram & Baker (2009) "case 2" (True: vs30 clusters, longer ranges
        at short periods, OpenQuake's default for conditioned GMFs) or "case 1".
    spatial
        ``"JB2009"`` (the only spatial model; kept for the file format).
    cross_within
        ``"BakerJayaram2008"`` or ``"none"`` (IMTs uncorrelated).
    cross_between
        ``"GodaAtkinson2009"``, ``"BakerJayaram2008"`` or ``"none"``.
    """

    vs30_clustering: bool = True
    spatial: str = "JB2009"
    cross_within: str = "BakerJayaram2008"
    cross_between: str = "GodaAtkinson2009"

    def __post_init__(self) -> None:
        from gmlearn.shakemap.errors import ShakemapError

        allowed = {"spatial": ("JB2009",), "cross_within": ("BakerJayaram2008", "none"),
                   "cross_between": ("GodaAtkinson2009", "BakerJayaram2008", "none")}
        for name, values in allowed.items():
            if getattr(self, name) not in values:
                msg = f"The {name!r} parameter of CorrelationModel must be one of {list(values)}. Got {getattr(self, name)!r}."
                raise ShakemapError(msg)

    def ranges(self, imts: Sequence[str]) -> np.ndarray:
        """JB2009 range ``b`` (km) of each IMT, shape (n_imts,), so that ``rho = exp(-3 h / b)``."""
        from openquake.hazardlib.correlation import jbcorrelation
        from openquake.hazardlib.imt import from_string

        rho = np.array([float(jbcorrelation(np.array([1.0]), from_string(i), self.vs30_clustering)[0]) for i in imts])
        return -3.0 / np.log(rho)

    def spatial_correlation(self, h: np.ndarray, imt: str) -> np.ndarray:
        """``exp(-3 h / b)`` for one IMT (h in km)."""
        b = self.ranges([imt])[0]
        return np.exp(-3.0 * np.asarray(h, dtype=float) / b)

    def _cross(self, imts: Sequence[str], name: str) -> np.ndarray:
        from openquake.hazardlib import cross_correlation
        from openquake.hazardlib.imt import from_string

        n = len(imts)
        if name == "none":
            return np.eye(n)
        model = getattr(cross_correlation, name)()
        objs = [from_string(i) for i in imts]
        out = np.eye(n)
        for i in range(n):
            for j in range(i + 1, n):
                out[i, j] = out[j, i] = float(model.get_correlation(objs[i], objs[j]))
        return out

    def within_cross(self, imts: Sequence[str]) -> np.ndarray:
        """Cross-IMT correlation of within-event residuals at one site, shape (n_imts, n_imts)."""
        return self._cross(imts, self.cross_within)

    def between_cross(self, imts: Sequence[str]) -> np.ndarray:
        """Cross-IMT correlation of normalised between-event residuals, shape (n_imts, n_imts)."""
        return self._cross(imts, self.cross_between)

    def to_dict(self) -> dict:
        """Parameters as a plain dict (for file metadata)."""
        return {"spatial": self.spatial, "vs30_clustering": self.vs30_clustering,
                "cross_within": self.cross_within, "cross_between": self.cross_between}
