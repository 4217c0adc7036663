"""Cross-checks of a flatfile's own numbers: coordinates against distances.

A station-hypocentre distance recomputed from the coordinates (great circle,
OpenQuake's :func:`~openquake.hazardlib.geo.geodetic.geodetic_distance`) must
agree with the file's epicentral distance within ``max(5 km, 5 %)``; where the
file gives no repi, the hypocentral distance is compared with rhypo. A record
that disagrees has a coordinate (or distance) typo, and a rupture built around
its hypocentre would sit in the wrong place: it is refused, or dropped and
counted on request.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gmlearn.exceptions import FlatfileError

__all__ = ["DISTANCE_TOLERANCE_KM", "DISTANCE_TOLERANCE_FRACTION", "ON_MISMATCH", "check_station_distances"]

#: Absolute and relative tolerance between recomputed and given distances.
DISTANCE_TOLERANCE_KM = 5.0
DISTANCE_TOLERANCE_FRACTION = 0.05

#: Allowed values of ``on_distance_mismatch``.
ON_MISMATCH: tuple[str, ...] = ("raise", "drop")


def _recomputed(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Given distance, recomputed distance and which kind (True: repi) per row (NaN where not checkable)."""
    from openquake.hazardlib.geo.geodetic import geodetic_distance

    n = len(table)
    nan = np.full(n, np.nan)

    def col(name: str) -> np.ndarray:
        return table[name].to_numpy(dtype=float) if name in table else nan

    epi = geodetic_distance(col("hypo_lon"), col("hypo_lat"), col("lon"), col("lat"))
    repi, rhypo, depth = col("repi"), col("rhypo"), col("hypo_depth")
    use_repi = np.isfinite(repi)
    given = np.where(use_repi, repi, rhypo)
    computed = np.where(use_repi, epi, np.hypot(epi, depth))
    return given, computed, use_repi


def check_station_distances(
    table: pd.DataFrame, *, file: str, on_mismatch: str = "raise", row_numbers: np.ndarray | None = None,
    sources: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Refuse (or drop) records whose coordinates contradict their repi/rhypo.

    Parameters
    ----------
    table
        Canonical table (``hypo_lat``, ``hypo_lon``, ``lat``, ``lon`` and
        ``repi`` or ``rhypo`` + ``hypo_depth``); rows lacking any of them are
        not checked.
    file
        Source name for messages.
    on_mismatch
        ``"raise"``: :class:`FlatfileError` naming the first record, its row,
        both coordinate pairs and both distances. ``"drop"``: remove such rows.
    row_numbers
        1-based file row of each table row (default: position + 1).
    sources
        Vocabulary name -> source column, to name the file's columns.

    Returns
    -------
    (pandas.DataFrame, list of str)
        The table (rows dropped if asked, index reset) and the dropped record ids.
    """
    if on_mismatch not in ON_MISMATCH:
        msg = f"The 'on_distance_mismatch' parameter must be one of {list(ON_MISMATCH)}. Got {on_mismatch!r} instead."
        raise ValueError(msg)
    if not len(table) or not {"hypo_lat", "hypo_lon", "lat", "lon"} <= set(table.columns):
        return table, []
    if "repi" not in table and "rhypo" not in table:
        return table, []
    given, computed, use_repi = _recomputed(table)
    tol = np.maximum(DISTANCE_TOLERANCE_KM, DISTANCE_TOLERANCE_FRACTION * np.abs(given))
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(given) & np.isfinite(computed) & (np.abs(given - computed) > tol)
    if not bad.any():
        return table, []
    ids = table["record_id"].astype(str).to_numpy()
    if on_mismatch == "drop":
        return table[~bad].reset_index(drop=True), [str(i) for i in ids[bad]]
    i = int(np.flatnonzero(bad)[0])
    row = int(row_numbers[i]) if row_numbers is not None else i + 1
    kind = "epicentral" if use_repi[i] else "hypocentral"
    name = "repi" if use_repi[i] else "rhypo"
    source = (sources or {}).get(name, name)
    shown = name if source == name else f"{name} ({source!r})"
    r = table.iloc[i]
    msg = (
        f"record {ids[i]!r}: the station at (lat {r['lat']:.4f}, lon {r['lon']:.4f}) is {computed[i]:.1f} km "
        f"({kind}, great circle) from the hypocentre at (lat {r['hypo_lat']:.4f}, lon {r['hypo_lon']:.4f}), "
        f"but the file's {shown} is {given[i]:.1f} km (tolerance {tol[i]:.1f} km = max({DISTANCE_TOLERANCE_KM:g} km, "
        f"{DISTANCE_TOLERANCE_FRACTION:.0%})); a coordinate or distance is wrong. {int(bad.sum())} record(s) "
        "disagree; fix them, or pass on_distance_mismatch='drop' to leave them out (counted in the report)."
    )
    raise FlatfileError(msg, file=file, column=source, row=row, value=float(given[i]))
