"""PNG figures of hazard results: hazard curves, hazard maps, mean ground-motion fields.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, any backend).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from gmlearn.hazard.results import HazardResult

__all__ = ["plot_hazard_curves", "plot_hazard_map", "plot_gmf_map", "save_plots"]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "_" for c in text).strip("_")


def plot_hazard_curves(curves: pd.DataFrame, *, kind: str = "mean", max_sites: int = 12,
                       investigation_time: float | None = None) -> Figure:
    """Hazard curves (poe vs intensity, log-log), one panel per IMT, up to ``max_sites`` sites."""
    from matplotlib.figure import Figure

    sub = curves[curves["kind"] == kind]
    if sub.empty:
        kind = str(curves["kind"].iloc[0])
        sub = curves[curves["kind"] == kind]
    imts = list(dict.fromkeys(sub["imt"]))
    site_ids = list(dict.fromkeys(sub["site_id"]))
    chosen = site_ids if len(site_ids) <= max_sites else [site_ids[i] for i in np.linspace(0, len(site_ids) - 1, max_sites).astype(int)]
    fig = Figure(figsize=(4.2 * len(imts), 3.6), layout="constrained")
    axes = fig.subplots(1, len(imts), squeeze=False)[0]
    for ax, imt in zip(axes, imts):
        block = sub[sub["imt"] == imt]
        for sid in chosen:
            one = block[block["site_id"] == sid]
            poe = one["poe"].to_numpy()
            ax.loglog(one["iml"], np.where(poe > 0, poe, np.nan), lw=1, label=f"site {sid}")
        unit = "cm/s" if imt == "PGV" else "g"
        ax.set_xlabel(f"{imt} ({unit})")
        ax.set_ylabel("probability of exceedance" + (f" in {investigation_time:g} yr" if investigation_time else ""))
        ax.set_title(f"{imt}, {kind}")
        ax.grid(True, which="both", lw=0.3)
    if len(chosen) <= 12:
        axes[-1].legend(fontsize=6, loc="lower left")
    return fig


def _map(values: pd.DataFrame, column: str, title: str, label: str) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 4.2), layout="constrained")
    ax = fig.subplots()
    sc = ax.scatter(values["lon"], values["lat"], c=values[column], s=30, marker="s", cmap="viridis")
    fig.colorbar(sc, ax=ax, label=label)
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title)
    return fig


def plot_hazard_map(maps: pd.DataFrame, imt: str, poe: float, *, kind: str = "mean",
                    investigation_time: float | None = None) -> Figure:
    """Map of the intensity with probability ``poe`` of exceedance, one square per site."""
    sub = maps[(maps["imt"] == imt) & np.isclose(maps["poe"], poe) & (maps["kind"] == kind)]
    unit = "cm/s" if imt == "PGV" else "g"
    years = f" in {investigation_time:g} yr" if investigation_time else ""
    return _map(sub, "iml", f"{imt} at poe {poe:g}{years} ({kind})", f"{imt} ({unit})")


def plot_gmf_map(gmfs: pd.DataFrame, imt: str) -> Figure:
    """Map of the geometric mean over events of a ground-motion field."""
    with np.errstate(divide="ignore"):
        logs = np.log(gmfs[imt].where(gmfs[imt] > 0))
    per_site = gmfs[["site_id", "lon", "lat"]].assign(ln=logs).groupby(["site_id", "lon", "lat"], as_index=False)["ln"].mean()
    per_site["gm"] = np.exp(per_site["ln"])
    unit = "cm/s" if imt == "PGV" else "g"
    return _map(per_site, "gm", f"{imt}: geometric mean of {gmfs['event_id'].nunique()} GMFs", f"{imt} ({unit})")


def save_plots(result: HazardResult, folder: Path) -> list[Path]:
    """Write the standard figures of ``result`` into ``folder``; returns the PNG paths."""
    files: list[Path] = []

    def _save(fig: Figure, name: str) -> None:
        from gmlearn.store.atomic import atomic_write_with

        path = atomic_write_with(folder / f"{name}.png", lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
        files.append(path)

    if result.hazard_curves is not None and len(result.hazard_curves):
        _save(plot_hazard_curves(result.hazard_curves, investigation_time=result.investigation_time), "hazard_curves")
    if result.hazard_maps is not None and len(result.hazard_maps):
        maps = result.hazard_maps
        kind = "mean" if (maps["kind"] == "mean").any() else str(maps["kind"].iloc[0])
        for imt in dict.fromkeys(maps["imt"]):
            for poe in dict.fromkeys(maps["poe"]):
                _save(plot_hazard_map(maps, imt, float(poe), kind=kind, investigation_time=result.investigation_time),
                      f"hazard_map_{_slug(imt)}_poe{poe:g}")
    if result.gmfs is not None and len(result.gmfs):
        for imt in [c for c in result.gmfs.columns if c not in ("event_id", "rlz_id", "site_id", "lon", "lat")]:
            _save(plot_gmf_map(result.gmfs, imt), f"gmf_mean_{_slug(imt)}")
    return files
