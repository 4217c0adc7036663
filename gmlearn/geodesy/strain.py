"""Horizontal strain rates from GNSS velocities: tensor invariants and Delaunay triangles.

The velocity gradient ``L = ∂v/∂x`` (x east, y north, 1/yr) is estimated in a
local tangent plane (:func:`~gmlearn.geodesy.sphere.to_tangent_plane`);
strain rates are its symmetric part ``ε = (L + Lᵀ)/2`` and the rotation rate
``ω = (L_yx - L_xy)/2`` (rad/yr, counterclockwise positive). Extension is
positive. Results are in 1/yr; :func:`to_nanostrain` gives nanostrain/yr
(1e-9/yr). The gridded estimator lives in :mod:`gmlearn.geodesy.strain_grid`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gmlearn.exceptions import SchemaError
from gmlearn.geodesy.sphere import EARTH_RADIUS_M, to_tangent_plane, unit_vectors
from gmlearn.geodesy.threads import single_threaded
from gmlearn.geodesy.validation import check_velocity_table

__all__ = [
    "STRAIN_COLUMNS",
    "strain_invariants",
    "tensor_table",
    "strain_triangles",
    "to_nanostrain",
    "plane_covariance",
    "mean_position",
]

#: Strain-rate columns of every strain table (1/yr; ``rotation`` rad/yr; ``azimuth_e1`` degrees).
STRAIN_COLUMNS: tuple[str, ...] = (
    "exx", "eyy", "exy", "rotation", "e1", "e2", "azimuth_e1", "max_shear", "dilatation", "second_invariant",
)  # fmt: skip
_SIGMA_COLUMNS = ("sigma_exx", "sigma_eyy", "sigma_exy", "sigma_dilatation", "sigma_max_shear", "sigma_second_invariant")
_RATE_COLUMNS = tuple(c for c in STRAIN_COLUMNS if c != "azimuth_e1") + _SIGMA_COLUMNS


def strain_invariants(exx: np.ndarray, eyy: np.ndarray, exy: np.ndarray) -> dict[str, np.ndarray]:
    """Principal rates and invariants of a 2-D strain-rate tensor (any consistent unit).

    Returns
    -------
    dict
        ``e1 >= e2`` principal rates (extension positive); ``azimuth_e1``, the
        direction of ``e1`` in degrees clockwise from north in [0, 180);
        ``max_shear = (e1 - e2)/2``; ``dilatation = exx + eyy``;
        ``second_invariant = sqrt(exx² + eyy² + 2 exy²)``.
    """
    exx, eyy, exy = (np.asarray(a, dtype=float) for a in (exx, eyy, exy))
    mean = 0.5 * (exx + eyy)
    radius = np.hypot(0.5 * (exx - eyy), exy)
    theta = 0.5 * np.degrees(np.arctan2(2.0 * exy, exx - eyy))  # from east, counterclockwise
    return {
        "e1": mean + radius,
        "e2": mean - radius,
        "azimuth_e1": np.mod(90.0 - theta, 180.0),
        "max_shear": radius,
        "dilatation": exx + eyy,
        "second_invariant": np.sqrt(exx**2 + eyy**2 + 2.0 * exy**2),
    }


def _sigmas(exx: np.ndarray, eyy: np.ndarray, exy: np.ndarray, cov: np.ndarray) -> dict[str, np.ndarray]:
    """One-sigma of the tensor components and invariants from cov of (exx, eyy, exy), shape (m, 3, 3)."""
    radius = np.hypot(0.5 * (exx - eyy), exy)
    inv2 = np.sqrt(exx**2 + eyy**2 + 2.0 * exy**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        jac = {
            "sigma_dilatation": np.stack([np.ones_like(exx), np.ones_like(exx), np.zeros_like(exx)], axis=1),
            "sigma_max_shear": np.stack([(exx - eyy) / (4 * radius), -(exx - eyy) / (4 * radius), exy / radius], axis=1),
            "sigma_second_invariant": np.stack([exx / inv2, eyy / inv2, 2 * exy / inv2], axis=1),
        }
    out = {f"sigma_{c}": np.sqrt(np.clip(cov[:, i, i], 0, None)) for i, c in enumerate(("exx", "eyy", "exy"))}
    for name, j in jac.items():
        out[name] = np.sqrt(np.clip(np.einsum("mi,mij,mj->m", j, cov, j), 0, None))
    return out


def tensor_table(grad: np.ndarray, cov: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Strain columns from velocity gradients ``grad`` (m, 2, 2) in 1/yr and optional cov of (exx, eyy, exy)."""
    exx, eyy = grad[:, 0, 0], grad[:, 1, 1]
    exy = 0.5 * (grad[:, 0, 1] + grad[:, 1, 0])
    out = {"exx": exx, "eyy": eyy, "exy": exy, "rotation": 0.5 * (grad[:, 1, 0] - grad[:, 0, 1])}
    out.update(strain_invariants(exx, eyy, exy))
    if cov is not None:
        out.update(_sigmas(exx, eyy, exy, cov))
    return out


def plane_covariance(table: pd.DataFrame, lon0: np.ndarray, lat0: np.ndarray) -> np.ndarray:
    """Station velocity covariances (mm/yr)² rotated into tangent planes at (lon0, lat0), shape (m, 2, 2).

    ``table`` rows and the tangent points pair up one to one.
    """
    se, sn, rho = (table[c].to_numpy(float) for c in ("se", "sn", "rho"))
    c = np.empty((len(se), 2, 2))
    c[:, 0, 0], c[:, 1, 1] = se**2, sn**2
    c[:, 0, 1] = c[:, 1, 0] = rho * se * sn
    _, e, n = unit_vectors(table["lon"].to_numpy(float), table["lat"].to_numpy(float))
    _, e0, n0 = unit_vectors(lon0, lat0)
    rot = np.stack([np.stack([(e * e0).sum(1), (n * e0).sum(1)], 1), np.stack([(e * n0).sum(1), (n * n0).sum(1)], 1)], 1)
    return rot @ c @ np.transpose(rot, (0, 2, 1))


def mean_position(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised mean of unit vectors along the last axis, as (lon, lat) degrees."""
    r, _, _ = unit_vectors(lon, lat)
    m = r.mean(axis=-2)
    return np.degrees(np.arctan2(m[..., 1], m[..., 0])), np.degrees(np.arctan2(m[..., 2], np.hypot(m[..., 0], m[..., 1])))


def _drop_colocated(table: pd.DataFrame, min_separation_km: float) -> tuple[pd.DataFrame, list[str]]:
    """Keep one station (the smallest sigma) of each group closer than ``min_separation_km``."""
    from scipy.spatial import cKDTree

    r, _, _ = unit_vectors(table["lon"].to_numpy(float), table["lat"].to_numpy(float))
    order = np.argsort(np.hypot(table["se"].to_numpy(float), table["sn"].to_numpy(float)), kind="stable")
    tree = cKDTree(r[order])
    removed = np.zeros(len(order), dtype=bool)
    for a, b in sorted(tree.query_pairs(min_separation_km * 1000.0 / EARTH_RADIUS_M)):
        if not removed[a]:
            removed[b] = True
    gone = np.sort(order[removed])
    return table.drop(index=table.index[gone]), table["station"].iloc[gone].astype(str).tolist()


def _triangle_geometry(lon: np.ndarray, lat: np.ndarray, tri: np.ndarray) -> dict[str, np.ndarray]:
    """Per triangle: centroid, vertex plane coordinates (km), area (m²), longest edge, smallest angle."""
    clon, clat = mean_position(lon[tri], lat[tri])
    xy = np.empty(tri.shape + (2,))
    r, _, _ = unit_vectors(lon, lat)
    _, e0, n0 = unit_vectors(clon, clat)
    xy[..., 0] = np.einsum("tvk,tk->tv", r[tri], e0) * EARTH_RADIUS_M / 1000.0
    xy[..., 1] = np.einsum("tvk,tk->tv", r[tri], n0) * EARTH_RADIUS_M / 1000.0
    edges = np.stack([xy[:, 1] - xy[:, 0], xy[:, 2] - xy[:, 1], xy[:, 0] - xy[:, 2]], axis=1)
    length = np.linalg.norm(edges, axis=2)
    area = 0.5 * np.abs(edges[:, 0, 0] * edges[:, 2, 1] - edges[:, 0, 1] * edges[:, 2, 0])
    cosang = np.stack([-(edges[:, k] * edges[:, k - 1]).sum(1) / (length[:, k] * length[:, k - 1]) for k in range(3)], 1)
    min_angle = np.degrees(np.arccos(np.clip(cosang, -1, 1))).min(axis=1)
    return {"lon": clon, "lat": clat, "xy": xy, "area_m2": area * 1e6, "max_edge_km": length.max(1), "min_angle_deg": min_angle}


@single_threaded
def strain_triangles(
    table: pd.DataFrame,
    *,
    max_edge_km: float | None = None,
    min_angle_deg: float = 10.0,
    min_separation_km: float = 1.0,
) -> pd.DataFrame:
    """Uniform strain rate in each triangle of a Delaunay triangulation of the stations.

    Parameters
    ----------
    table
        Canonical velocity table (mm/yr), a regional selection (all stations
        within 80° of their mean position).
    max_edge_km
        Drop triangles with a longer edge (None keeps all).
    min_angle_deg
        Drop slivers whose smallest angle is below this (their gradients amplify noise).
    min_separation_km
        Stations closer than this to a station with smaller sigma are left out
        (co-located antennas would make degenerate triangles).

    Returns
    -------
    pandas.DataFrame
        One row per kept triangle: centroid ``lon, lat``, ``station_a..c``,
        ``area_m2``, ``max_edge_km``, ``min_angle_deg``, mean ``ve, vn``,
        :data:`STRAIN_COLUMNS` and their sigmas (1/yr). ``attrs["report"]``
        counts triangles and stations left out.
    """
    from scipy.spatial import Delaunay

    check_velocity_table(table)
    used, colocated = _drop_colocated(table.reset_index(drop=True), min_separation_km)
    if len(used) < 3:
        msg = f"strain_triangles needs at least 3 distinct stations; got {len(used)}."
        raise SchemaError(msg)
    lon, lat = used["lon"].to_numpy(float), used["lat"].to_numpy(float)
    lon0, lat0 = mean_position(lon, lat)
    x, y, _, _ = to_tangent_plane(lon, lat, float(lon0), float(lat0))
    if np.any(np.hypot(x, y) > EARTH_RADIUS_M * np.sin(np.radians(80.0))):
        raise SchemaError("strain_triangles needs a regional selection: some stations are > 80° from the mean position.")
    tri = Delaunay(np.column_stack([x, y])).simplices
    geo = _triangle_geometry(lon, lat, tri)
    keep = geo["min_angle_deg"] >= min_angle_deg
    if max_edge_km is not None:
        keep &= geo["max_edge_km"] <= max_edge_km
    tri, geo = tri[keep], {k: v[keep] for k, v in geo.items()}
    grad, cov, vmean = _triangle_gradients(used, tri, geo)
    st = used["station"].to_numpy(dtype=object)
    cols: dict[str, Any] = {"lon": geo["lon"], "lat": geo["lat"], "station_a": st[tri[:, 0]],
                            "station_b": st[tri[:, 1]], "station_c": st[tri[:, 2]]}  # fmt: skip
    cols.update({k: geo[k] for k in ("area_m2", "max_edge_km", "min_angle_deg")})
    cols.update(ve=vmean[:, 0], vn=vmean[:, 1], **tensor_table(grad, cov))
    out = pd.DataFrame(cols)
    report: dict[str, Any] = {
        "method": "triangles", "n_triangles": int(keep.size), "n_kept": int(keep.sum()),
        "dropped_thin_or_long": int((~keep).sum()), "colocated_stations_left_out": colocated,
        "min_angle_deg": min_angle_deg, "max_edge_km": max_edge_km,
    }  # fmt: skip
    out.attrs = {"units": "1/yr", "report": report}
    return out


def _triangle_gradients(used: pd.DataFrame, tri: np.ndarray, geo: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Velocity gradients (m, 2, 2) in 1/yr, cov of (exx, eyy, exy), mean centroid-frame velocity."""
    m = len(tri)
    lon, lat = used["lon"].to_numpy(float), used["lat"].to_numpy(float)
    ve, vn = used["ve"].to_numpy(float), used["vn"].to_numpy(float)
    flat = tri.reshape(-1)
    clon, clat = np.repeat(geo["lon"], 3), np.repeat(geo["lat"], 3)
    _, e, n = unit_vectors(lon[flat], lat[flat])
    _, e0, n0 = unit_vectors(clon, clat)
    v3 = ve[flat, None] * e + vn[flat, None] * n  # vectors moved to each triangle's own tangent plane
    v = np.stack([(v3 * e0).sum(1), (v3 * n0).sum(1)], axis=1).reshape(m, 3, 2)
    mat = np.concatenate([np.ones((m, 3, 1)), geo["xy"]], axis=2)  # rows [1, x_km, y_km]
    minv = np.linalg.inv(mat)  # (m, 3 coeffs, 3 vertices)
    coef = minv @ v  # (m, 3, 2): [v0; dv/dx; dv/dy] in mm/yr and mm/yr/km
    grad = np.transpose(coef[:, 1:, :], (0, 2, 1)) * 1e-6  # [[dvx/dx, dvx/dy], [dvy/dx, dvy/dy]], 1/yr
    pc = plane_covariance(used.iloc[flat], clon, clat).reshape(m, 3, 2, 2) * 1e-12
    gx, gy = minv[:, 1, :], minv[:, 2, :]
    zeros = np.zeros_like(gx)
    g = np.stack([np.stack([gx, zeros], -1), np.stack([zeros, gy], -1), 0.5 * np.stack([gy, gx], -1)], axis=1)
    cov = np.einsum("tcvi,tvij,tdvj->tcd", g, pc, g)
    return grad, cov, v.mean(axis=1)


def to_nanostrain(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of a strain table with rates (and their sigmas) in nanostrain/yr (1e-9/yr)."""
    out = frame.copy()
    for col in _RATE_COLUMNS:
        if col in out:
            out[col] = out[col] * 1e9
    out.attrs = {**frame.attrs, "units": "nanostrain/yr"}
    return out
