"""Maps of velocity fields, cluster memberships and strain rates (matplotlib, Agg, no pyplot state).

Each function returns the ``matplotlib.figure.Figure`` and, given ``path``,
writes a PNG atomically (:func:`gmlearn.store.atomic.atomic_write_with`).
Longitude is stretched by ``1/cos(mean latitude)`` so maps are roughly conformal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_velocities", "plot_membership", "plot_strain"]


def _figure(figsize: tuple[float, float] = (7.5, 7.0)) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _finish(ax: Any, lat: np.ndarray, title: str | None) -> None:
    ax.set_aspect(1.0 / np.cos(np.radians(np.nanmean(lat))))
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.grid(True, lw=0.3, alpha=0.5)
    if title:
        ax.set_title(title)


def _save(fig: Any, path: str | Path | None, dpi: int) -> None:
    if path is not None:
        from gmlearn.store.atomic import atomic_write_with

        atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))


def plot_velocities(
    table: pd.DataFrame,
    labels: np.ndarray | None = None,
    path: str | Path | None = None,
    *,
    reference_mm_yr: float = 20.0,
    title: str | None = None,
    dpi: int = 150,
) -> Any:
    """Velocity vectors (mm/yr), coloured by cluster when ``labels`` (shape (n,)) is given.

    Parameters
    ----------
    table
        Canonical velocity table.
    labels
        Cluster of each row (e.g. ``ClusterResult.labels``).
    path
        PNG to write (optional).
    reference_mm_yr
        Length of the key arrow.
    """
    from matplotlib import colormaps

    fig, ax = _figure()
    lon, lat = table["lon"].to_numpy(float), table["lat"].to_numpy(float)
    ve, vn = table["ve"].to_numpy(float), table["vn"].to_numpy(float)
    span = max(np.ptp(lon) * np.cos(np.radians(lat.mean())), np.ptp(lat), 1e-3)
    speed = np.nanpercentile(np.hypot(ve, vn), 95) or 1.0
    scale = speed / (0.06 * span)  # mm/yr per degree: the 95th-percentile arrow spans 6 % of the map
    groups = np.zeros(len(table), dtype=int) if labels is None else np.asarray(labels)
    cmap = colormaps["tab10"]
    q = None
    for k in np.unique(groups):
        m = groups == k
        q = ax.quiver(lon[m], lat[m], ve[m], vn[m], color=cmap(int(k) % 10), angles="xy", scale_units="xy",
                      scale=scale, width=0.0025, label=None if labels is None else f"cluster {k} ({m.sum()})")  # fmt: skip
    if q is not None:
        ax.quiverkey(q, 0.85, 0.04, reference_mm_yr, f"{reference_mm_yr:g} mm/yr", coordinates="axes", color="k")
    if labels is not None:
        ax.legend(loc="upper right", fontsize=8)
    _finish(ax, lat, title or "GNSS velocities")
    _save(fig, path, dpi)
    return fig


def plot_membership(
    table: pd.DataFrame,
    probabilities: np.ndarray,
    path: str | Path | None = None,
    *,
    title: str | None = None,
    dpi: int = 150,
) -> Any:
    """Stations coloured by the probability of their most likely cluster, marked by that cluster.

    Parameters
    ----------
    table
        Canonical velocity table, rows matching ``probabilities``.
    probabilities
        Membership probabilities, shape (n, K) (``ClusterResult.probabilities``
        or bootstrap frequencies).
    """
    fig, ax = _figure()
    prob = np.asarray(probabilities, dtype=float)
    best = prob.argmax(axis=1)
    pmax = prob.max(axis=1)
    lon, lat = table["lon"].to_numpy(float), table["lat"].to_numpy(float)
    markers = "os^Dv<>ph*"
    sc = None
    for k in np.unique(best):
        m = best == k
        sc = ax.scatter(lon[m], lat[m], c=pmax[m], cmap="viridis", vmin=1.0 / prob.shape[1], vmax=1.0, s=18,
                        marker=markers[int(k) % len(markers)], edgecolors="k", linewidths=0.2, label=f"cluster {k}")  # fmt: skip
    if sc is not None:
        fig.colorbar(sc, ax=ax, shrink=0.7, label="membership probability")
    ax.legend(loc="upper right", fontsize=8)
    _finish(ax, lat, title or "Cluster membership probability")
    _save(fig, path, dpi)
    return fig


def plot_strain(
    strain: pd.DataFrame,
    path: str | Path | None = None,
    *,
    color: str = "second_invariant",
    title: str | None = None,
    dpi: int = 150,
) -> Any:
    """Principal strain-rate axes (red: extension, blue: shortening) over a colour map of ``color``.

    Parameters
    ----------
    strain
        Output of ``strain_grid`` or ``strain_triangles`` (1/yr or nanostrain/yr).
    color
        Column shown in colour (log scale for ``second_invariant`` and ``max_shear``).
    """
    from matplotlib.colors import LogNorm

    units = strain.attrs.get("units", "1/yr")
    factor = 1.0 if units == "nanostrain/yr" else 1e9
    ok = np.isfinite(strain["e1"].to_numpy(float))
    s = strain[ok]
    fig, ax = _figure()
    lon, lat = s["lon"].to_numpy(float), s["lat"].to_numpy(float)
    val = s[color].to_numpy(float) * (factor if color != "azimuth_e1" else 1.0)
    positive = color in ("second_invariant", "max_shear") and np.all(val > 0)
    norm = LogNorm(vmin=max(np.nanpercentile(val, 2), 1e-3), vmax=np.nanpercentile(val, 98)) if positive else None
    sc = ax.scatter(lon, lat, c=val, s=10, cmap="magma_r" if positive else "RdBu_r", norm=norm, marker="s", alpha=0.6)
    fig.colorbar(sc, ax=ax, shrink=0.7, label=f"{color} ({'nanostrain/yr' if color != 'azimuth_e1' else 'deg'})")
    az = np.radians(s["azimuth_e1"].to_numpy(float))
    e1, e2 = s["e1"].to_numpy(float) * factor, s["e2"].to_numpy(float) * factor
    ref = np.nanpercentile(np.maximum(np.abs(e1), np.abs(e2)), 90) or 1.0
    step = np.sqrt(np.nanmedian(s["area_m2"].to_numpy(float))) / 111.2e3 if "area_m2" in s else np.nan
    k = 0.8 * (step if np.isfinite(step) and step > 0 else 0.2) / ref  # a 90th-percentile axis spans 0.8 cell
    for val_e, ang, col in ((e1, az, "tab:red"), (e2, az + np.pi / 2, "tab:blue")):
        size = k * np.minimum(np.abs(val_e), 2.0 * ref)  # outliers capped at twice the 90th percentile
        dx, dy = size * np.sin(ang), size * np.cos(ang)
        dx = dx / np.cos(np.radians(lat))
        ax.quiver(lon, lat, dx, dy, color=col, angles="xy", scale_units="xy", scale=1.0, headwidth=0,
                  headlength=0, headaxislength=0, pivot="middle", width=0.002)  # fmt: skip
    _finish(ax, lat, title or "Principal strain rates (red extension, blue shortening)")
    _save(fig, path, dpi)
    return fig
