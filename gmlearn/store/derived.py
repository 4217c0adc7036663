"""Derived features for records whose source lacks them.

Each filled column gets a boolean ``<name>_estimated`` flag (True where the
value was derived), so models and users can tell data from assumption.

- ``z1pt0``/``z2pt5`` from vs30 with the correlations OpenQuake uses
  (Chiou & Youngs 2014; Campbell & Bozorgnia 2014), via
  :func:`openquake.hazardlib.site.calculate_z1pt0` / ``calculate_z2pt5``.
- ``width`` from Wells & Coppersmith (1994, all slip types, rupture width)
  and ``ztor`` from the hypocentre depth (Kaklamanos et al. 2011, eq. 4),
  with dip from the style of faulting when missing (Kaklamanos et al. 2011).
- ``vs30measured`` False (inferred) where a source does not say.
- ``rx``/``ry0`` from a planar rupture built around the hypocentre
  (centred along strike) with OpenQuake's :class:`PlanarSurface`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "add_derived",
    "z1pt0_from_vs30",
    "z2pt5_from_vs30",
    "width_from_mag",
    "ztor_from_hypocentre",
    "dip_from_rake",
    "rx_ry0_from_plane",
    "hypocentre_depth",
    "scenario_table",
]

#: Depth of the seismogenic layer bottom used to bound estimated widths (km).
SEISMOGENIC_DEPTH_KM = 20.0


def z1pt0_from_vs30(vs30: np.ndarray, region: str = "global") -> np.ndarray:
    """Depth to Vs = 1 km/s (m) from vs30 (m/s), Chiou & Youngs (2014).

    ``region="japan"`` uses the Japanese relation.
    """
    from openquake.hazardlib.site import calculate_z1pt0

    codes = np.full(len(vs30), "JPN" if region == "japan" else "GLO", dtype=object)
    return np.asarray(calculate_z1pt0(np.asarray(vs30, dtype=float), codes), dtype=float)


def z2pt5_from_vs30(vs30: np.ndarray, region: str = "global") -> np.ndarray:
    """Depth to Vs = 2.5 km/s (km) from vs30 (m/s), Campbell & Bozorgnia (2014)."""
    from openquake.hazardlib.site import calculate_z2pt5

    codes = np.full(len(vs30), "JPN" if region == "japan" else "GLO", dtype=object)
    return np.asarray(calculate_z2pt5(np.asarray(vs30, dtype=float), codes), dtype=float)


def width_from_mag(mag: np.ndarray) -> np.ndarray:
    """Down-dip rupture width (km), Wells & Coppersmith (1994), all slip types.

    ``log10(W) = -1.01 + 0.32 M`` (their Table 2A, RW).
    """
    return 10.0 ** (-1.01 + 0.32 * np.asarray(mag, dtype=float))


def dip_from_rake(rake: np.ndarray) -> np.ndarray:
    """Typical dip (deg) by style of faulting (Kaklamanos et al. 2011, eq. 1).

    Strike-slip 90, normal 50, reverse 40; unknown rake gives 90.
    """
    rake = np.asarray(rake, dtype=float)
    dip = np.full(rake.shape, 90.0)
    dip[(rake > 30) & (rake < 150)] = 40.0
    dip[(rake < -30) & (rake > -150)] = 50.0
    return dip


def ztor_from_hypocentre(hypo_depth: np.ndarray, width: np.ndarray, dip: np.ndarray) -> np.ndarray:
    """Depth to top of rupture (km), Kaklamanos et al. (2011, eq. 4).

    ``ztor = max(hypo_depth - 0.6 W sin(dip), 0)``.
    """
    sin_dip = np.sin(np.radians(np.asarray(dip, dtype=float)))
    return np.maximum(np.asarray(hypo_depth, dtype=float) - 0.6 * np.asarray(width, dtype=float) * sin_dip, 0.0)


def _plane(hypo_lon: float, hypo_lat: float, hypo_depth: float, strike: float, dip: float,
           ztor: float, width: float, length: float):  # noqa: ANN202 - OpenQuake surface
    """Planar rupture through the hypocentre, centred along strike."""
    from openquake.hazardlib.geo import Point
    from openquake.hazardlib.geo.geodetic import point_at
    from openquake.hazardlib.geo.surface.planar import PlanarSurface

    dip = float(np.clip(dip, 1.0, 90.0))
    sin_d, cos_d = np.sin(np.radians(dip)), np.cos(np.radians(dip))
    down_dip = float(np.clip((hypo_depth - ztor) / sin_d, 0.0, width))
    # From the epicentre, go up-dip (against the dip direction) to the top edge.
    top_lon, top_lat = point_at(hypo_lon, hypo_lat, (strike - 90.0) % 360.0, down_dip * cos_d)
    half = 0.5 * length
    tl = point_at(top_lon, top_lat, (strike + 180.0) % 360.0, half)
    tr = point_at(top_lon, top_lat, strike % 360.0, half)
    bottom_depth = ztor + width * sin_d
    horiz = width * cos_d
    br = point_at(tr[0], tr[1], (strike + 90.0) % 360.0, horiz)
    bl = point_at(tl[0], tl[1], (strike + 90.0) % 360.0, horiz)
    return PlanarSurface.from_corner_points(
        Point(tl[0], tl[1], ztor), Point(tr[0], tr[1], ztor),
        Point(br[0], br[1], bottom_depth), Point(bl[0], bl[1], bottom_depth),
    )


def rx_ry0_from_plane(event: pd.Series, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rx and Ry0 (km) of sites from a planar rupture around the hypocentre.

    Parameters
    ----------
    event
        Needs ``hypo_lon, hypo_lat, hypo_depth, strike, dip, ztor, width``;
        ``length`` defaults to the width when missing.
    lon, lat
        Site coordinates (deg), shape (n_sites,).
    """
    from openquake.hazardlib.geo import Mesh

    length = event.get("length", np.nan)
    length = float(event["width"]) if not np.isfinite(length) else float(length)
    surface = _plane(float(event["hypo_lon"]), float(event["hypo_lat"]), float(event["hypo_depth"]),
                     float(event["strike"]), float(event["dip"]), float(event["ztor"]),
                     max(float(event["width"]), 0.1), max(length, 0.1))
    mesh = Mesh(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(surface.get_rx_distance(mesh)), np.asarray(surface.get_ry0_distance(mesh))


def _fill(df: pd.DataFrame, name: str, values: np.ndarray) -> None:
    """Fill NaNs of ``name`` with ``values`` and set ``<name>_estimated``."""
    current = df[name].to_numpy(dtype=float) if name in df else np.full(len(df), np.nan)
    missing = ~np.isfinite(current)
    flag = f"{name}_estimated"
    previous = df[flag].to_numpy(dtype=bool) if flag in df else np.zeros(len(df), dtype=bool)
    df[name] = np.where(missing, values, current)
    df[flag] = previous | (missing & np.isfinite(values))


def _geometry(df: pd.DataFrame) -> None:
    needed = ("hypo_lon", "hypo_lat", "hypo_depth", "strike", "lon", "lat")
    if not all(c in df for c in needed):  # no geometry: nothing to derive, flags stay False
        _fill(df, "rx", np.full(len(df), np.nan))
        _fill(df, "ry0", np.full(len(df), np.nan))
        return
    rx_need = ~np.isfinite(df["rx"].to_numpy(dtype=float)) if "rx" in df else np.ones(len(df), bool)
    ry_need = ~np.isfinite(df["ry0"].to_numpy(dtype=float)) if "ry0" in df else np.ones(len(df), bool)
    rx = np.full(len(df), np.nan)
    ry0 = np.full(len(df), np.nan)
    need = rx_need | ry_need
    for _, idx in df.index[need].to_series().groupby(df.loc[need, "event_id"]).groups.items():
        rows = df.loc[idx]
        event = rows.iloc[0]
        if not all(np.isfinite(float(event[c])) for c in ("hypo_lon", "hypo_lat", "hypo_depth", "strike", "dip", "ztor", "width")):
            continue
        ok = np.isfinite(rows["lon"].to_numpy(dtype=float)) & np.isfinite(rows["lat"].to_numpy(dtype=float))
        if not ok.any():
            continue
        pos = df.index.get_indexer(idx[ok])
        rx[pos], ry0[pos] = rx_ry0_from_plane(event, rows["lon"].to_numpy()[ok], rows["lat"].to_numpy()[ok])
    _fill(df, "rx", rx)
    _fill(df, "ry0", ry0)


def add_derived(table: pd.DataFrame, *, region: str = "global") -> pd.DataFrame:
    """Return a copy of a canonical table with missing features derived.

    Fills, where missing and computable: ``dip`` (from rake), ``width``,
    ``ztor``, ``z1pt0``, ``z2pt5``, ``rx``, ``ry0``; sets the matching
    ``<name>_estimated`` flags (``dip`` is filled without a flag column only
    when absent). The input is not modified.

    Parameters
    ----------
    table
        Canonical table from a reader (one row per record).
    region
        ``"global"`` or ``"japan"`` for the basin-depth correlations.
    """
    df = table.copy()
    n = len(df)
    nan = np.full(n, np.nan)
    if "dip" not in df or df["dip"].isna().any():
        rake = df["rake"].to_numpy(dtype=float) if "rake" in df else nan
        dip = df["dip"].to_numpy(dtype=float) if "dip" in df else nan
        df["dip"] = np.where(np.isfinite(dip), dip, dip_from_rake(rake))
    mag = df["mag"].to_numpy(dtype=float)
    _fill(df, "width", width_from_mag(mag))
    # Bound estimated widths by the seismogenic layer below the hypocentre region.
    sin_d = np.sin(np.radians(df["dip"].to_numpy(dtype=float)))
    if "hypo_depth" in df:
        _fill(df, "ztor", ztor_from_hypocentre(df["hypo_depth"].to_numpy(dtype=float), df["width"].to_numpy(), df["dip"].to_numpy()))
        est = df["width_estimated"].to_numpy()
        ztor = df["ztor"].to_numpy(dtype=float)
        cap = np.maximum((np.maximum(SEISMOGENIC_DEPTH_KM, df["hypo_depth"].to_numpy(dtype=float)) - ztor) / sin_d, 1.0)
        df["width"] = np.where(est, np.minimum(df["width"].to_numpy(), cap), df["width"].to_numpy())
    else:
        _fill(df, "ztor", nan)
    vs30 = df["vs30"].to_numpy(dtype=float)
    if "vs30measured" not in df or df["vs30measured"].isna().any():
        given = df["vs30measured"] if "vs30measured" in df else pd.Series(pd.NA, index=df.index, dtype="boolean")
        df["vs30measured_estimated"] = given.isna().to_numpy()
        df["vs30measured"] = given.astype("boolean").fillna(False).astype(bool)
    else:
        df["vs30measured_estimated"] = df.get("vs30measured_estimated", pd.Series(False, index=df.index)).astype(bool)
    _fill(df, "z1pt0", z1pt0_from_vs30(vs30, region))
    _fill(df, "z2pt5", z2pt5_from_vs30(vs30, region))
    for name in ("rx", "ry0"):
        if name not in df:
            df[name] = nan
    _geometry(df)
    for flag in ("vs30measured_estimated", "ztor_estimated", "width_estimated", "z1pt0_estimated", "z2pt5_estimated", "rx_estimated", "ry0_estimated"):
        df[flag] = df[flag].astype(bool)
    return df


def hypocentre_depth(mag: np.ndarray) -> np.ndarray:
    """Typical crustal hypocentre depth (km) growing with magnitude.

    5 km at M 3 rising linearly to 12 km at M 7 and above: small events
    nucleate anywhere in the upper crust, large ones near the base of the
    seismogenic layer (as the depths of NGA-West2 crustal events do).
    """
    m = np.asarray(mag, dtype=float)
    return np.clip(5.0 + 1.75 * (m - 3.0), 5.0, 12.0)


def scenario_table(mag: np.ndarray, rjb: np.ndarray, vs30: np.ndarray, rake: np.ndarray) -> pd.DataFrame:
    """Rupture-site contexts with geometry that follows magnitude (one row per element).

    Dip from the style of faulting, hypocentre depth from
    :func:`hypocentre_depth`, width from :func:`width_from_mag` bounded by the
    seismogenic layer, ztor from the hypocentre (:func:`ztor_from_hypocentre`).
    Sites sit on the footwall perpendicular to strike at Joyner-Boore distance
    ``rjb``: ``rx = -rjb``, ``ry0 = 0``, ``rrup = sqrt(rjb**2 + ztor**2)``.
    Returns every context column of the NGA-West2 GMPEs and gmlearn's models.
    """
    mag, rjb, vs30, rake = (np.asarray(a, dtype=float) for a in np.broadcast_arrays(mag, rjb, vs30, rake))
    dip = dip_from_rake(rake)
    hypo = hypocentre_depth(mag)
    width = width_from_mag(mag)
    ztor = ztor_from_hypocentre(hypo, width, dip)
    sin_d = np.sin(np.radians(dip))
    width = np.minimum(width, np.maximum((np.maximum(SEISMOGENIC_DEPTH_KM, hypo) - ztor) / sin_d, 1.0))
    return pd.DataFrame({
        "mag": mag, "rake": rake, "dip": dip, "ztor": ztor, "width": width, "hypo_depth": hypo,
        "rrup": np.sqrt(rjb**2 + ztor**2), "rjb": rjb, "rx": -rjb, "ry0": np.zeros_like(rjb), "repi": rjb,
        "rhypo": np.sqrt(rjb**2 + hypo**2), "vs30": vs30, "vs30measured": np.zeros(rjb.size, dtype=bool),
        "z1pt0": z1pt0_from_vs30(vs30), "z2pt5": z2pt5_from_vs30(vs30),
    })
