"""Spherical-Earth geometry shared by the Euler-pole, clustering and strain code.

Positions are (lon, lat) in degrees on a sphere of radius :data:`EARTH_RADIUS_M`;
horizontal vectors are (east, north) components in each point's local frame.
A geocentric Cartesian frame (x through 0°N 0°E, z through the North pole) links
the local frames of different points.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EARTH_RADIUS_M",
    "unit_vectors",
    "to_tangent_plane",
    "from_tangent_plane",
    "great_circle_km",
]

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M: float = 6_371_008.8


def unit_vectors(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radial, east and north unit vectors in the geocentric Cartesian frame.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees, shape (n,).

    Returns
    -------
    r, e, n
        Each of shape (n, 3); ``e × n = r``.
    """
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    cl, sl, cp, sp = np.cos(lam), np.sin(lam), np.cos(phi), np.sin(phi)
    r = np.stack([cp * cl, cp * sl, sp], axis=-1)
    e = np.stack([-sl, cl, np.zeros_like(lam)], axis=-1)
    n = np.stack([-sp * cl, -sp * sl, cp], axis=-1)
    return r, e, n


def to_tangent_plane(
    lon: np.ndarray,
    lat: np.ndarray,
    lon0: float,
    lat0: float,
    ve: np.ndarray | None = None,
    vn: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Project points (and their horizontal vectors) onto the tangent plane at (lon0, lat0).

    Positions use the orthographic projection ``x = R (r · e0)``, ``y = R (r · n0)``;
    a vector given in a point's local (east, north) frame is rebuilt in 3-D and
    projected on the plane's axes, so velocities of different points are
    compared in one frame (no spurious strain from meridian convergence).

    Parameters
    ----------
    lon, lat
        Degrees, shape (n,).
    lon0, lat0
        Tangent point, degrees.
    ve, vn
        Optional east and north components at each point, shape (n,), any unit.

    Returns
    -------
    x, y
        Plane coordinates in metres (x east, y north at the tangent point).
    vx, vy
        Vector components in the plane frame (same unit as ``ve``), or None.
    """
    r, e, n = unit_vectors(lon, lat)
    _, e0, n0 = unit_vectors(np.array([lon0]), np.array([lat0]))
    x = EARTH_RADIUS_M * (r @ e0[0])
    y = EARTH_RADIUS_M * (r @ n0[0])
    if ve is None or vn is None:
        return x, y, None, None
    v3 = np.asarray(ve, dtype=float)[:, None] * e + np.asarray(vn, dtype=float)[:, None] * n
    return x, y, v3 @ e0[0], v3 @ n0[0]


def from_tangent_plane(
    x: np.ndarray,
    y: np.ndarray,
    lon0: float,
    lat0: float,
    vx: np.ndarray | None = None,
    vy: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Inverse of :func:`to_tangent_plane` for points on the near hemisphere.

    Parameters
    ----------
    x, y
        Plane coordinates in metres, shape (n,); ``x² + y² < R²``.
    lon0, lat0
        Tangent point, degrees.
    vx, vy
        Optional plane-frame vectors, rebuilt as local (east, north) components.

    Returns
    -------
    lon, lat
        Degrees.
    ve, vn
        Local components (the in-plane vector projected on each point's
        east and north axes), or None.
    """
    x = np.asarray(x, dtype=float) / EARTH_RADIUS_M
    y = np.asarray(y, dtype=float) / EARTH_RADIUS_M
    r0, e0, n0 = (a[0] for a in unit_vectors(np.array([lon0]), np.array([lat0])))
    z = np.sqrt(np.clip(1.0 - x**2 - y**2, 0.0, None))
    r = x[:, None] * e0 + y[:, None] * n0 + z[:, None] * r0
    lat = np.degrees(np.arcsin(np.clip(r[:, 2], -1.0, 1.0)))
    lon = np.degrees(np.arctan2(r[:, 1], r[:, 0]))
    if vx is None or vy is None:
        return lon, lat, None, None
    _, e, n = unit_vectors(lon, lat)
    v3 = np.asarray(vx, dtype=float)[:, None] * e0 + np.asarray(vy, dtype=float)[:, None] * n0
    return lon, lat, np.einsum("ij,ij->i", v3, e), np.einsum("ij,ij->i", v3, n)


def great_circle_km(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km (haversine), broadcasting its arguments (degrees)."""
    lam1, phi1, lam2, phi2 = (np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    h = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2
    return 2.0 * EARTH_RADIUS_M / 1000.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
