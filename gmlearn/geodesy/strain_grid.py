"""Gridded strain rates: distance-weighted least squares of the velocity gradient at each node.

At each node the stations are moved to the node's tangent plane and a uniform
gradient model ``v = t + L x`` is fitted by weighted least squares, each
station's covariance divided by a spatial weight ``w(d)`` that decays with its
distance ``d`` from the node — Gaussian ``exp(-d²/D²)`` or quadratic
``1/(1 + d²/D²)`` (Shen, Jackson & Ge 1996, JGR 101, 27957-27980). The
smoothing distance ``D`` is either fixed or, in the spirit of Shen, Wang, Zeng
& Wang (2015, BSSA 105, 2117-2127), adapted per node: the smallest ``D``
whose total weight ``Σ w`` reaches ``weight_threshold`` (a spatially varying
resolution, tight where stations are dense). Shen et al. (2015) also weight by
Voronoi areas; here an azimuthal-gap test rejects nodes outside the network.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from gmlearn.exceptions import SchemaError
from gmlearn.geodesy.sphere import EARTH_RADIUS_M, great_circle_km, to_tangent_plane
from gmlearn.geodesy.strain import plane_covariance, tensor_table
from gmlearn.geodesy.threads import single_threaded
from gmlearn.geodesy.validation import check_velocity_table

__all__ = ["make_grid", "strain_grid"]

_WEIGHTINGS = ("gaussian", "quadratic")


def make_grid(
    region: tuple[float, float, float, float], spacing_deg: float | tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell-centred nodes over ``region = (lon_min, lon_max, lat_min, lat_max)``.

    Returns
    -------
    lon, lat, area_m2
        Node coordinates (degrees) and the spherical area of each cell (m²), shape (m,).
    """
    dlon, dlat = (spacing_deg, spacing_deg) if np.isscalar(spacing_deg) else spacing_deg
    lon_min, lon_max, lat_min, lat_max = region
    if not (dlon > 0 and dlat > 0 and lon_min < lon_max and lat_min < lat_max):
        msg = f"Need spacing_deg > 0 and region (lon_min, lon_max, lat_min, lat_max) with min < max; got {spacing_deg!r}, {region!r}."
        raise SchemaError(msg)
    glon = np.arange(lon_min + dlon / 2, lon_max, dlon)
    glat = np.arange(lat_min + dlat / 2, lat_max, dlat)
    lon, lat = (a.ravel() for a in np.meshgrid(glon, glat))
    band = np.sin(np.radians(lat + dlat / 2)) - np.sin(np.radians(lat - dlat / 2))
    return lon, lat, EARTH_RADIUS_M**2 * np.radians(dlon) * band


def _weights(d: np.ndarray, scale: np.ndarray, weighting: str) -> np.ndarray:
    q = (d[..., None] / scale) ** 2
    return np.exp(-q) if weighting == "gaussian" else 1.0 / (1.0 + q)


def _max_gap_deg(az: np.ndarray) -> float:
    if az.size < 2:
        return 360.0
    s = np.sort(np.mod(az, 360.0))
    return float(np.max(np.diff(np.concatenate([s, [s[0] + 360.0]]))))


def _solve_node(x: np.ndarray, y: np.ndarray, v: np.ndarray, cinv: np.ndarray, w: np.ndarray):
    """WLS for [tx, ty, Lxx, Lxy, Lyx, Lyy]; positions km, velocities mm/yr."""
    k = len(x)
    a = np.zeros((k, 2, 6))
    a[:, 0, 0] = a[:, 1, 1] = 1.0
    a[:, 0, 2], a[:, 0, 3] = x, y
    a[:, 1, 4], a[:, 1, 5] = x, y
    wmat = cinv * w[:, None, None]
    at_w = np.einsum("kij,kil->kjl", a, wmat)
    nmat = np.einsum("kjl,klm->jm", at_w, a)
    b = np.einsum("kjl,kl->j", at_w, v)
    if np.linalg.cond(nmat) > 1e12:
        return None
    cov = np.linalg.inv(nmat)
    return cov @ b, cov


def _node_estimate(
    d: np.ndarray, idx: np.ndarray, table: pd.DataFrame, lon0: float, lat0: float, scale: float, weighting: str
):
    sub = table.iloc[idx]
    x, y, vx, vy = to_tangent_plane(sub["lon"].to_numpy(float), sub["lat"].to_numpy(float), lon0, lat0,
                                    sub["ve"].to_numpy(float), sub["vn"].to_numpy(float))  # fmt: skip
    c = plane_covariance(sub, np.full(len(sub), lon0), np.full(len(sub), lat0))
    w = _weights(d[idx], np.array([scale]), weighting)[:, 0]
    sol = _solve_node(x / 1000.0, y / 1000.0, np.column_stack([vx, vy]), np.linalg.inv(c), w)
    gap = _max_gap_deg(np.degrees(np.arctan2(x, y)))
    return sol, gap


@single_threaded
def strain_grid(
    table: pd.DataFrame,
    *,
    spacing_deg: float | tuple[float, float] = 0.25,
    region: tuple[float, float, float, float] | None = None,
    nodes: tuple[np.ndarray, np.ndarray] | None = None,
    smoothing_km: float | None = None,
    weight_threshold: float = 8.0,
    smoothing_range_km: tuple[float, float] = (5.0, 200.0),
    weighting: Literal["gaussian", "quadratic"] = "gaussian",
    min_stations: int = 4,
    max_gap_deg: float = 150.0,
) -> pd.DataFrame:
    """Strain rates on a grid from distance-weighted least squares of the velocity gradient.

    Parameters
    ----------
    table
        Canonical velocity table (mm/yr).
    spacing_deg, region
        Regular grid: spacing (degrees, scalar or (dlon, dlat)) over ``region =
        (lon_min, lon_max, lat_min, lat_max)`` (default: the stations' bounding box).
    nodes
        Alternatively explicit node (lon, lat) arrays (``area_m2`` is then NaN).
    smoothing_km
        Fixed smoothing distance D (km); None adapts D per node (see module notes).
    weight_threshold
        Adaptive D: the total spatial weight Σw to reach.
    smoothing_range_km
        Adaptive D: candidate range (min, max), km.
    weighting
        ``"gaussian"`` or ``"quadratic"`` distance decay.
    min_stations
        Minimum stations with weight > 0.05 at a node.
    max_gap_deg
        Largest azimuthal gap (degrees) between those stations seen from the node.

    Returns
    -------
    pandas.DataFrame
        One row per node: ``lon, lat, area_m2``, interpolated ``ve, vn`` (mm/yr),
        :data:`~gmlearn.geodesy.strain.STRAIN_COLUMNS` and sigmas (1/yr; NaN
        where not ``valid``), ``smoothing_km``, ``weight_sum``, ``n_stations``,
        ``gap_deg``, ``valid``.
    """
    check_velocity_table(table)
    if weighting not in _WEIGHTINGS:
        msg = f"The 'weighting' parameter must be one of {list(_WEIGHTINGS)}. Got {weighting!r} instead."
        raise SchemaError(msg)
    if smoothing_km is not None and smoothing_km <= 0:
        msg = f"The 'smoothing_km' parameter must be > 0 km or None. Got {smoothing_km!r} instead."
        raise SchemaError(msg)
    table = table.reset_index(drop=True)
    n_stations = int(table["station"].nunique())
    if n_stations < 3:
        msg = f"strain_grid needs at least 3 distinct stations; got {n_stations} (a velocity gradient has 6 unknowns)."
        raise SchemaError(msg)
    if nodes is not None:
        glon, glat = (np.asarray(a, dtype=float).ravel() for a in nodes)
        area = np.full(glon.shape, np.nan)
    else:
        if region is None:
            region = (table["lon"].min(), table["lon"].max(), table["lat"].min(), table["lat"].max())
        glon, glat, area = make_grid(region, spacing_deg)
    candidates = np.geomspace(*smoothing_range_km, 40) if smoothing_km is None else np.array([smoothing_km])
    dist = great_circle_km(glon[:, None], glat[:, None], table["lon"].to_numpy(float)[None], table["lat"].to_numpy(float)[None])
    rows = [
        _grid_row(dist[i], table, glon[i], glat[i], candidates, weighting, weight_threshold, min_stations, max_gap_deg)
        for i in range(len(glon))
    ]
    out = pd.DataFrame({"lon": glon, "lat": glat, "area_m2": area})
    cols = pd.DataFrame(rows)
    out = pd.concat([out, cols], axis=1)
    out.attrs = {"units": "1/yr", "report": {"method": "grid", "weighting": weighting, "smoothing_km": smoothing_km,
                                             "weight_threshold": weight_threshold, "n_nodes": len(out),
                                             "n_valid": int(out["valid"].sum())}}  # fmt: skip
    return out


def _grid_row(
    d: np.ndarray, table: pd.DataFrame, lon0: float, lat0: float, candidates: np.ndarray,
    weighting: str, threshold: float, min_stations: int, max_gap: float,
) -> dict[str, Any]:  # fmt: skip
    wsum = _weights(d, candidates, weighting).sum(axis=0)
    if len(candidates) == 1:
        scale = float(candidates[0])
    else:
        ok = np.flatnonzero(wsum >= threshold)
        scale = float(candidates[ok[0]] if ok.size else candidates[-1])
    row: dict[str, Any] = {"smoothing_km": scale, "weight_sum": float(wsum[np.searchsorted(candidates, scale)])}
    near = np.flatnonzero(_weights(d, np.array([scale]), weighting)[:, 0] > 0.05)
    reach = np.flatnonzero(d <= (3.0 if weighting == "gaussian" else 10.0) * scale)
    row["n_stations"] = int(near.size)
    sol, gap = (None, 360.0) if near.size < min_stations else _node_estimate(d, reach, table, lon0, lat0, scale, weighting)
    if sol is not None:
        gap = _max_gap_deg(_azimuths(table.iloc[near], lon0, lat0))
    row["gap_deg"] = gap
    valid = sol is not None and gap <= max_gap and (len(candidates) == 1 or row["weight_sum"] >= threshold)
    row["valid"] = bool(valid)
    if not valid:
        return row
    p, cov = sol
    grad = np.array([[[p[2], p[3]], [p[4], p[5]]]]) * 1e-6
    j = np.zeros((3, 6))
    j[0, 2], j[1, 5], j[2, 3], j[2, 4] = 1.0, 1.0, 0.5, 0.5
    tcov = (j @ cov @ j.T)[None] * 1e-12
    row["ve"], row["vn"] = float(p[0]), float(p[1])
    row.update({k: float(v[0]) for k, v in tensor_table(grad, tcov).items()})
    return row


def _azimuths(sub: pd.DataFrame, lon0: float, lat0: float) -> np.ndarray:
    x, y, _, _ = to_tangent_plane(sub["lon"].to_numpy(float), sub["lat"].to_numpy(float), lon0, lat0)
    return np.degrees(np.arctan2(x, y))
