"""Synthetic velocity fields with known answers, for tests, benchmarks and tutorials."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gmlearn.exceptions import SchemaError
from gmlearn.geodesy.euler import euler_velocity, pole_to_omega
from gmlearn.geodesy.sphere import from_tangent_plane

__all__ = ["random_stations", "rigid_block_field", "uniform_strain_field"]


def _rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    return random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)


def random_stations(
    n: int,
    region: tuple[float, float, float, float],
    *,
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in area within ``region = (lon_min, lon_max, lat_min, lat_max)`` (degrees)."""
    lon_min, lon_max, lat_min, lat_max = region
    if not (lon_min < lon_max and -90 <= lat_min < lat_max <= 90):
        msg = f"The 'region' parameter must be (lon_min, lon_max, lat_min, lat_max) with min < max. Got {region!r}."
        raise SchemaError(msg)
    rng = _rng(random_state)
    lon = rng.uniform(lon_min, lon_max, n)
    s = rng.uniform(np.sin(np.radians(lat_min)), np.sin(np.radians(lat_max)), n)
    return lon, np.degrees(np.arcsin(s))


def _table(prefix: str, lon, lat, ve, vn, sigma: float, rho: float, rng: np.random.Generator) -> pd.DataFrame:
    n = len(lon)
    if sigma > 0:
        cov = sigma**2 * np.array([[1.0, rho], [rho, 1.0]])
        noise = rng.multivariate_normal(np.zeros(2), cov, size=n)
        ve, vn = ve + noise[:, 0], vn + noise[:, 1]
    s = sigma if sigma > 0 else 1.0
    return pd.DataFrame(
        {"station": [f"{prefix}{i:03d}" for i in range(n)], "lon": lon, "lat": lat, "ve": ve, "vn": vn,
         "se": np.full(n, s), "sn": np.full(n, s), "rho": np.full(n, rho if sigma > 0 else 0.0)}
    )  # fmt: skip


def rigid_block_field(
    pole: tuple[float, float, float],
    region: tuple[float, float, float, float],
    n: int = 50,
    *,
    sigma: float = 0.0,
    rho: float = 0.0,
    prefix: str = "S",
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Stations on one rigid block rotating about ``pole = (lat, lon, rate_deg_myr)``.

    Parameters
    ----------
    pole
        Pole latitude, longitude (degrees) and rate (deg/Myr).
    region
        ``(lon_min, lon_max, lat_min, lat_max)`` where stations are drawn.
    n
        Number of stations.
    sigma, rho
        Gaussian noise (mm/yr) and east-north correlation added to the
        velocities; the table's sigmas are ``sigma`` (1 mm/yr if ``sigma`` is 0).

    Returns
    -------
    pandas.DataFrame
        Canonical velocity table.
    """
    rng = _rng(random_state)
    lon, lat = random_stations(n, region, random_state=rng)
    ve, vn = euler_velocity(pole_to_omega(*pole), lon, lat)
    return _table(prefix, lon, lat, ve, vn, sigma, rho, rng)


def uniform_strain_field(
    gradient: np.ndarray,
    center: tuple[float, float],
    n: int = 60,
    *,
    radius_km: float = 100.0,
    translation: tuple[float, float] = (0.0, 0.0),
    sigma: float = 0.0,
    prefix: str = "U",
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Stations in a uniform velocity-gradient field around ``center = (lon, lat)``.

    The field is ``v = t + L x`` in the tangent plane at ``center`` (x east,
    y north, metres; v in mm/yr), mapped back to each station's local east and
    north axes.

    Parameters
    ----------
    gradient
        ``L`` = [[dvx/dx, dvx/dy], [dvy/dx, dvy/dy]] in 1/yr, shape (2, 2);
        strain rates are its symmetric part.
    center
        Tangent point (lon, lat), degrees.
    radius_km
        Stations are drawn uniformly in a disc of this radius.
    translation
        ``t`` (east, north) in mm/yr.
    sigma
        Gaussian noise (mm/yr) on each component.
    """
    rng = _rng(random_state)
    gradient = np.asarray(gradient, dtype=float)
    if gradient.shape != (2, 2):
        msg = f"The 'gradient' parameter must have shape (2, 2). Got {gradient.shape}."
        raise SchemaError(msg)
    radius = radius_km * 1000.0 * np.sqrt(rng.uniform(0, 1, n))
    theta = rng.uniform(0, 2 * np.pi, n)
    x, y = radius * np.cos(theta), radius * np.sin(theta)
    v = np.asarray(translation, float)[:, None] + 1000.0 * gradient @ np.vstack([x, y])  # m/yr -> mm/yr
    lon, lat, ve, vn = from_tangent_plane(x, y, center[0], center[1], v[0], v[1])
    return _table(prefix, lon, lat, ve, vn, sigma, 0.0, rng)
