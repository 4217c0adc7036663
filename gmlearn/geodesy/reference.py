"""Published reference values used to check results: plate poles and a coarse San Andreas trace.

Values are data with their sources; nothing here is fitted.
"""

from __future__ import annotations

import numpy as np

from gmlearn.geodesy.sphere import to_tangent_plane

__all__ = [
    "MORVEL_NA_REL_PA_DEG_MYR",
    "MORVEL_PA_REL_NA_DEG_MYR",
    "MORVEL_SOURCE",
    "SAN_ANDREAS_TRACE",
    "san_andreas_offset_km",
    "polyline_offset_km",
]

#: MORVEL angular velocity of North America relative to the Pacific plate, Cartesian
#: (x through 0°N 0°E, y through 0°N 90°E, z north), deg/Myr. DeMets, Gordon & Argus (2010),
#: Geologically current plate motions, Geophys. J. Int. 181, 1-80, doi:10.1111/j.1365-246X.2009.04491.x
#: (angular velocities relative to the Pacific plate). Equivalent pole: 48.89°N, 71.71°W, 0.750 deg/Myr.
MORVEL_NA_REL_PA_DEG_MYR: tuple[float, float, float] = (0.15483, -0.46836, 0.56521)
#: Pacific relative to North America (the negative of the above): pole 48.89°S, 108.29°E,
#: 0.750 deg/Myr counterclockwise, i.e. 48.89°N, 71.71°W clockwise. Cross-check: the NNR-MORVEL56
#: poles of PA (63.58°S, 114.70°E, 0.651 deg/Myr) and NA (4.85°S, 80.64°W, 0.209 deg/Myr) (Argus,
#: Gordon & DeMets 2011, G-cubed 12, Q11001) give PA-NA within 0.01° and 0.0003 deg/Myr of this.
MORVEL_PA_REL_NA_DEG_MYR: tuple[float, float, float] = (-0.15483, 0.46836, -0.56521)
MORVEL_SOURCE: str = (
    "DeMets, C., Gordon, R. G., & Argus, D. F. (2010). Geologically current plate motions. "
    "Geophys. J. Int., 181(1), 1-80 (MORVEL, North America relative to Pacific)."
)

#: Coarse trace of the San Andreas fault, south-east to north-west (lon, lat in degrees), hand-digitised
#: from well-known localities (Bombay Beach, Indio, San Gorgonio Pass, Cajon Pass, Palmdale, Tejon Pass,
#: Carrizo Plain, Cholame, Parkfield, San Juan Bautista, Loma Prieta, Crystal Springs, Mussel Rock,
#: Bolinas, Olema, Bodega Bay, Fort Ross, Point Arena, Shelter Cove). Accurate to about 10 km: enough to
#: say on which side of the fault a station 30 km or more away lies, not for fault-proximal work.
SAN_ANDREAS_TRACE: tuple[tuple[float, float], ...] = (
    (-115.72, 33.35), (-116.20, 33.72), (-116.75, 33.95), (-117.15, 34.12), (-117.45, 34.28),
    (-117.63, 34.36), (-118.10, 34.55), (-118.90, 34.81), (-119.80, 35.20), (-120.30, 35.72),
    (-120.43, 35.90), (-120.95, 36.38), (-121.54, 36.84), (-121.88, 37.11), (-122.33, 37.50),
    (-122.50, 37.67), (-122.70, 37.91), (-122.80, 38.04), (-123.05, 38.30), (-123.24, 38.51),
    (-123.70, 38.99), (-124.07, 40.02),
)  # fmt: skip


def polyline_offset_km(
    lon: np.ndarray, lat: np.ndarray, trace: tuple[tuple[float, float], ...] | np.ndarray
) -> np.ndarray:
    """Signed distance (km) from points to a polyline; positive on the left of its direction of travel.

    Computed on the tangent plane at the trace's middle vertex (regional use, a
    few hundred km). Points beyond an end are measured to that end vertex.
    """
    tr = np.asarray(trace, dtype=float)
    lon0, lat0 = tr[len(tr) // 2]
    px, py, _, _ = to_tangent_plane(np.asarray(lon, float), np.asarray(lat, float), lon0, lat0)
    tx, ty, _, _ = to_tangent_plane(tr[:, 0], tr[:, 1], lon0, lat0)
    p = np.column_stack([px, py]) / 1000.0
    a = np.column_stack([tx[:-1], ty[:-1]]) / 1000.0
    seg = np.column_stack([np.diff(tx), np.diff(ty)]) / 1000.0
    rel = p[:, None, :] - a[None, :, :]
    t = np.clip((rel * seg[None]).sum(axis=2) / (seg**2).sum(axis=1)[None], 0.0, 1.0)
    foot = a[None] + t[..., None] * seg[None]
    dist = np.linalg.norm(p[:, None, :] - foot, axis=2)
    best = dist.argmin(axis=1)
    idx = np.arange(len(p))
    cross = seg[best, 0] * rel[idx, best, 1] - seg[best, 1] * rel[idx, best, 0]
    return np.sign(cross) * dist[idx, best]


def san_andreas_offset_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Signed distance (km) to :data:`SAN_ANDREAS_TRACE`: positive west (Pacific side), negative east."""
    return polyline_offset_km(lon, lat, SAN_ANDREAS_TRACE)
