"""Station observations for conditioning: reading and validation.

A station table has one row per station: ``station_id``, ``lon``, ``lat``,
``vs30`` (m/s) and one column per observed IMT (``PGA``, ``SA(1.0)``, ...).
IMT values are linear (g for PGA/SA, cm/s for PGV) unless ``values="ln"``.

Handling of bad input (documented in ``docs/shakemap.md``):

- duplicate ``station_id`` -> :class:`StationError` listing the duplicates;
- missing or impossible ``vs30``, ``lon`` or ``lat`` -> :class:`StationError`
  naming the station, column and value;
- a NaN observation means *not observed*: that station is not used for that
  IMT (it still counts for the others); a station with no observation at all
  -> :class:`StationError`;
- a zero or negative linear value -> :class:`StationError`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gmlearn.exceptions import MissingColumnError
from gmlearn.schema import IMT_LN_RANGE, imt_string, is_imt
from gmlearn.shakemap.errors import StationError

__all__ = ["read_stations", "validate_stations", "stations_from_records", "REQUIRED_STATION_COLUMNS"]

#: Columns every station table needs (besides at least one IMT column).
REQUIRED_STATION_COLUMNS: tuple[str, ...] = ("station_id", "lon", "lat", "vs30")


def read_stations(path: str | Path, imts: list[str] | None = None, *, values: str = "linear") -> pd.DataFrame:
    """Read and validate a station CSV; see :func:`validate_stations`."""
    path = Path(path)
    if not path.is_file():
        msg = f"Station file {str(path)!r} does not exist."
        raise FileNotFoundError(msg)
    frame = pd.read_csv(path, dtype={"station_id": str})
    return validate_stations(frame, imts, values=values, source=path.name)


def validate_stations(
    frame: pd.DataFrame,
    imts: list[str] | None = None,
    *,
    values: str = "linear",
    source: str = "stations",
) -> pd.DataFrame:
    """Check a station table and return it with ln IMT columns.

    Parameters
    ----------
    frame
        One row per station (see the module docstring).
    imts
        IMT columns to use; default: every IMT-named column.
    values
        ``"linear"`` (g, cm/s) or ``"ln"`` (natural logs of those).
    source
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame
        ``station_id`` (str), ``lon``, ``lat``, ``vs30`` and the IMT columns in
        natural-log units (NaN where not observed), plus the other columns given.

    Raises
    ------
    MissingColumnError, StationError
    """
    if values not in ("linear", "ln"):
        msg = f"The 'values' parameter must be 'linear' or 'ln'. Got {values!r} instead."
        raise StationError(msg)
    missing = [c for c in REQUIRED_STATION_COLUMNS if c not in frame]
    if missing:
        msg = f"{source}: station table requires column(s) {missing}; it has {list(map(str, frame.columns))}."
        raise MissingColumnError(msg)
    out = frame.reset_index(drop=True).copy()
    out["station_id"] = out["station_id"].astype(str)
    dup = out["station_id"][out["station_id"].duplicated(keep=False)].unique().tolist()
    if dup:
        msg = f"{source}: duplicate station_id values {dup[:10]}; each station must appear once (one row per station)."
        raise StationError(msg)
    limits = {"lon": (-180.0, 360.0), "lat": (-90.0, 90.0), "vs30": (50.0, 5000.0)}
    for col, (lo, hi) in limits.items():
        vals = pd.to_numeric(out[col], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(vals) | (vals < lo) | (vals > hi)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            what = "missing" if not np.isfinite(vals[k]) else f"{float(vals[k])!r}"
            msg = (f"{source}: column {col!r} is {what} for station {out['station_id'].iloc[k]!r} "
                   f"({int(bad.sum())} station(s) in all); it must be in [{lo:g}, {hi:g}].")
            raise StationError(msg)
        out[col] = vals
    names = [c for c in out.columns if is_imt(str(c))] if imts is None else list(imts)
    if not names:
        msg = f"{source}: no IMT columns (e.g. 'PGA', 'SA(1.0)') in the station table; it has {list(out.columns)}."
        raise StationError(msg)
    canon = {}
    for name in names:
        if name not in out:
            alt = [c for c in out.columns if is_imt(str(c)) and imt_string(str(c)) == imt_string(name)]
            if not alt:
                msg = f"{source}: station table has no column for IMT {name!r}; it has {list(out.columns)}."
                raise MissingColumnError(msg)
            name = alt[0]
        canon[name] = imt_string(name)
    for col, imt in canon.items():
        vals = pd.to_numeric(out[col], errors="coerce").to_numpy(float)
        if values == "linear":
            nonpos = np.isfinite(vals) & (vals <= 0)
            if nonpos.any():
                k = int(np.flatnonzero(nonpos)[0])
                msg = (f"{source}: column {col!r} has {float(vals[k])!r} for station {out['station_id'].iloc[k]!r}; "
                       "linear intensity values must be > 0 (use NaN for 'not observed').")
                raise StationError(msg)
            with np.errstate(divide="ignore", invalid="ignore"):
                vals = np.log(vals)
        lo, hi = IMT_LN_RANGE.get("SA" if imt.startswith("SA") else imt, (-np.inf, np.inf))
        bad = np.isfinite(vals) & ((vals < lo) | (vals > hi))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            msg = (f"{source}: column {col!r} value for station {out['station_id'].iloc[k]!r} is outside the plausible "
                   f"range (ln value {vals[k]:.3g} not in [{lo:.3g}, {hi:.3g}]); check the units ({values}).")
            raise StationError(msg)
        out = out.drop(columns=[col])
        out[imt] = vals
    imt_cols = list(dict.fromkeys(canon.values()))
    none = ~np.isfinite(out[imt_cols].to_numpy(float)).any(axis=1)
    if none.any():
        ids = out["station_id"][none].tolist()
        msg = (f"{source}: station(s) {ids[:10]} have no finite observation for any of {imt_cols}; "
               "drop them or give at least one value.")
        raise StationError(msg)
    out.attrs["imts"] = imt_cols
    return out


def stations_from_records(records: pd.DataFrame, imts: list[str]) -> pd.DataFrame:
    """Station table from one event's records of a feature table (ln IMT columns, e.g. ``datasets.load("nzsmd")``).

    Keeps ``station_id, lon, lat, vs30`` (and ``z1pt0``, ``site_class``,
    ``tsite`` where present) and the ln ``imts``; validated by :func:`validate_stations`.
    """
    if "event_id" in records and records["event_id"].nunique() > 1:
        msg = f"stations_from_records takes the records of one event; got {records['event_id'].nunique()} events."
        raise StationError(msg)
    keep = [c for c in ("station_id", "lon", "lat", "vs30", "z1pt0", "site_class", "tsite") if c in records]
    frame = records[keep + list(imts)].drop_duplicates("station_id")
    return validate_stations(frame, list(imts), values="ln", source="records")
