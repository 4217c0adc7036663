"""Site grids and site files for shakemaps, with vs30 from a constant, a user grid or topographic slope."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gmlearn.shakemap.errors import SiteGridError

__all__ = ["Sites", "grid_sites", "read_sites", "assign_vs30", "vs30_from_slope", "complete_site_columns", "SLOPE_TABLES", "MAX_GRID_SITES"]

#: Largest grid :func:`grid_sites` builds (sites).
MAX_GRID_SITES = 5_000_000

#: Wald & Allen (2007) slope-vs30 bins: slope (m/m) at the vs30 bin edges 180, 240, 300, 360, 490, 620, 760 m/s.
SLOPE_TABLES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "active": ((1.0e-4, 2.2e-3, 6.3e-3, 0.018, 0.050, 0.10, 0.138), (180, 240, 300, 360, 490, 620, 760)),
    "stable": ((2.0e-5, 2.0e-3, 4.0e-3, 7.2e-3, 0.013, 0.018, 0.025), (180, 240, 300, 360, 490, 620, 760)),
}


@dataclass(frozen=True)
class Sites:
    """Sites of a shakemap.

    Attributes
    ----------
    frame
        One row per site with ``lon``, ``lat``, ``vs30``, ``vs30measured``,
        ``z1pt0`` (m) and ``z2pt5`` (km), plus any extra columns of a site file.
    shape
        ``(n_lat, n_lon)`` when the sites are a regular grid (rows ordered
        lat-major, lon fastest), else None.
    lons, lats
        The grid axes (degrees) when regular, else None.
    """

    frame: pd.DataFrame
    shape: tuple[int, int] | None = None
    lons: np.ndarray | None = None
    lats: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def is_grid(self) -> bool:
        """True for a regular lon/lat grid."""
        return self.shape is not None

    def bounds(self) -> tuple[float, float, float, float]:
        """(lon_min, lat_min, lon_max, lat_max)."""
        f = self.frame
        return float(f["lon"].min()), float(f["lat"].min()), float(f["lon"].max()), float(f["lat"].max())


def _finish(frame: pd.DataFrame, vs30: float | str | Path | np.ndarray | None, slope: str | Path | None,
            tectonic: str) -> pd.DataFrame:
    return complete_site_columns(assign_vs30(frame, vs30=vs30, slope=slope, tectonic=tectonic))


def complete_site_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``vs30measured`` (False), ``z1pt0`` (m) and ``z2pt5`` (km) from vs30 where missing (copy)."""
    from gmlearn.store.derived import z1pt0_from_vs30, z2pt5_from_vs30

    frame = frame.reset_index(drop=True).copy()
    v = frame["vs30"].to_numpy(dtype=float)
    if "vs30measured" not in frame:
        frame["vs30measured"] = False
    if "z1pt0" not in frame or frame["z1pt0"].isna().any():
        z1 = z1pt0_from_vs30(v)
        frame["z1pt0"] = frame["z1pt0"].fillna(pd.Series(z1)) if "z1pt0" in frame else z1
    if "z2pt5" not in frame or frame["z2pt5"].isna().any():
        z25 = z2pt5_from_vs30(v)
        frame["z2pt5"] = frame["z2pt5"].fillna(pd.Series(z25)) if "z2pt5" in frame else z25
    return frame


def grid_sites(
    bbox: tuple[float, float, float, float],
    spacing: float,
    *,
    vs30: float | str | Path | None = 760.0,
    slope: str | Path | None = None,
    tectonic: str = "active",
) -> Sites:
    """A regular lon/lat grid.

    Parameters
    ----------
    bbox
        ``(lon_min, lat_min, lon_max, lat_max)`` in degrees.
    spacing
        Grid spacing in degrees (the same in lon and lat).
    vs30, slope, tectonic
        vs30 source, see :func:`assign_vs30`.

    Raises
    ------
    SiteGridError
        For an empty or inverted box, a non-positive spacing, or more than
        :data:`MAX_GRID_SITES` sites.
    """
    try:
        lon0, lat0, lon1, lat1 = (float(v) for v in bbox)
    except (TypeError, ValueError):
        msg = f"The 'bbox' parameter must be (lon_min, lat_min, lon_max, lat_max). Got {bbox!r} instead."
        raise SiteGridError(msg) from None
    if not (np.isfinite([lon0, lat0, lon1, lat1]).all() and lon0 < lon1 and lat0 < lat1 and -90 <= lat0 and lat1 <= 90):
        msg = f"The 'bbox' parameter must satisfy lon_min < lon_max and -90 <= lat_min < lat_max <= 90. Got {bbox!r}."
        raise SiteGridError(msg)
    if not (math.isfinite(spacing) and spacing > 0):
        msg = f"The 'spacing' parameter must be a positive number of degrees. Got {spacing!r} instead."
        raise SiteGridError(msg)
    n_lon = int(math.floor((lon1 - lon0) / spacing + 1e-9)) + 1
    n_lat = int(math.floor((lat1 - lat0) / spacing + 1e-9)) + 1
    if n_lon * n_lat > MAX_GRID_SITES:
        msg = f"A spacing of {spacing} deg over {bbox} gives {n_lon * n_lat} sites; the limit is {MAX_GRID_SITES}."
        raise SiteGridError(msg)
    lons = lon0 + spacing * np.arange(n_lon)
    lats = lat0 + spacing * np.arange(n_lat)
    glon, glat = np.meshgrid(lons, lats)
    frame = pd.DataFrame({"lon": glon.ravel(), "lat": glat.ravel()})
    frame = _finish(frame, vs30, slope, tectonic)
    return Sites(frame, (n_lat, n_lon), lons, lats)


def read_sites(path: str | Path, *, vs30: float | str | Path | None = None, slope: str | Path | None = None,
               tectonic: str = "active") -> Sites:
    """Sites from a CSV with ``lon``, ``lat`` and optionally ``vs30`` (and ``z1pt0``, ``z2pt5``).

    A ``vs30`` column is used where present; ``vs30``/``slope`` fill the
    rest (see :func:`assign_vs30`).
    """
    path = Path(path)
    if not path.is_file():
        msg = f"Site file {str(path)!r} does not exist."
        raise FileNotFoundError(msg)
    frame = pd.read_csv(path)
    for col in ("lon", "lat"):
        if col not in frame:
            msg = f"Site file {path.name!r} needs a {col!r} column; it has {list(frame.columns)}."
            raise SiteGridError(msg)
        values = pd.to_numeric(frame[col], errors="coerce")
        lim = 90.0 if col == "lat" else 360.0
        bad = ~np.isfinite(values) | (values.abs() > lim)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            msg = f"Site file {path.name!r}, column {col!r}, row {row + 1}: {frame[col].iloc[row]!r} is not a valid {col}."
            raise SiteGridError(msg)
    if "vs30" in frame and vs30 is None and slope is None and frame["vs30"].isna().any():
        row = int(np.flatnonzero(frame["vs30"].isna().to_numpy())[0])
        msg = f"Site file {path.name!r}: column 'vs30' is missing at row {row + 1}; give --vs30 or --slope to fill it."
        raise SiteGridError(msg)
    if "vs30" not in frame and vs30 is None and slope is None:
        msg = f"Site file {path.name!r} has no 'vs30' column; give a constant vs30, a vs30 grid or a slope grid."
        raise SiteGridError(msg)
    return Sites(_finish(frame.reset_index(drop=True), vs30, slope, tectonic))


def vs30_from_slope(slope: np.ndarray, tectonic: str = "active") -> np.ndarray:
    """vs30 (m/s) from topographic slope (m/m), Wald & Allen (2007).

    Log-log interpolation through the bin edges of their Table 1 (active
    tectonic or stable continental), clamped to 180-760 m/s.
    """
    if tectonic not in SLOPE_TABLES:
        msg = f"The 'tectonic' parameter must be one of {list(SLOPE_TABLES)}. Got {tectonic!r} instead."
        raise SiteGridError(msg)
    edges, values = SLOPE_TABLES[tectonic]
    s = np.asarray(slope, dtype=float)
    if (~np.isfinite(s) | (s < 0)).any():
        bad = s[~np.isfinite(s) | (s < 0)][0]
        msg = f"Slopes must be finite and >= 0 (m/m). Got {bad!r}."
        raise SiteGridError(msg)
    ls = np.log(np.maximum(s, 1e-12))
    return np.exp(np.interp(ls, np.log(edges), np.log(values)))


def _read_grid(path: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points ``(lon, lat, value)`` of a CSV (lon, lat, name) or netCDF (variable ``name`` on lat/lon)."""
    if not path.is_file():
        msg = f"The {name} grid {str(path)!r} does not exist."
        raise FileNotFoundError(msg)
    if path.suffix in (".nc", ".nc4", ".netcdf"):
        import xarray as xr

        with xr.open_dataset(path) as ds:
            if name not in ds:
                msg = f"The {name} grid {path.name!r} has no variable {name!r}; it has {list(ds.data_vars)}."
                raise SiteGridError(msg)
            da = ds[name].load()
        lon_name = next((d for d in da.dims if d in ("lon", "longitude", "x")), None)
        lat_name = next((d for d in da.dims if d in ("lat", "latitude", "y")), None)
        if lon_name is None or lat_name is None:
            msg = f"The {name} grid {path.name!r} must have lat/lon dimensions. Got {da.dims}."
            raise SiteGridError(msg)
        glon, glat = np.meshgrid(da[lon_name].to_numpy(), da[lat_name].to_numpy())
        values = da.transpose(lat_name, lon_name).to_numpy()
        return glon.ravel(), glat.ravel(), values.ravel().astype(float)
    frame = pd.read_csv(path)
    missing = [c for c in ("lon", "lat", name) if c not in frame]
    if missing:
        msg = f"The {name} grid {path.name!r} needs columns lon, lat, {name}; it lacks {missing}."
        raise SiteGridError(msg)
    return (frame["lon"].to_numpy(float), frame["lat"].to_numpy(float), frame[name].to_numpy(float))


def _nearest(lon: np.ndarray, lat: np.ndarray, points: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    from scipy.spatial import cKDTree

    plon, plat, values = points
    ok = np.isfinite(values)
    if not ok.any():
        msg = "The grid holds no finite values."
        raise SiteGridError(msg)
    scale = math.cos(math.radians(float(np.mean(plat[ok]))))
    tree = cKDTree(np.column_stack([plon[ok] * scale, plat[ok]]))
    _, idx = tree.query(np.column_stack([np.asarray(lon) * scale, np.asarray(lat)]))
    return values[ok][idx]


def assign_vs30(
    frame: pd.DataFrame,
    *,
    vs30: float | str | Path | np.ndarray | None = None,
    slope: str | Path | None = None,
    tectonic: str = "active",
) -> pd.DataFrame:
    """Return a copy of ``frame`` with a complete ``vs30`` column (m/s).

    Existing finite ``vs30`` values are kept. Missing ones come from, in order:
    ``vs30`` as a number (a constant), an array (one value per row) or the
    path of a grid (CSV ``lon, lat, vs30`` or netCDF variable ``vs30``,
    nearest grid point); else ``slope``, the path of a slope grid (m/m, CSV
    ``lon, lat, slope`` or netCDF variable ``slope``) converted with
    :func:`vs30_from_slope`.

    Raises
    ------
    SiteGridError
        If a vs30 value is missing with no source to fill it, or outside 50-5000 m/s.
    """
    out = frame.copy()
    current = pd.to_numeric(out["vs30"], errors="coerce").to_numpy(float) if "vs30" in out else np.full(len(out), np.nan)
    need = ~np.isfinite(current)
    if need.any():
        lon, lat = out["lon"].to_numpy(float)[need], out["lat"].to_numpy(float)[need]
        if vs30 is not None and not isinstance(vs30, (str, Path)):
            arr = np.broadcast_to(np.asarray(vs30, dtype=float), (len(out),))
            current[need] = arr[need]
        elif vs30 is not None:
            current[need] = _nearest(lon, lat, _read_grid(Path(vs30), "vs30"))
        elif slope is not None:
            current[need] = vs30_from_slope(_nearest(lon, lat, _read_grid(Path(slope), "slope")), tectonic)
        else:
            msg = f"{int(need.sum())} site(s) have no vs30 and no vs30 source was given (constant, grid or slope)."
            raise SiteGridError(msg)
    bad = ~np.isfinite(current) | (current < 50) | (current > 5000)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        msg = f"vs30 must be in [50, 5000] m/s; site row {pos} has {current[pos]!r}."
        raise SiteGridError(msg)
    out["vs30"] = current
    return out
