"""Shakemap outputs: xarray Dataset, netCDF, CSV, GeoJSON contours and PNG maps (all written atomically)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from gmlearn.shakemap.errors import ShakemapError

__all__ = ["to_dataset", "write_netcdf", "write_csv", "write_geojson", "write_png", "write_all", "contour_levels",
           "FORMATS"]

#: Output formats of :func:`write_all`.
FORMATS: tuple[str, ...] = ("netcdf", "csv", "geojson", "png")


def _unit(imt: str) -> str:
    return "cm/s" if imt == "PGV" else "g"


def to_dataset(sites: Any, table: pd.DataFrame, imts: Sequence[str], prior: Any, result: dict, rupture: Any,
               model: Any, bias: dict, correlation: Any, n_stations: int | None) -> Any:
    """Build the ``xarray.Dataset`` of a shakemap (see :class:`ShakeMap`)."""
    import xarray as xr

    from gmlearn import __version__

    imts = list(imts)
    if sites.is_grid:
        n_lat, n_lon = sites.shape
        dims, coords = ("imt", "lat", "lon"), {"imt": imts, "lat": sites.lats, "lon": sites.lons}

        def shape(a: np.ndarray) -> np.ndarray:
            return a.reshape((a.shape[0], n_lat, n_lon)) if a.ndim == 2 else a.reshape((n_lat, n_lon))
        site_dims: tuple[str, ...] = ("lat", "lon")
    else:
        n = len(table)
        dims = ("imt", "site")
        coords = {"imt": imts, "site": np.arange(n), "lon": ("site", table["lon"].to_numpy()),
                  "lat": ("site", table["lat"].to_numpy())}

        def shape(a: np.ndarray) -> np.ndarray:
            return a
        site_dims = ("site",)
    data = {}
    for name in ("mean", "tau", "phi", "sigma"):
        data[name] = (dims, shape(result[name]), {"units": "ln(g) or ln(cm/s)" if name == "mean" else "ln units",
                                                  "long_name": f"conditioned {name}"})
        data[f"{name}_prior"] = (dims, shape(getattr(prior, name)), {"long_name": f"model {name} (unconditioned)"})
    data["median"] = (dims, shape(np.exp(result["mean"])), {"units": "g (PGA, SA) or cm/s (PGV)"})
    for col, unit in (("vs30", "m/s"), ("rrup", "km"), ("rjb", "km")):
        data[col] = (site_dims, shape(table[col].to_numpy(float)), {"units": unit})
    attrs = {
        "title": "gmlearn scenario shakemap",
        "gmlearn_version": __version__,
        "model": repr(model),
        "rupture_source": rupture.source,
        "rupture": json.dumps(rupture.parameters()),
        "rupture_outlines": json.dumps([[o[0].round(5).tolist(), o[1].round(5).tolist()] for o in rupture.outlines()]),
        "conditioned": int(n_stations is not None),
        "n_stations": int(n_stations or 0),
        "bias": json.dumps(bias),
        "correlation": json.dumps(correlation.to_dict()),
        "units": json.dumps({i: _unit(i) for i in imts}),
        "conventions": "mean, tau, phi, sigma in natural-log units; median = exp(mean)",
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def write_netcdf(ds: Any, path: str | Path) -> Path:
    """Write the dataset to a netCDF file atomically."""
    from gmlearn.store.atomic import atomic_write_with

    return atomic_write_with(path, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"))


def write_csv(ds: Any, path: str | Path) -> Path:
    """One row per site: ``lon, lat, vs30, rrup, rjb`` and ``<imt>_median, _mean, _sigma, _tau, _phi, _sigma_prior``."""
    from gmlearn.store.atomic import atomic_write_with

    if "site" in ds.dims:
        cols = {"lon": ds["lon"].to_numpy(), "lat": ds["lat"].to_numpy()}
        flat = {k: ds[k].to_numpy() for k in ("vs30", "rrup", "rjb")}
    else:
        glon, glat = np.meshgrid(ds["lon"].to_numpy(), ds["lat"].to_numpy())
        cols = {"lon": glon.ravel(), "lat": glat.ravel()}
        flat = {k: ds[k].to_numpy().ravel() for k in ("vs30", "rrup", "rjb")}
    cols.update(flat)
    for i, imt in enumerate(ds["imt"].to_numpy()):
        for name in ("median", "mean", "sigma", "tau", "phi", "mean_prior", "sigma_prior"):
            cols[f"{imt}_{name}"] = ds[name].to_numpy()[i].ravel()
    frame = pd.DataFrame(cols)
    return atomic_write_with(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6g"))


def contour_levels(imt: str, values: np.ndarray) -> list[float]:
    """Contour levels (linear units) spanning ``values``: 1-2-5 steps for PGA/SA (g), PGV (cm/s)."""
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size == 0:
        return []
    lo, hi = float(finite.min()), float(finite.max())
    levels = [m * 10.0**e for e in range(-4, 4) for m in (1, 2, 5)]
    return [lv for lv in levels if lo < lv < hi]


def _contours(ds: Any, imt: str) -> list[dict]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    i = [str(x) for x in ds["imt"].to_numpy()].index(imt)
    median = ds["median"].to_numpy()[i]
    levels = contour_levels(imt, median)
    if not levels:
        return []
    fig = Figure()
    ax = fig.add_subplot()
    cs = ax.contour(ds["lon"].to_numpy(), ds["lat"].to_numpy(), median, levels=levels)
    feats = []
    for level, segs in zip(cs.levels, cs.allsegs):
        lines = [np.round(s, 5).tolist() for s in segs if len(s) >= 2]
        if lines:
            feats.append({"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": lines},
                          "properties": {"imt": imt, "value": float(level), "units": _unit(imt),
                                         "quantity": "conditioned median" if ds.attrs.get("conditioned") else "median"}})
    return feats


def write_geojson(ds: Any, path: str | Path, imt: str) -> Path:
    """Contours of the median of ``imt`` as a GeoJSON FeatureCollection of MultiLineStrings (grids only)."""
    from gmlearn.store.atomic import atomic_write_bytes

    if "site" in ds.dims:
        msg = "GeoJSON contours need a regular grid; this shakemap is a site list (use CSV or netCDF)."
        raise ShakemapError(msg)
    fc = {"type": "FeatureCollection", "features": _contours(ds, imt)}
    return atomic_write_bytes(path, json.dumps(fc).encode())


def _save_fig(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def conditioned_map(ds: Any) -> bool:
    """True when the dataset was conditioned on stations."""
    return bool(int(ds.attrs.get("conditioned", 0)))


def write_png(ds: Any, path: str | Path, imt: str, stations: pd.DataFrame | None = None) -> Path:
    """Map of the (conditioned) median and sigma of ``imt``, with stations and the rupture outline."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    i = [str(x) for x in ds["imt"].to_numpy()].index(imt)
    median = ds["median"].to_numpy()[i]
    sigma = ds["sigma"].to_numpy()[i]
    sigma0 = ds["sigma_prior"].to_numpy()[i]
    lon, lat = ds["lon"].to_numpy(), ds["lat"].to_numpy()
    grid = "site" not in ds.dims
    fig = Figure(figsize=(12, 5.2))
    axes = fig.subplots(1, 2)
    finite = median[np.isfinite(median) & (median > 0)]
    norm = LogNorm(vmin=max(float(np.percentile(finite, 1)), 1e-5), vmax=float(finite.max()))
    unit = _unit(imt)
    s_lo = float(np.nanpercentile(sigma, 1)) if conditioned_map(ds) else 0.0
    s_range = {"vmin": min(s_lo, float(np.nanmin(sigma0))), "vmax": float(np.nanmax(sigma0)), "cmap": "cividis"}
    if grid:
        m0 = axes[0].pcolormesh(lon, lat, median, norm=norm, cmap="viridis", shading="auto")
        m1 = axes[1].pcolormesh(lon, lat, sigma, shading="auto", **s_range)
    else:
        m0 = axes[0].scatter(lon, lat, c=median, norm=norm, cmap="viridis", s=8)
        m1 = axes[1].scatter(lon, lat, c=sigma, s=8, **s_range)
    fig.colorbar(m0, ax=axes[0], label=f"{imt} median ({unit})")
    fig.colorbar(m1, ax=axes[1], label=f"{imt} sigma (ln units)")
    outlines = json.loads(ds.attrs.get("rupture_outlines", "[]"))
    rup = json.loads(ds.attrs.get("rupture", "{}"))
    conditioned = bool(ds.attrs.get("conditioned"))
    for ax in axes:
        for olon, olat in outlines:
            ax.plot(olon, olat, color="red", lw=1.5)
        if rup:
            ax.plot(rup["hypo_lon"], rup["hypo_lat"], marker="*", color="red", ms=14, mec="k")
        if stations is not None and imt in stations:
            ok = np.isfinite(stations[imt].to_numpy(float))
            s = stations[ok]
            if ax is axes[0]:
                ax.scatter(s["lon"], s["lat"], c=np.exp(s[imt]), norm=norm, cmap="viridis", marker="^", s=36,
                           edgecolors="k", linewidths=0.6, zorder=5)
            else:
                ax.scatter(s["lon"], s["lat"], marker="^", s=20, facecolors="none", edgecolors="k", linewidths=0.6)
        ax.set_xlabel("longitude (deg)")
        ax.set_ylabel("latitude (deg)")
        ax.set_aspect(1.0 / np.cos(np.radians(float(np.mean(lat)))))
        ax.set_xlim(float(np.min(lon)), float(np.max(lon)))
        ax.set_ylim(float(np.min(lat)), float(np.max(lat)))
    kind = "conditioned on stations" if conditioned else "model only"
    axes[0].set_title(f"{imt} median, {kind} (M{rup.get('mag', float('nan')):.1f})")
    axes[1].set_title(f"{imt} sigma, ln units (model alone: median {float(np.nanmedian(sigma0)):.2f})")
    fig.tight_layout()
    return _save_fig(fig, Path(path))


def _slug(imt: str) -> str:
    return imt.replace("(", "").replace(")", "").replace(".", "p")


def write_all(shakemap: Any, out: str | Path, *, formats: Sequence[str] = FORMATS,
              progress: Callable[[str], None] | None = None, extra: dict | None = None) -> list[Path]:
    """Write ``shakemap.nc``, ``shakemap.csv``, ``stations.csv``, ``contours_<imt>.geojson`` and ``map_<imt>.png``.

    Every file is first written into a temporary folder next to ``out``; only
    when all of them are complete are they moved into ``out`` (one rename
    each), so a failure leaves no partial output. GeoJSON is skipped for a
    site list. ``extra`` maps more file names to xarray objects written as
    netCDF alongside (None values are skipped).
    """
    import shutil

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        msg = f"The 'formats' parameter must hold values from {list(FORMATS)}. Got {unknown} instead."
        raise ShakemapError(msg)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        names = _write_into(shakemap, tmp, formats, progress or (lambda message: None), extra or {})
        out.mkdir(exist_ok=True)
        for name in names:
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [out / name for name in names]


def _write_into(shakemap: Any, folder: Path, formats: Sequence[str], say: Callable[[str], None],
                extra: dict) -> list[str]:
    from gmlearn.store.atomic import atomic_write_with

    ds = shakemap.dataset
    files: list[Path] = []
    if "netcdf" in formats:
        say("writing netCDF")
        files.append(write_netcdf(ds, folder / "shakemap.nc"))
    if "csv" in formats:
        say("writing CSV")
        files.append(write_csv(ds, folder / "shakemap.csv"))
        if shakemap.stations is not None:
            sta = shakemap.stations
            files.append(atomic_write_with(folder / "stations.csv", lambda tmp: sta.to_csv(tmp, index=False)))
    for imt in shakemap.imts:
        if "geojson" in formats and "site" not in ds.dims:
            say(f"writing contours of {imt}")
            files.append(write_geojson(ds, folder / f"contours_{_slug(imt)}.geojson", imt))
        if "png" in formats:
            say(f"drawing {imt}")
            files.append(write_png(ds, folder / f"map_{_slug(imt)}.png", imt, shakemap.stations))
    for name, obj in extra.items():
        if obj is not None:
            say(f"writing {name}")
            files.append(write_netcdf(obj, folder / name))
    return [p.name for p in files]
