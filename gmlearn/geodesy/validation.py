"""Validation of GNSS velocity tables mapped onto the canonical columns.

Every reader maps its source onto ``station, lon, lat, ve, vn, se, sn, rho``
(and optionally ``vu, su``) as raw values plus the file line of each row, then
calls :func:`validate_velocities`. Bad rows are never dropped silently: each is
counted under one reason, listed (line, station) in
``DataFrame.attrs["report"]`` and summarised in a :class:`BadRowsWarning`, or
the first one raises :class:`~gmlearn.exceptions.FlatfileError` with
``on_bad="raise"``.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from gmlearn.exceptions import FlatfileError, SchemaError

__all__ = [
    "CANONICAL",
    "VERTICAL",
    "UNITS",
    "BAD_ROW_REASONS",
    "BadRowsWarning",
    "ReadReport",
    "validate_velocities",
    "check_velocity_table",
]

#: Canonical columns of a velocity table (velocities and sigmas in mm/yr, lon/lat in degrees).
CANONICAL: tuple[str, ...] = ("station", "lon", "lat", "ve", "vn", "se", "sn", "rho")
#: Optional vertical columns (mm/yr).
VERTICAL: tuple[str, ...] = ("vu", "su")
UNITS: dict[str, str] = {
    "lon": "degrees east, -180..180",
    "lat": "degrees north",
    "ve": "mm/yr",
    "vn": "mm/yr",
    "se": "mm/yr",
    "sn": "mm/yr",
    "rho": "correlation of east and north, -1 < rho < 1",
    "vu": "mm/yr",
    "su": "mm/yr",
}
#: Reasons a row is rejected, in the order they are checked (a row counts under its first reason).
BAD_ROW_REASONS: tuple[str, ...] = (
    "column_count",
    "missing_station",
    "non_numeric",
    "lat_out_of_range",
    "lon_out_of_range",
    "sigma_nonpositive",
    "rho_out_of_range",
    "duplicate_station",
)
_NUMERIC = ("lon", "lat", "ve", "vn", "se", "sn", "rho")
_ON_BAD = ("drop", "raise")
_DUPLICATES = ("latest", "first", "raise")


class BadRowsWarning(UserWarning):
    """Rows of a velocity file were rejected; counts and lines are in ``attrs["report"]``."""


class ReadReport(dict):
    """The read report kept in ``DataFrame.attrs["report"]``: a plain dict, treated as read-only.

    pandas deep-copies ``attrs`` on every operation; a report listing thousands
    of rejected lines would make each one cost milliseconds, so deep copies of
    a report share it instead.
    """

    def __deepcopy__(self, memo: dict) -> ReadReport:
        return self


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        msg = f"The {name!r} parameter must be one of {list(allowed)}. Got {value!r} instead."
        raise SchemaError(msg)


def _bad_masks(raw: pd.DataFrame, num: dict[str, np.ndarray]) -> list[tuple[str, str, np.ndarray]]:
    """(reason, column, mask) in checking order, before duplicates."""
    masks: list[tuple[str, str, np.ndarray]] = []
    if "_column_count" in raw:
        masks.append(("column_count", "line", raw["_column_count"].to_numpy(dtype=bool)))
    station = raw["station"].astype("string").str.strip()
    masks.append(("missing_station", "station", (station.isna() | (station == "")).to_numpy(dtype=bool)))
    for col in _NUMERIC:
        masks.append(("non_numeric", col, ~np.isfinite(num[col])))
    with np.errstate(invalid="ignore"):
        masks.append(("lat_out_of_range", "lat", np.abs(num["lat"]) > 90.0))
        masks.append(("lon_out_of_range", "lon", (num["lon"] < -180.0) | (num["lon"] > 360.0)))
        masks.append(("sigma_nonpositive", "se", num["se"] <= 0.0))
        masks.append(("sigma_nonpositive", "sn", num["sn"] <= 0.0))
        masks.append(("rho_out_of_range", "rho", np.abs(num["rho"]) >= 1.0))
    return masks


def _first_reason(masks: list[tuple[str, str, np.ndarray]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: index into ``masks`` of its first failing check (-1 if none)."""
    first = np.full(n, -1, dtype=int)
    for k, (_, _, mask) in enumerate(masks):
        first[(first < 0) & mask] = k
    return first, first >= 0


def _raise_first(raw: pd.DataFrame, masks: list, first: np.ndarray, source: str) -> None:
    pos = int(np.flatnonzero(first >= 0)[0])
    reason, column, _ = masks[first[pos]]
    line = int(raw["_line"].iloc[pos])
    value = raw[column].iloc[pos] if column in raw else None
    allowed = {
        "column_count": "the number of fields of the format",
        "missing_station": "a non-empty station id",
        "non_numeric": "a finite number",
        "lat_out_of_range": "-90 <= lat <= 90",
        "lon_out_of_range": "-180 <= lon <= 360",
        "sigma_nonpositive": "a sigma > 0 mm/yr",
        "rho_out_of_range": "-1 < rho < 1",
    }[reason]
    msg = f"{reason}: expected {allowed} (line {line} of the file; {int((first >= 0).sum())} bad row(s) in all)."
    raise FlatfileError(msg, file=source, column=column, row=pos + 1, value=value)


def _dedupe(
    table: pd.DataFrame, lines: np.ndarray, epoch: np.ndarray | None, policy: str, source: str
) -> tuple[np.ndarray, dict[str, Any]]:
    """Boolean keep-mask over ``table`` rows and the duplicate report."""
    n = len(table)
    station = table["station"].to_numpy(dtype=object)
    dup_any = pd.Series(station).duplicated(keep=False).to_numpy()
    info: dict[str, Any] = {"policy": policy, "stations": 0, "rows_dropped": 0, "conflicting_stations": 0}
    if not dup_any.any():
        return np.ones(n, dtype=bool), info
    if policy == "raise":
        pos = int(np.flatnonzero(dup_any)[0])
        others = lines[station == station[pos]].tolist()
        msg = (
            f"station {station[pos]!r} appears on lines {others}; pass duplicates='latest' or 'first' "
            f"to keep one row per station ({int(pd.Series(station[dup_any]).nunique())} duplicated stations)."
        )
        raise FlatfileError(msg, file=source, column="station", row=pos + 1, value=station[pos])
    order = np.arange(n)
    ep = order.astype(float) if epoch is None else np.where(np.isfinite(epoch), epoch, -np.inf)  # no epoch: oldest
    key = pd.DataFrame({"station": station, "epoch": ep, "order": order})
    if policy == "first":
        keep_idx = key.groupby("station", sort=False)["order"].min().to_numpy()
    else:  # latest epoch, ties broken by the later line
        keep_idx = key.sort_values(["epoch", "order"]).groupby("station", sort=False)["order"].last().to_numpy()
    keep = np.zeros(n, dtype=bool)
    keep[keep_idx] = True
    kept_v = table.loc[keep, ["station", "ve", "vn"]].set_index("station")
    dropped = table.loc[~keep, ["station", "ve", "vn"]]
    diff = (dropped[["ve", "vn"]].to_numpy() != kept_v.loc[dropped["station"]].to_numpy()).any(axis=1)
    info.update(
        stations=int(pd.Series(station[dup_any]).nunique()),
        rows_dropped=int((~keep).sum()),
        conflicting_stations=int(dropped.loc[diff, "station"].nunique()),
    )
    return keep, info


def _vertical(raw: pd.DataFrame, keep: np.ndarray) -> tuple[dict[str, np.ndarray], int]:
    """Vertical columns as floats; an invalid pair (non-finite or sigma <= 0) becomes NaN."""
    if not all(c in raw for c in VERTICAL):
        return {}, 0
    vu = pd.to_numeric(raw["vu"], errors="coerce").to_numpy(dtype=float)
    su = pd.to_numeric(raw["su"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(vu) | ~np.isfinite(su) | (su <= 0.0)
    vu[bad] = np.nan
    su[bad] = np.nan
    return {"vu": vu, "su": su}, int((bad & keep).sum())


def _summarise(report: dict[str, Any]) -> str:
    parts = [f"{v['count']} {k}" for k, v in report["dropped"].items() if v["count"]]
    return (
        f"{report['source']}: kept {report['n_kept']} of {report['n_rows']} rows; dropped "
        + ", ".join(parts)
        + ". Lines and stations are listed in DataFrame.attrs['report']['dropped']."
    )


def validate_velocities(
    raw: pd.DataFrame,
    *,
    source: str,
    fmt: str,
    on_bad: Literal["drop", "raise"] = "drop",
    duplicates: Literal["latest", "first", "raise"] = "latest",
    epoch: str | None = None,
    extra_report: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Validate raw rows and build the canonical velocity table.

    Parameters
    ----------
    raw
        One row per data line with the canonical columns (text or numbers, mm/yr),
        ``_line`` (1-based file line) and optionally ``_column_count`` (True where
        the line had the wrong number of fields), ``vu``/``su`` and an epoch column.
    source, fmt
        File name and format, recorded in the report and messages.
    on_bad
        ``"drop"`` rejects bad rows with a :class:`BadRowsWarning`; ``"raise"``
        raises :class:`~gmlearn.exceptions.FlatfileError` at the first one.
    duplicates
        Several rows for one station: keep the ``"latest"`` (largest ``epoch``
        value, else the last line), the ``"first"``, or ``"raise"``.
    epoch
        Column of ``raw`` ordering duplicate rows (e.g. the last observation epoch).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CANONICAL` (+ ``vu, su`` when given), lon wrapped to
        [-180, 180); ``attrs["report"]`` holds counts and lines of every
        rejected row, ``attrs["source"]``, ``attrs["format"]``, ``attrs["units"]``.
    """
    _check_choice("on_bad", on_bad, _ON_BAD)
    _check_choice("duplicates", duplicates, _DUPLICATES)
    n = len(raw)
    num = {c: pd.to_numeric(raw[c], errors="coerce").to_numpy(dtype=float) for c in _NUMERIC}
    masks = _bad_masks(raw, num)
    first, bad = _first_reason(masks, n)
    if on_bad == "raise" and bad.any():
        _raise_first(raw, masks, first, source)
    lines = raw["_line"].to_numpy(dtype=int)
    station = raw["station"].astype("string").str.strip().to_numpy(dtype=object)
    dropped: dict[str, dict[str, Any]] = {r: {"count": 0, "lines": [], "stations": []} for r in BAD_ROW_REASONS}
    for k, (reason, _, _) in enumerate(masks):
        hit = first == k
        dropped[reason]["count"] += int(hit.sum())
        dropped[reason]["lines"] += lines[hit].tolist()
        dropped[reason]["stations"] += [str(s) for s in station[hit]]
    table = pd.DataFrame({"station": station, **{c: num[c] for c in _NUMERIC}})
    vertical, n_vertical = _vertical(raw, ~bad)
    for col, arr in vertical.items():
        table[col] = arr
    ep = pd.to_numeric(raw[epoch], errors="coerce").to_numpy(dtype=float) if epoch else None
    good = np.flatnonzero(~bad)
    keep_good, dup_info = _dedupe(
        table.iloc[good].reset_index(drop=True), lines[good], None if ep is None else ep[good], duplicates, source
    )
    gone = good[~keep_good]
    dropped["duplicate_station"] = {
        "count": len(gone),
        "lines": lines[gone].tolist(),
        "stations": [str(s) for s in station[gone]],
    }
    out = table.iloc[good[keep_good]].reset_index(drop=True)
    out["station"] = out["station"].astype(str)
    out["lon"] = ((out["lon"] + 180.0) % 360.0) - 180.0
    report = ReadReport({
        "source": source,
        "format": fmt,
        "n_rows": n,
        "n_kept": len(out),
        "dropped": dropped,
        "duplicates": dup_info,
        "vertical_set_to_nan": n_vertical,
        **(extra_report or {}),
    })  # fmt: skip
    out.attrs = {"source": source, "format": fmt, "units": dict(UNITS), "report": report}
    if len(out) < n:
        warnings.warn(_summarise(report), BadRowsWarning, stacklevel=3)
    return out


def check_velocity_table(table: pd.DataFrame, *, require_sigma: bool = True) -> None:
    """Check that ``table`` has the canonical columns with usable values.

    Raises
    ------
    MissingColumnError
        A canonical column is absent (the message lists the columns given).
    SchemaError
        A value is not finite or a sigma is not positive (the message names the
        column, the station and the value).
    """
    from gmlearn.exceptions import MissingColumnError

    need = CANONICAL if require_sigma else ("station", "lon", "lat", "ve", "vn")
    missing = [c for c in need if c not in table.columns]
    if missing:
        msg = f"velocity table lacks column(s) {missing}; required {list(need)}, given {list(table.columns)}."
        raise MissingColumnError(msg)
    if len(table) == 0:
        raise SchemaError("velocity table has no rows.")
    for col in need[1:]:
        arr = table[col].to_numpy(dtype=float)
        bad = ~np.isfinite(arr)
        if col in ("se", "sn"):
            bad |= arr <= 0
        if col == "rho":
            bad |= np.abs(arr) >= 1
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = (
                f"column {col!r} ({UNITS.get(col, '')}) has {int(bad.sum())} unusable value(s); first at station "
                f"{table['station'].iloc[i]!r}: {float(arr[i])!r}."
            )
            raise SchemaError(msg)
