"""Catalogue figures (matplotlib, Agg backend): FMD with the GR fit, declustering, smoothed rates.

Every function returns the figure and, given ``path``, also writes a PNG
atomically (temporary file, then rename). matplotlib is imported inside the
functions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gmlearn.catalog.bvalue import GRFit
from gmlearn.catalog.completeness import McResult
from gmlearn.catalog.declustering import DeclusterResult
from gmlearn.catalog.fmd import frequency_magnitude
from gmlearn.catalog.geometry import unwrap_longitudes
from gmlearn.catalog.smoothing import SmoothedRates
from gmlearn.store.atomic import atomic_write_with

__all__ = ["plot_fmd", "plot_declustering", "plot_rate_map", "save_png"]


def _figure(**kwargs: Any) -> Any:
    """A pyplot-free Figure (renders with Agg; leaves the global backend alone)."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def save_png(fig: Any, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write ``fig`` as a PNG atomically; returns the path."""
    return atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight"))


def plot_fmd(
    mags: np.ndarray | pd.DataFrame,
    fit: GRFit | None = None,
    mc: McResult | float | None = None,
    *,
    delta_m: float = 0.1,
    path: str | os.PathLike | None = None,
    title: str = "Frequency-magnitude distribution",
) -> Any:
    """Incremental and cumulative counts per bin, the fitted GR line and Mc.

    Parameters
    ----------
    mags
        Magnitudes or a catalogue.
    fit
        A :class:`~gmlearn.catalog.bvalue.GRFit`; its line is scaled to the
        catalogue counts at ``fit.mc``.
    mc
        Completeness magnitude (marked by a vertical line).
    delta_m
        Bin width.
    path
        Optional PNG destination.
    """
    fmd = frequency_magnitude(mags, delta_m)
    fig = _figure(figsize=(6.4, 4.6))
    ax = fig.add_subplot()
    ax.semilogy(fmd["mag"], fmd["cumulative"], "o", ms=4, color="0.15", label="cumulative N(>=M)")
    ax.semilogy(fmd["mag"][fmd["count"] > 0], fmd["count"][fmd["count"] > 0], "s", ms=3, mfc="none",
                color="tab:blue", label="per bin")
    mc_value = mc.mc if isinstance(mc, McResult) else mc
    if fit is not None and np.isfinite(fit.b):
        m = np.linspace(fit.mc, float(fmd["mag"].max()), 50)
        n_mc = float(fmd.loc[np.isclose(fmd["mag"], fit.mc), "cumulative"].sum()) or fit.n
        ax.semilogy(m, n_mc * 10.0 ** (-fit.b * (m - fit.mc)), "-", color="tab:red",
                    label=f"{fit.method}: b = {fit.b:.3f} ± {fit.sigma_b:.3f}")
    if mc_value is not None and np.isfinite(mc_value):
        label = f"Mc = {mc_value:.2f}" + (f" ({mc.method})" if isinstance(mc, McResult) else "")
        ax.axvline(mc_value, color="tab:green", ls="--", label=label)
    ax.set_xlabel("Magnitude")
    ax.set_ylabel("Number of events")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    if path is not None:
        save_png(fig, path)
    return fig


def plot_declustering(catalog: pd.DataFrame, result: DeclusterResult, *, path: str | os.PathLike | None = None) -> Any:
    """Map of background and clustered events, and magnitude against time."""
    fig = _figure(figsize=(11, 4.8))
    ax_map, ax_time = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    lon = unwrap_longitudes(catalog["lon"].to_numpy(dtype=float))
    lat = catalog["lat"].to_numpy(dtype=float)
    mag = catalog["mag"].to_numpy(dtype=float)
    size = 2.0 + 3.0 * np.clip(mag - np.nanmin(mag), 0, None) ** 1.5
    keep, removed = result.keep, result.removed
    ax_map.scatter(lon[keep], lat[keep], s=size[keep], c="0.35", alpha=0.5, lw=0, label=f"kept ({keep.sum()})")
    ax_map.scatter(lon[removed], lat[removed], s=size[removed], c="tab:red", alpha=0.5, lw=0,
                   label=f"removed ({removed.sum()})")
    ax_map.set_xlabel("Longitude (deg)")
    ax_map.set_ylabel("Latitude (deg)")
    ax_map.set_aspect(1.0 / max(np.cos(np.radians(np.nanmean(lat))), 0.2))
    ax_map.legend(fontsize=8, markerscale=2)
    times = pd.DatetimeIndex(catalog["time"]).tz_convert(None).to_numpy()
    ax_time.scatter(times[keep], mag[keep], s=3, c="0.35", lw=0, label="kept")
    ax_time.scatter(times[removed], mag[removed], s=3, c="tab:red", lw=0, label="removed")
    ax_time.set_xlabel("Time (UTC)")
    ax_time.set_ylabel("Magnitude")
    ax_time.legend(fontsize=8, markerscale=3)
    fig.suptitle(f"{result.method}: {result.n_removed} of {result.n_events} events removed "
                 f"({100 * result.fraction_removed:.1f} %)")
    fig.autofmt_xdate()
    if path is not None:
        save_png(fig, path)
    return fig


def plot_rate_map(rates: SmoothedRates, *, catalog: pd.DataFrame | None = None, mag: float | None = None,
                  path: str | os.PathLike | None = None) -> Any:
    """Map of log10 annual rate per cell (of M >= ``mag``, default ``rates.mc``), epicentres optional."""
    fig = _figure(figsize=(6.4, 6.4))
    ax = fig.add_subplot()
    mag = rates.mc if mag is None else mag
    rate = rates.rate_above(mag) if mag != rates.mc else rates.rate
    with np.errstate(divide="ignore"):
        values = np.log10(np.where(rate > 0, rate, np.nan))
    mesh = ax.pcolormesh(rates.lon, rates.lat, values, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, shrink=0.8, label=f"log10 annual rate of M >= {mag:g} per cell")
    if catalog is not None and len(catalog):
        lon = catalog["lon"].to_numpy(dtype=float)
        lon = np.where(lon < rates.lon.min() - 1, lon + 360.0, lon)
        ax.scatter(lon, catalog["lat"], s=1, c="w", alpha=0.4, lw=0)
    ax.set_xlabel("Longitude (deg)")
    ax.set_ylabel("Latitude (deg)")
    ax.set_aspect(1.0 / max(np.cos(np.radians(float(np.mean(rates.lat)))), 0.2))
    kernel = rates.params.get("kernel", "")
    ax.set_title(f"Smoothed seismicity ({kernel} kernel, {rates.n_events} events)")
    if path is not None:
        save_png(fig, path)
    return fig
