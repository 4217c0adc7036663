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

__all__ = ["to_dataset", "write_netcdf", "read_netcdf", "cf_dataset", "cf_encoding", "cf_compliance", "write_csv", "write_geojson", "write_png", "write_all", "contour_levels",
           "FORMATS"]

#: Output formats of :func:`write_all` (``gridxml``: USGS ShakeMap 4 grid.xml and uncertainty.xml).
FORMATS: tuple[str, ...] = ("netcdf", "csv", "geojson", "png", "gridxml")

#: Name of the macroseismic-intensity layer in file names and GeoJSON properties.
MMI = "MMI"


def _unit(imt: str) -> str:
    return {"PGV": "cm/s", MMI: "intensity"}.get(imt, "g")


#: Attributes of the map variables (CF-1.8: ln quantities are dimensionless, units "1").
_LN = "natural log of the intensity measure in g (PGA, SA) or cm/s (PGV)"
_VAR_ATTRS: dict[str, dict[str, str]] = {
    "mean": {"long_name": f"conditioned mean of ln(IM), the {_LN}", "units": "1"},
    "tau": {"long_name": "conditioned between-event standard deviation of ln(IM)", "units": "1"},
    "phi": {"long_name": "conditioned within-event standard deviation of ln(IM)", "units": "1"},
    "sigma": {"long_name": "conditioned total standard deviation of ln(IM)", "units": "1"},
    "median": {"long_name": "conditioned median of the intensity measure, exp(mean), in g (PGA, SA) or cm/s (PGV)",
               "units": "1"},
    "vs30": {"long_name": "time-averaged shear-wave velocity of the top 30 m", "units": "m s-1"},
    "rrup": {"long_name": "closest distance to the rupture", "units": "km"},
    "rjb": {"long_name": "Joyner-Boore distance (closest to the surface projection of the rupture)", "units": "km"},
    "mmi": {"long_name": "Modified Mercalli intensity of the conditioned median", "units": "1"},
    "mmi_sigma": {"long_name": "standard deviation of the Modified Mercalli intensity (GMICE and ground-motion sigma)",
                  "units": "1"},
}
_COORD_ATTRS: dict[str, dict[str, str]] = {
    "lat": {"standard_name": "latitude", "long_name": "latitude", "units": "degrees_north", "axis": "Y"},
    "lon": {"standard_name": "longitude", "long_name": "longitude", "units": "degrees_east", "axis": "X"},
    "imt": {"long_name": "intensity measure type (OpenQuake name)"},
    "site": {"long_name": "site number"},
}


def _mmi_layer(result: dict, imts: list[str], table: pd.DataFrame, rupture: Any, gmice: str | None) -> dict | None:
    """``{"mmi", "mmi_sigma", "imt", "gmice"}`` from the conditioned map, or None without a convertible IMT."""
    from gmlearn.shakemap.gmice import choose_imt, mmi_from_ground_motion

    source = None if gmice is None else choose_imt(imts)
    if source is None:
        return None
    k = imts.index(source)
    mmi, sigma = mmi_from_ground_motion(source, result["mean"][k], result["sigma"][k], gmice=gmice,
                                        mag=float(rupture.mag), rrup=table["rrup"].to_numpy(float))
    return {"mmi": mmi, "mmi_sigma": sigma, "imt": source, "gmice": gmice}


def to_dataset(sites: Any, table: pd.DataFrame, imts: Sequence[str], prior: Any, result: dict, rupture: Any,
               model: Any, bias: dict, correlation: Any, n_stations: int | None,
               gmice: str | None = "WordenEtAl2012") -> Any:
    """Build the ``xarray.Dataset`` of a shakemap (see :class:`ShakeMap`), with CF-1.8 attributes."""
    import datetime

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
        coords = {"imt": imts, "site": np.arange(n, dtype=np.int32), "lon": ("site", table["lon"].to_numpy()),
                  "lat": ("site", table["lat"].to_numpy())}

        def shape(a: np.ndarray) -> np.ndarray:
            return a
        site_dims = ("site",)
    data = {}
    for name in ("mean", "tau", "phi", "sigma"):
        data[name] = (dims, shape(result[name]), dict(_VAR_ATTRS[name]))
        prior_attrs = {"long_name": _VAR_ATTRS[name]["long_name"].replace("conditioned", "model (unconditioned)"),
                       "units": "1"}
        data[f"{name}_prior"] = (dims, shape(getattr(prior, name)), prior_attrs)
    data["median"] = (dims, shape(np.exp(result["mean"])), dict(_VAR_ATTRS["median"]))
    for col in ("vs30", "rrup", "rjb"):
        data[col] = (site_dims, shape(table[col].to_numpy(float)), dict(_VAR_ATTRS[col]))
    layer = _mmi_layer(result, imts, table, rupture, gmice)
    if layer is not None:
        note = {"comment": f"from {layer['imt']} by the GMICE {layer['gmice']} (Worden et al. 2012)"}
        data["mmi"] = (site_dims, shape(layer["mmi"]), {**_VAR_ATTRS["mmi"], **note})
        data["mmi_sigma"] = (site_dims, shape(layer["mmi_sigma"]), {**_VAR_ATTRS["mmi_sigma"], **note})
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    attrs = {
        "Conventions": "CF-1.8",
        "title": "gmlearn scenario shakemap",
        "institution": "gmlearn",
        "source": f"gmlearn {__version__} scenario shakemap, model {model!r}",
        "history": f"{stamp} created by gmlearn {__version__}",
        "references": "Worden et al. (2012) BSSA 102(1) 204-221 (GMICE)" if layer is not None else "",
        "comment": "mean, tau, phi, sigma in natural-log units (dimensionless); median = exp(mean) in g (PGA, SA) "
                   "or cm/s (PGV)",
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
        "gmice": json.dumps(None if layer is None else {"name": layer["gmice"], "imt": layer["imt"]}),
    }
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    for name, extra in _COORD_ATTRS.items():
        if name in ds.coords:
            ds[name].attrs.update(extra)
    return ds


def cf_encoding(ds: Any) -> dict[str, dict]:
    """netCDF encoding of ``ds`` under CF-1.8: no ``_FillValue`` on coordinates (they have no missing values)."""
    return {name: {"_FillValue": None} for name in ds.coords if ds[name].dtype.kind == "f"}


def cf_dataset(ds: Any) -> Any:
    """``ds`` as written to netCDF under CF-1.8.

    A CF coordinate variable must be numeric, so the IMT names become the
    auxiliary (label) coordinate ``imt_name`` along the ``imt`` dimension;
    :func:`read_netcdf` restores them as the ``imt`` coordinate. A DataArray
    becomes a one-variable Dataset.
    """
    import xarray as xr

    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name=ds.name or "data", promote_attrs=True)
    if "imt" in ds.coords and ds["imt"].dtype.kind in "OUS":
        ds = ds.rename_vars(imt="imt_name")
        ds["imt_name"].attrs.update({"long_name": "intensity measure type (OpenQuake name)"})
    return ds


def write_netcdf(ds: Any, path: str | Path) -> Path:
    """Write the dataset (or DataArray) to a CF-1.8 netCDF file atomically (see :func:`cf_dataset`)."""
    from gmlearn.store.atomic import atomic_write_with

    out = cf_dataset(ds)
    return atomic_write_with(path, lambda tmp: out.to_netcdf(tmp, engine="netcdf4", encoding=cf_encoding(out)))


def read_netcdf(path: str | Path) -> Any:
    """Read a shakemap written by :func:`write_netcdf` into memory, with the IMT names as the ``imt`` coordinate."""
    import xarray as xr

    with xr.open_dataset(path) as ds:
        ds = ds.load()
    if "imt_name" in ds.coords:
        ds = ds.rename_vars(imt_name="imt").set_xindex("imt")
    return ds


def write_csv(ds: Any, path: str | Path) -> Path:
    """One row per site: ``lon, lat, vs30, rrup, rjb``, ``<imt>_median, _mean, _sigma, _tau, _phi, _sigma_prior`` and ``mmi, mmi_sigma``."""
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
    for name in ("mmi", "mmi_sigma"):
        if name in ds:
            cols[name] = ds[name].to_numpy().ravel()
    frame = pd.DataFrame(cols)
    return atomic_write_with(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6g"))


def contour_levels(imt: str, values: np.ndarray) -> list[float]:
    """Contour levels spanning ``values``: 1-2-5 steps for PGA/SA (g) and PGV (cm/s), whole intensities for MMI."""
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size == 0:
        return []
    lo, hi = float(finite.min()), float(finite.max())
    if imt == MMI:
        return [float(v) for v in range(1, 11) if lo < v < hi]
    levels = [m * 10.0**e for e in range(-4, 4) for m in (1, 2, 5)]
    return [lv for lv in levels if lo < lv < hi]


def _layer(ds: Any, imt: str, name: str = "median") -> np.ndarray:
    """The 2-D (or site) values of ``name`` for ``imt``; ``MMI`` reads the ``mmi`` (or ``mmi_sigma``) layer."""
    if imt == MMI:
        key = "mmi_sigma" if name in ("sigma", "sigma_prior") else "mmi"
        if key not in ds:
            msg = "This shakemap has no MMI layer: it maps none of PGV, PGA, SA(1.0), SA(0.3), SA(3.0)."
            raise ShakemapError(msg)
        return ds[key].to_numpy()
    i = [str(x) for x in ds["imt"].to_numpy()].index(imt)
    return ds[name].to_numpy()[i]


def _contours(ds: Any, imt: str) -> list[dict]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    median = _layer(ds, imt)
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
                                         "quantity": ("conditioned median" if ds.attrs.get("conditioned") else "median")
                                         + (" (GMICE)" if imt == MMI else "")}})
    return feats


def write_geojson(ds: Any, path: str | Path, imt: str) -> Path:
    """Contours of the median of ``imt`` (or of the MMI layer for ``"MMI"``) as a GeoJSON FeatureCollection of MultiLineStrings (grids only)."""
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
    """Map of the (conditioned) median and sigma of ``imt`` (or of MMI for ``"MMI"``), with stations and the rupture outline."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.colors import LogNorm, Normalize
    from matplotlib.figure import Figure

    median = _layer(ds, imt)
    sigma = _layer(ds, imt, "sigma")
    mmi = imt == MMI
    sigma0 = sigma if mmi else _layer(ds, imt, "sigma_prior")
    lon, lat = ds["lon"].to_numpy(), ds["lat"].to_numpy()
    grid = "site" not in ds.dims
    fig = Figure(figsize=(12, 5.2))
    axes = fig.subplots(1, 2)
    finite = median[np.isfinite(median) & (median > 0)]
    norm = Normalize(vmin=1.0, vmax=10.0) if mmi else LogNorm(vmin=max(float(np.percentile(finite, 1)), 1e-5),
                                                               vmax=float(finite.max()))
    unit = _unit(imt)
    s_lo = float(np.nanpercentile(sigma, 1)) if conditioned_map(ds) or mmi else 0.0
    s_range = {"vmin": min(s_lo, float(np.nanmin(sigma0))), "vmax": float(np.nanmax(sigma0)), "cmap": "cividis"}
    if grid:
        m0 = axes[0].pcolormesh(lon, lat, median, norm=norm, cmap="viridis", shading="auto")
        m1 = axes[1].pcolormesh(lon, lat, sigma, shading="auto", **s_range)
    else:
        m0 = axes[0].scatter(lon, lat, c=median, norm=norm, cmap="viridis", s=8)
        m1 = axes[1].scatter(lon, lat, c=sigma, s=8, **s_range)
    fig.colorbar(m0, ax=axes[0], label=f"{imt} median ({unit})")
    fig.colorbar(m1, ax=axes[1], label=f"{imt} sigma ({'intensity units' if mmi else 'ln units'})")
    outlines = json.loads(ds.attrs.get("rupture_outlines", "[]"))
    rup = json.loads(ds.attrs.get("rupture", "{}"))
    conditioned = bool(ds.attrs.get("conditioned"))
    for ax in axes:
        for olon, olat in outlines:
            ax.plot(olon, olat, color="red", lw=1.5)
        if rup:
            ax.plot(rup["hypo_lon"], rup["hypo_lat"], marker="*", color="red", ms=14, mec="k")
        if stations is not None and imt in stations and not mmi:
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
    if mmi:
        source = json.loads(ds.attrs.get("gmice", "null")) or {}
        axes[1].set_title(f"MMI sigma ({source.get('name', 'GMICE')} from {source.get('imt', '?')}), intensity units")
    else:
        axes[1].set_title(f"{imt} sigma, ln units (model alone: median {float(np.nanmedian(sigma0)):.2f})")
    fig.tight_layout()
    return _save_fig(fig, Path(path))


def _slug(imt: str) -> str:
    return imt.replace("(", "").replace(")", "").replace(".", "p")


def write_all(shakemap: Any, out: str | Path, *, formats: Sequence[str] = FORMATS,
              progress: Callable[[str], None] | None = None, extra: dict | None = None) -> list[Path]:
    """Write ``shakemap.nc``, ``shakemap.csv``, ``stations.csv``, ``contours_<imt>.geojson``, ``map_<imt>.png``, ``grid.xml`` and ``uncertainty.xml``.

    The MMI layer (when the map has one) is in the netCDF and CSV files, in
    ``contours_MMI.geojson``, ``map_MMI.png`` and as the MMI field of the
    ShakeMap XML files. Every file is first written into a temporary folder next to ``out``; only
    when all of them are complete are they moved into ``out`` (one rename
    each), so a failure leaves no partial output. GeoJSON and the ShakeMap
    XML files are skipped for a site list. ``extra`` maps more file names to xarray objects written as
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
    layers = [*shakemap.imts, *([MMI] if "mmi" in ds else [])]
    for imt in layers:
        if "geojson" in formats and "site" not in ds.dims:
            say(f"writing contours of {imt}")
            files.append(write_geojson(ds, folder / f"contours_{_slug(imt)}.geojson", imt))
        if "png" in formats:
            say(f"drawing {imt}")
            files.append(write_png(ds, folder / f"map_{_slug(imt)}.png", imt, shakemap.stations))
    if "gridxml" in formats and "site" not in ds.dims:
        from gmlearn.shakemap.gridxml import write_grid_xml, write_uncertainty_xml

        say("writing grid.xml and uncertainty.xml")
        files += [write_grid_xml(ds, folder / "grid.xml"), write_uncertainty_xml(ds, folder / "uncertainty.xml")]
    for name, obj in extra.items():
        if obj is not None:
            say(f"writing {name}")
            files.append(write_netcdf(obj, folder / name))
    return [p.name for p in files]


def cf_compliance(path: str | Path, *, standard: str = "cf:1.8") -> dict[str, Any]:
    """Check a netCDF file with the IOOS compliance checker (``pip install compliance-checker``).

    Returns
    -------
    dict
        ``errors`` (failed check groups plus checker exceptions), ``scored`` and
        ``possible`` points, and ``messages`` (what failed).
    """
    try:
        from compliance_checker.runner import CheckSuite
    except ImportError as exc:
        msg = "cf_compliance needs the IOOS compliance checker: pip install compliance-checker (in gmlearn's 'test' extra)."
        raise ImportError(msg) from exc
    suite = CheckSuite()
    suite.load_all_available_checkers()
    groups, exceptions = suite.run_all(suite.load_dataset(str(path)), [standard], skip_checks=[])[standard]
    failed = [g for g in groups if isinstance(g.value, tuple) and g.value[0] < g.value[1] or g.value is False]
    scored = sum(g.value[0] if isinstance(g.value, tuple) else int(bool(g.value)) for g in groups)
    possible = sum(g.value[1] if isinstance(g.value, tuple) else 1 for g in groups)
    messages = [f"{g.name}: {m}" for g in failed for m in g.msgs] + [f"checker exception in {k}: {v[0]}" for k, v in exceptions.items()]
    return {"errors": len(failed) + len(exceptions), "scored": int(scored), "possible": int(possible), "messages": messages}
