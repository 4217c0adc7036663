"""Euler poles: rigid rotation of a spherical cap fitted to horizontal GNSS velocities.

A station at unit position ``r`` on a plate rotating with angular velocity
``ω`` (rad/yr, geocentric Cartesian) moves at ``v = ω × (R r)``. In the local
frame ``ve = R ω·n`` and ``vn = -R ω·e`` (e, n the east and north unit
vectors), so the velocities are linear in ``ω`` and ``ω`` follows from
weighted least squares with each station's 2×2 covariance
``[[se², ρ se sn], [ρ se sn, sn²]]`` (e.g. Minster & Jordan 1978; DeMets et
al. 2010 for plate circuits). The Earth is a sphere of radius
:data:`~gmlearn.geodesy.sphere.EARTH_RADIUS_M`; latitudes are used as given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import SchemaError
from gmlearn.geodesy.sphere import EARTH_RADIUS_M, unit_vectors
from gmlearn.geodesy.threads import single_threaded
from gmlearn.geodesy.validation import check_velocity_table

__all__ = [
    "EulerPole",
    "fit_euler_pole",
    "euler_velocity",
    "pole_to_omega",
    "omega_to_pole",
    "pole_covariance",
    "angle_between_deg",
    "design_matrix",
    "whiten",
]

_R_MM = EARTH_RADIUS_M * 1000.0
#: rad/yr -> deg/Myr
RAD_YR_TO_DEG_MYR: float = np.degrees(1.0) * 1e6


def pole_to_omega(lat: float, lon: float, rate_deg_myr: float) -> np.ndarray:
    """Angular-velocity vector (rad/yr, shape (3,)) of a pole at (lat, lon) degrees turning at ``rate`` deg/Myr.

    A positive rate is counterclockwise seen from above the pole.
    """
    r, _, _ = unit_vectors(np.array([lon]), np.array([lat]))
    return r[0] * rate_deg_myr / RAD_YR_TO_DEG_MYR


def omega_to_pole(omega: np.ndarray) -> tuple[float, float, float]:
    """Pole latitude, longitude (degrees) and rate (deg/Myr, > 0) of ``omega`` (rad/yr)."""
    omega = np.asarray(omega, dtype=float)
    rate = float(np.linalg.norm(omega))
    if rate == 0.0:
        return float("nan"), float("nan"), 0.0
    lat = float(np.degrees(np.arctan2(omega[2], np.hypot(omega[0], omega[1]))))
    lon = float(np.degrees(np.arctan2(omega[1], omega[0])))
    return lat, lon, rate * RAD_YR_TO_DEG_MYR


def pole_covariance(omega: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """Covariance of (lat [deg], lon [deg], rate [deg/Myr]) from that of ``omega`` (rad/yr)², to first order."""
    wx, wy, wz = np.asarray(omega, dtype=float)
    w2 = wx**2 + wy**2 + wz**2
    h2 = wx**2 + wy**2
    h = np.sqrt(h2)
    w = np.sqrt(w2)
    jac = np.array(
        [
            [-wz * wx / (w2 * h), -wz * wy / (w2 * h), h / w2],
            [-wy / h2, wx / h2, 0.0],
            [wx / w, wy / w, wz / w],
        ]
    )
    jac[:2] *= np.degrees(1.0)
    jac[2] *= RAD_YR_TO_DEG_MYR
    return jac @ covariance @ jac.T


def angle_between_deg(omega_a: np.ndarray, omega_b: np.ndarray) -> float:
    """Angle (degrees) between the axes of two rotation vectors (0 for identical poles)."""
    a = np.asarray(omega_a, dtype=float)
    b = np.asarray(omega_b, dtype=float)
    return float(np.degrees(np.arctan2(np.linalg.norm(np.cross(a, b)), a @ b)))  # accurate near 0 and 180


def design_matrix(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Matrix mapping ``omega`` (rad/yr) to (ve, vn) in mm/yr, shape (n, 2, 3)."""
    _, e, n = unit_vectors(lon, lat)
    return np.stack([_R_MM * n, -_R_MM * e], axis=1)


def euler_velocity(omega: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """East and north velocity (mm/yr) of points (lon, lat in degrees) rotating with ``omega`` (rad/yr)."""
    v = design_matrix(np.atleast_1d(lon), np.atleast_1d(lat)) @ np.asarray(omega, dtype=float)
    return v[:, 0], v[:, 1]


def whiten(se: np.ndarray, sn: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Inverse Cholesky factors ``L⁻¹`` of the station covariances, shape (n, 2, 2).

    ``L⁻¹ C L⁻ᵀ = I`` for ``C = [[se², ρ se sn], [ρ se sn, sn²]]``; multiply
    residuals by ``L⁻¹`` to get unit-variance, uncorrelated ones.
    """
    se, sn, rho = (np.asarray(a, dtype=float) for a in (se, sn, rho))
    q = np.sqrt(1.0 - rho**2)
    out = np.zeros((len(se), 2, 2))
    out[:, 0, 0] = 1.0 / se
    out[:, 1, 0] = -rho / (se * q)
    out[:, 1, 1] = 1.0 / (sn * q)
    return out


@dataclass(frozen=True)
class EulerPole:
    """A fitted Euler pole.

    Attributes
    ----------
    omega
        Angular velocity, rad/yr, geocentric Cartesian, shape (3,).
    covariance
        Covariance of ``omega``, (rad/yr)², shape (3, 3).
    lat, lon, rate
        Pole (degrees) and rotation rate (deg/Myr, counterclockwise > 0).
    sigma_lat, sigma_lon, sigma_rate
        One-sigma uncertainties (degrees, deg/Myr), linear propagation.
    chi2, dof
        Weighted misfit and degrees of freedom ``2 n - 3``.
    wrms
        Weighted RMS residual, mm/yr.
    stations
        Stations used.
    residuals
        Per-station table: observed, modelled and residual velocities (mm/yr),
        normalised misfit ``chi2``.
    """

    omega: np.ndarray
    covariance: np.ndarray
    lat: float
    lon: float
    rate: float
    sigma_lat: float
    sigma_lon: float
    sigma_rate: float
    chi2: float
    dof: int
    wrms: float
    stations: tuple[str, ...]
    residuals: pd.DataFrame = field(repr=False)

    @property
    def reduced_chi2(self) -> float:
        """``chi2 / dof`` (NaN when dof is 0)."""
        return self.chi2 / self.dof if self.dof > 0 else float("nan")

    @property
    def pole_covariance(self) -> np.ndarray:
        """Covariance of (lat, lon, rate) in (deg, deg, deg/Myr)."""
        return pole_covariance(self.omega, self.covariance)

    def predict(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Velocities (ve, vn) in mm/yr predicted at (lon, lat) degrees."""
        return euler_velocity(self.omega, lon, lat)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no residual table)."""
        return {
            "lat": self.lat,
            "lon": self.lon,
            "rate_deg_myr": self.rate,
            "sigma_lat": self.sigma_lat,
            "sigma_lon": self.sigma_lon,
            "sigma_rate": self.sigma_rate,
            "omega_rad_yr": self.omega.tolist(),
            "covariance_rad2_yr2": self.covariance.tolist(),
            "chi2": self.chi2,
            "dof": self.dof,
            "reduced_chi2": self.reduced_chi2,
            "wrms_mm_yr": self.wrms,
            "n_stations": len(self.stations),
        }


def _subset(table: pd.DataFrame, stations: Sequence[str] | np.ndarray | None) -> pd.DataFrame:
    if stations is None:
        return table
    stations = np.asarray(stations)
    if stations.dtype == bool:
        if len(stations) != len(table):
            msg = f"The 'stations' mask has {len(stations)} entries; the table has {len(table)} rows."
            raise SchemaError(msg)
        return table.loc[stations]
    unknown = sorted(set(stations.tolist()) - set(table["station"]))
    if unknown:
        msg = f"The 'stations' parameter names {len(unknown)} station(s) not in the table, e.g. {unknown[:5]}."
        raise SchemaError(msg)
    return table[table["station"].isin(set(stations.tolist()))]


@single_threaded
def fit_euler_pole(
    table: pd.DataFrame,
    stations: Sequence[str] | np.ndarray | None = None,
    *,
    weighted: bool = True,
    scale_covariance: bool = False,
) -> EulerPole:
    """Fit a rigid rotation to horizontal velocities by weighted least squares.

    Parameters
    ----------
    table
        Canonical velocity table (``station, lon, lat, ve, vn, se, sn, rho``, mm/yr).
    stations
        Station ids, or a boolean mask over rows, to use (default: all).
    weighted
        Weight by the full 2×2 station covariance (default); if False every
        component has unit weight (ordinary least squares, sigma 1 mm/yr).
    scale_covariance
        Multiply the formal covariance by the reduced chi² (when > 0 dof).

    Returns
    -------
    EulerPole
        Pole, rate, covariances, misfit and residuals.

    Raises
    ------
    SchemaError
        Fewer than two stations, or stations that do not constrain ``ω``
        (colocated points).
    """
    check_velocity_table(table, require_sigma=weighted)
    sub = _subset(table, stations)
    if len(sub) < 2:
        msg = f"An Euler pole needs at least 2 stations; got {len(sub)}."
        raise SchemaError(msg)
    lon, lat = sub["lon"].to_numpy(float), sub["lat"].to_numpy(float)
    obs = sub[["ve", "vn"]].to_numpy(float)
    a = design_matrix(lon, lat)
    if weighted:
        w = whiten(sub["se"].to_numpy(float), sub["sn"].to_numpy(float), sub["rho"].to_numpy(float))
    else:
        w = np.broadcast_to(np.eye(2), (len(sub), 2, 2))
    aw = (w @ a).reshape(-1, 3)
    dw = np.einsum("nij,nj->ni", w, obs).reshape(-1)
    u, s, vt = np.linalg.svd(aw, full_matrices=False)
    if s[-1] <= s[0] * 1e-10:
        msg = f"The {len(sub)} stations do not constrain a rotation (singular values {s.tolist()})."
        raise SchemaError(msg)
    omega = vt.T @ ((u.T @ dw) / s)
    cov = (vt.T / s**2) @ vt
    res = obs - np.einsum("nij,j->ni", a, omega)
    res_w = np.einsum("nij,nj->ni", w, res)
    chi2_i = (res_w**2).sum(axis=1)
    chi2, dof = float(chi2_i.sum()), 2 * len(sub) - 3
    if scale_covariance and dof > 0:
        cov = cov * chi2 / dof
    wgt = 1.0 / np.column_stack([sub["se"], sub["sn"]]) ** 2 if weighted else np.ones_like(obs)
    wrms = float(np.sqrt((wgt * res**2).sum() / wgt.sum()))
    plat, plon, rate = omega_to_pole(omega)
    sig = np.sqrt(np.diag(pole_covariance(omega, cov)))
    model = obs - res
    residuals = pd.DataFrame(
        {"station": sub["station"].to_numpy(), "lon": lon, "lat": lat, "ve": obs[:, 0], "vn": obs[:, 1],
         "ve_model": model[:, 0], "vn_model": model[:, 1], "re": res[:, 0], "rn": res[:, 1], "chi2": chi2_i}
    )  # fmt: skip
    return EulerPole(
        omega=omega, covariance=cov, lat=plat, lon=plon, rate=rate,
        sigma_lat=float(sig[0]), sigma_lon=float(sig[1]), sigma_rate=float(sig[2]),
        chi2=chi2, dof=dof, wrms=wrms, stations=tuple(sub["station"].astype(str)), residuals=residuals,
    )  # fmt: skip
