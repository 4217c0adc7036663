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
- ``rrup``/``rjb``/``rx``/``ry0`` of records without a finite-fault model
  from a *virtual rupture* (Kaklamanos, Baise & Boore 2011): a planar
  rupture through the hypocentre, centred along strike, 60 % of the width
  below its top edge, built with OpenQuake's :class:`PlanarSurface` and
  measured with OpenQuake's distance methods. Width (and length, Wells &
  Coppersmith 1994) from magnitude, dip from the style of faulting, ztor
  from the hypocentre depth. Without a strike the distances are medians over
  strikes every 30 deg; without station coordinates (repi only) the site is
  placed ``repi`` km north of the epicentre and the strike is fanned.
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
    "length_from_mag",
    "virtual_rupture_distances",
    "STRIKE_FAN",
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


def length_from_mag(mag: np.ndarray) -> np.ndarray:
    """Subsurface rupture length (km), Wells & Coppersmith (1994), all slip types.

    ``log10(L) = -2.44 + 0.59 M`` (their Table 2A, RLD).
    """
    return 10.0 ** (-2.44 + 0.59 * np.asarray(mag, dtype=float))


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


#: Strikes (deg) over which distances are taken as medians when an event has no strike.
STRIKE_FAN: np.ndarray = np.arange(0.0, 360.0, 30.0)

_DISTANCES: tuple[str, ...] = ("rrup", "rjb", "rx", "ry0")
_EVENT_GEOMETRY: tuple[str, ...] = ("hypo_depth", "dip", "ztor", "width")


def virtual_rupture_distances(event: pd.Series, lon: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
    """Rrup, Rjb, Rx and Ry0 (km) of sites from a planar rupture around the hypocentre.

    Parameters
    ----------
    event
        Needs ``hypo_lon, hypo_lat, hypo_depth, dip, ztor, width``; ``strike``
        and ``length`` (default: Wells & Coppersmith 1994 from ``mag``) are
        used when finite. Without a strike the distances are medians over
        :data:`STRIKE_FAN`.
    lon, lat
        Site coordinates (deg), shape (n_sites,).

    Returns
    -------
    dict
        ``{"rrup", "rjb", "rx", "ry0"}`` -> array of shape (n_sites,).
    """
    from openquake.hazardlib.geo import Mesh

    def num(name: str) -> float:
        value = event.get(name, np.nan)
        return float(value) if value is not None and not pd.isna(value) else np.nan

    length = num("length")
    if not np.isfinite(length):
        length = float(length_from_mag(num("mag"))) if np.isfinite(num("mag")) else num("width")
    strike = num("strike")
    strikes = [strike] if np.isfinite(strike) else list(STRIKE_FAN)
    mesh = Mesh(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    out: dict[str, list[np.ndarray]] = {k: [] for k in _DISTANCES}
    for s in strikes:
        surface = _plane(num("hypo_lon"), num("hypo_lat"), num("hypo_depth"), s, num("dip"), num("ztor"),
                         max(num("width"), 0.1), max(length, 0.1))
        out["rrup"].append(np.asarray(surface.get_min_distance(mesh), dtype=float))
        out["rjb"].append(np.asarray(surface.get_joyner_boore_distance(mesh), dtype=float))
        out["rx"].append(np.asarray(surface.get_rx_distance(mesh), dtype=float))
        out["ry0"].append(np.asarray(surface.get_ry0_distance(mesh), dtype=float))
    return {k: np.median(np.vstack(v), axis=0) for k, v in out.items()}


def _repi(rows: pd.DataFrame, depth: float) -> np.ndarray:
    """Epicentral distance of each row; from rhypo and the depth where only rhypo is given."""
    nan = np.full(len(rows), np.nan)
    repi = rows["repi"].to_numpy(dtype=float) if "repi" in rows else nan
    if "rhypo" in rows:
        rhypo = rows["rhypo"].to_numpy(dtype=float)
        repi = np.where(np.isfinite(repi), repi, np.sqrt(np.maximum(rhypo**2 - depth**2, 0.0)))
    return repi


def _event_distances(rows: pd.DataFrame, event: pd.Series) -> dict[str, np.ndarray]:
    """Virtual-rupture distances of one event's rows (NaN where not computable).

    Sites with coordinates use the event's strike (fanned when missing);
    sites known only by repi (or rhypo) sit ``repi`` km north of the
    epicentre and always get the fanned strike, their azimuth being unknown.
    """
    from openquake.hazardlib.geo.geodetic import point_at

    n = len(rows)
    out = {k: np.full(n, np.nan) for k in _DISTANCES}
    nan = np.full(n, np.nan)
    lon = rows["lon"].to_numpy(dtype=float) if "lon" in rows else nan
    lat = rows["lat"].to_numpy(dtype=float) if "lat" in rows else nan
    event = event.copy()
    has_epi = all(np.isfinite(float(event.get(c, np.nan))) for c in ("hypo_lon", "hypo_lat"))
    placed = np.isfinite(lon) & np.isfinite(lat) & has_epi
    if placed.any():
        dist = virtual_rupture_distances(event, lon[placed], lat[placed])
        for k in _DISTANCES:
            out[k][placed] = dist[k]
    repi = _repi(rows, float(event["hypo_depth"]))
    by_repi = ~placed & np.isfinite(repi)
    if by_repi.any():
        if not has_epi:
            event["hypo_lon"], event["hypo_lat"] = 0.0, 0.0
        plon, plat = point_at(float(event["hypo_lon"]), float(event["hypo_lat"]), 0.0, repi[by_repi])
        event["strike"] = np.nan
        dist = virtual_rupture_distances(event, np.atleast_1d(plon), np.atleast_1d(plat))
        for k in _DISTANCES:
            out[k][by_repi] = dist[k]
    return out


def _geometry(df: pd.DataFrame) -> None:
    """Fill missing rrup, rjb, rx and ry0 from a virtual rupture per event, flagging them."""
    n = len(df)
    for name in _DISTANCES:
        if name not in df:
            df[name] = np.nan
    need = np.zeros(n, dtype=bool)
    for name in _DISTANCES:
        need |= ~np.isfinite(df[name].to_numpy(dtype=float))
    est = {k: np.full(n, np.nan) for k in _DISTANCES}
    if need.any() and all(c in df for c in _EVENT_GEOMETRY):
        for _, idx in df.index[need].to_series().groupby(df.loc[need, "event_id"]).groups.items():
            rows = df.loc[idx]
            event = rows.iloc[0]
            if not all(np.isfinite(float(event[c])) for c in _EVENT_GEOMETRY):
                continue
            dist = _event_distances(rows, event)
            pos = df.index.get_indexer(idx)
            for k in _DISTANCES:
                est[k][pos] = dist[k]
    for name in _DISTANCES:
        _fill(df, name, est[name])


def add_derived(table: pd.DataFrame, *, region: str = "global") -> pd.DataFrame:
    """Return a copy of a canonical table with missing features derived.

    Fills, where missing and computable: ``dip`` (from rake), ``width``,
    ``ztor``, ``z1pt0``, ``z2pt5``, and ``rrup``, ``rjb``, ``rx``, ``ry0``
    from a virtual rupture (:func:`virtual_rupture_distances`); sets the matching
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
    _geometry(df)
    for flag in ("vs30measured_estimated", "ztor_estimated", "width_estimated", "z1pt0_estimated", "z2pt5_estimated",
                 "rrup_estimated", "rjb_estimated", "rx_estimated", "ry0_estimated"):
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
