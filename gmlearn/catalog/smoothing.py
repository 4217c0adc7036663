"""Smoothed seismicity: Gaussian-kernel rate maps on a longitude-latitude grid.

Every epicentre (magnitude >= ``mc``) spreads one event over the grid with an
isotropic two-dimensional Gaussian kernel of standard deviation ``d``:
``K(r) = exp(-r**2 / (2 d**2)) / (2 pi d**2)`` per km². The cell's annual
rate of events with M >= ``mc`` is the sum of the kernels over its area,
divided by the catalogue duration.

- ``kernel="fixed"``: one ``d = bandwidth_km`` for all events (Frankel 1995,
  whose ``exp(-r**2 / c**2)`` has ``c = sqrt(2) d``);
- ``kernel="adaptive"``: ``d_i`` is the distance from event ``i`` to its
  ``n_neighbours``-th nearest epicentre, at least ``min_bandwidth_km``
  (Helmstetter, Kagan & Jackson 2007): narrow kernels where seismicity is
  dense, wide where it is sparse.

Kernels are truncated at ``truncate`` standard deviations. With
``preserve_total`` the grid total is rescaled to the number of events inside
the region, so mass spread outside it is not lost.

References
----------
Frankel, A. (1995). Seismol. Res. Lett. 66(4), 8-21.
Helmstetter, A., Kagan, Y. Y. & Jackson, D. D. (2007). Seismol. Res. Lett. 78(1), 78-86.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from gmlearn.catalog.fmd import bin_magnitudes
from gmlearn.catalog.frame import validate_catalog
from gmlearn.catalog.geometry import EARTH_RADIUS_KM, to_cartesian_km, unwrap_longitudes
from gmlearn.exceptions import SchemaError

__all__ = ["SmoothedRates", "smoothed_seismicity", "adaptive_bandwidths"]

_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class SmoothedRates:
    """Annual rates of M >= ``mc`` on a regular longitude-latitude grid.

    Attributes
    ----------
    lon, lat
        Cell centres (deg), shape (ny, nx); longitudes may exceed 180 when the
        region straddles the antimeridian.
    rate
        Annual number of events with M >= ``mc`` in each cell, shape (ny, nx).
    mc, b, delta_m
        Completeness magnitude, b-value and bin width that turn rates into
        Gutenberg-Richter a-values.
    duration_years
        Catalogue duration used to annualise.
    n_events
        Events smoothed.
    params
        Arguments used (kernel, bandwidths, grid).
    """

    lon: np.ndarray
    lat: np.ndarray
    rate: np.ndarray
    mc: float
    b: float
    delta_m: float
    duration_years: float
    n_events: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def total_rate(self) -> float:
        """Annual rate of M >= ``mc`` over the grid."""
        return float(self.rate.sum())

    def a_values(self) -> np.ndarray:
        """Per-cell a-values, ``log10`` annual number of M >= 0 (``-inf`` in empty cells)."""
        with np.errstate(divide="ignore"):
            return np.log10(self.rate) + self.b * (self.mc - self.delta_m / 2.0)

    def rate_above(self, mag: float) -> np.ndarray:
        """Annual rate of M >= ``mag`` per cell (Gutenberg-Richter extrapolation)."""
        return self.rate * 10.0 ** (-self.b * (mag - (self.mc - self.delta_m / 2.0)))

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: ``lon`` (in [-180, 180]), ``lat``, ``rate``, ``a_value``."""
        lon = ((self.lon.ravel() + 180.0) % 360.0) - 180.0
        return pd.DataFrame({"lon": lon, "lat": self.lat.ravel(), "rate": self.rate.ravel(),
                             "a_value": self.a_values().ravel()})


def adaptive_bandwidths(lon: np.ndarray, lat: np.ndarray, n_neighbours: int = 5,
                        min_bandwidth_km: float = 2.0) -> np.ndarray:
    """Distance (km) from each epicentre to its ``n_neighbours``-th nearest other epicentre."""
    from scipy.spatial import cKDTree

    xyz = to_cartesian_km(lon, lat)
    k = min(int(n_neighbours) + 1, len(xyz))
    dist, _ = cKDTree(xyz).query(xyz, k=k)
    d = dist[:, -1] if dist.ndim == 2 else dist
    return np.maximum(d, float(min_bandwidth_km))


def _grid(lon: np.ndarray, lat: np.ndarray, region: Sequence[float] | None, spacing: float,
          pad_km: float) -> tuple[np.ndarray, np.ndarray]:
    if region is None:
        pad_deg = pad_km / 111.0
        lo_lon, hi_lon = lon.min() - pad_deg, lon.max() + pad_deg
        lo_lat, hi_lat = max(lat.min() - pad_deg, -90.0), min(lat.max() + pad_deg, 90.0)
    else:
        lo_lon, hi_lon, lo_lat, hi_lat = (float(v) for v in region)
        if not (hi_lon > lo_lon and hi_lat > lo_lat):
            msg = f"The 'region' parameter must be (lon_min, lon_max, lat_min, lat_max) with min < max. Got {tuple(region)!r} instead."
            raise SchemaError(msg)
    lo_lon, lo_lat = np.floor(lo_lon / spacing) * spacing, np.floor(lo_lat / spacing) * spacing
    xs = np.round(np.arange(lo_lon + spacing / 2.0, hi_lon, spacing), 6)
    ys = np.round(np.arange(lo_lat + spacing / 2.0, hi_lat, spacing), 6)
    return np.meshgrid(xs, ys)


def _check_inputs(kernel: str, spacing_deg: float, bandwidth_km: float, truncate: float) -> None:
    if kernel not in ("fixed", "adaptive"):
        msg = f"The 'kernel' parameter of smoothed_seismicity must be one of ['fixed', 'adaptive']. Got {kernel!r} instead."
        raise SchemaError(msg)
    if not (0 < spacing_deg <= 5 and bandwidth_km > 0 and truncate > 0):
        msg = (f"smoothed_seismicity needs 0 < spacing_deg <= 5, bandwidth_km > 0 and truncate > 0. "
               f"Got spacing_deg={spacing_deg!r}, bandwidth_km={bandwidth_km!r}, truncate={truncate!r} instead.")
        raise SchemaError(msg)


def smoothed_seismicity(
    catalog: pd.DataFrame,
    mc: float,
    b: float,
    *,
    delta_m: float = 0.1,
    kernel: Literal["fixed", "adaptive"] = "fixed",
    bandwidth_km: float = 15.0,
    n_neighbours: int = 5,
    min_bandwidth_km: float = 2.0,
    spacing_deg: float = 0.1,
    region: Sequence[float] | None = None,
    max_depth_km: float | None = None,
    duration_years: float | None = None,
    truncate: float = 3.0,
    preserve_total: bool = True,
) -> SmoothedRates:
    """Smooth epicentres into a grid of annual rates.

    Parameters
    ----------
    catalog
        Canonical catalogue, normally declustered.
    mc, b
        Completeness magnitude (events with binned M >= ``mc`` are smoothed)
        and b-value (stored for a-values).
    delta_m
        Bin width of the magnitudes.
    kernel
        ``"fixed"`` or ``"adaptive"``.
    bandwidth_km
        Standard deviation of the fixed kernel.
    n_neighbours, min_bandwidth_km
        Adaptive bandwidth: distance to the n-th neighbour, and its floor.
    spacing_deg
        Grid spacing in longitude and latitude.
    region
        ``(lon_min, lon_max, lat_min, lat_max)``; longitudes past 180 are
        allowed (e.g. 165 to 190 for New Zealand with the Kermadecs). Default:
        the epicentres plus three bandwidths.
    max_depth_km
        Smooth only events at most this deep (NaN depths kept).
    duration_years
        Duration used to annualise (default: first to last event).
    truncate
        Kernel cut-off in standard deviations.
    preserve_total
        Rescale the grid total to the events inside the region.

    Returns
    -------
    SmoothedRates
    """
    validate_catalog(catalog)
    _check_inputs(kernel, spacing_deg, bandwidth_km, truncate)
    mags = bin_magnitudes(catalog["mag"].to_numpy(dtype=float), delta_m)
    keep = mags >= mc - 1e-9
    if max_depth_km is not None and "depth" in catalog.columns:
        depth = catalog["depth"].to_numpy(dtype=float)
        keep &= ~(depth > max_depth_km)
    events = catalog.loc[keep]
    if len(events) < 2:
        msg = f"smoothed_seismicity needs at least 2 events with M >= mc={mc}; got {len(events)}."
        raise SchemaError(msg)
    if duration_years is None:
        span = catalog["time"].max() - catalog["time"].min()
        duration_years = span / pd.Timedelta(days=_DAYS_PER_YEAR)
    if not (np.isfinite(duration_years) and duration_years > 0):
        msg = (f"smoothed_seismicity needs a catalogue duration > 0 years to annualise rates; got {duration_years!r} "
               "(all events at one time?). Pass duration_years= or give events over a period of time.")
        raise SchemaError(msg)
    lon = unwrap_longitudes(events["lon"].to_numpy(dtype=float))
    lat = events["lat"].to_numpy(dtype=float)
    if region is not None:  # put the events on the region's longitude branch
        lon = np.where(lon < region[0], lon + 360.0, np.where(lon > region[1], lon - 360.0, lon))
    width = (adaptive_bandwidths(lon, lat, n_neighbours, min_bandwidth_km) if kernel == "adaptive"
             else np.full(lon.size, float(bandwidth_km)))
    glon, glat = _grid(lon, lat, region, spacing_deg, truncate * float(np.median(width)))
    counts = _spread(lon, lat, width, glon, glat, spacing_deg, truncate)
    inside = _inside(lon, lat, glon, glat, spacing_deg)
    if preserve_total and counts.sum() > 0:
        counts *= inside / counts.sum()
    params = {"kernel": kernel, "bandwidth_km": bandwidth_km if kernel == "fixed" else None,
              "median_bandwidth_km": float(np.median(width)), "n_neighbours": n_neighbours,
              "min_bandwidth_km": min_bandwidth_km, "spacing_deg": spacing_deg, "truncate": truncate,
              "max_depth_km": max_depth_km, "preserve_total": preserve_total, "events_inside": int(inside),
              "region": [float(glon.min() - spacing_deg / 2), float(glon.max() + spacing_deg / 2),
                         float(glat.min() - spacing_deg / 2), float(glat.max() + spacing_deg / 2)]}
    return SmoothedRates(glon, glat, counts / float(duration_years), float(mc), float(b), float(delta_m),
                         float(duration_years), int(len(events)), params)


def _inside(lon: np.ndarray, lat: np.ndarray, glon: np.ndarray, glat: np.ndarray, spacing: float) -> int:
    half = spacing / 2.0
    return int(np.count_nonzero((lon >= glon.min() - half) & (lon < glon.max() + half)
                                & (lat >= glat.min() - half) & (lat < glat.max() + half)))


def _spread(lon: np.ndarray, lat: np.ndarray, width: np.ndarray, glon: np.ndarray, glat: np.ndarray,
            spacing: float, truncate: float) -> np.ndarray:
    """Expected number of events in each cell from all kernels, shape of ``glon``."""
    from scipy.spatial import cKDTree

    cells = to_cartesian_km(glon.ravel(), glat.ravel())
    area = (EARTH_RADIUS_KM * np.radians(spacing)) ** 2 * np.cos(np.radians(glat.ravel()))
    tree = cKDTree(cells)
    events = to_cartesian_km(lon, lat)
    out = np.zeros(cells.shape[0])
    for start in range(0, lon.size, 2000):
        stop = min(start + 2000, lon.size)
        hits = tree.query_ball_point(events[start:stop], r=truncate * width[start:stop])
        sizes = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        if sizes.sum() == 0:
            continue
        cell = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])
        ev = np.repeat(np.arange(start, stop), sizes)
        chord = np.linalg.norm(cells[cell] - events[ev], axis=1)
        r = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / (2.0 * EARTH_RADIUS_KM), 1.0))
        d2 = width[ev] ** 2
        out += np.bincount(cell, weights=np.exp(-0.5 * r**2 / d2) / (2.0 * np.pi * d2) * area[cell], minlength=out.size)
    return out.reshape(glon.shape)
