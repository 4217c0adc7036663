"""Validation of flatfiles mapped onto the vocabulary.

Every reader maps its source columns onto :mod:`gmlearn.schema` names and then
calls :func:`to_canonical`, which validates and converts in one place. A
problem raises :class:`~gmlearn.exceptions.FlatfileError` naming the file,
column, row (1-based data row; the file line is one more, for the header) and
value, before anything is written anywhere.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import FlatfileError, MissingColumnError
from gmlearn.schema import COLUMNS, IMT_LN_RANGE, TECTONIC_REGIONS, imt_string, parse_imt, sort_imts
from gmlearn.store.units import acc_factor, check_acceleration_units

__all__ = ["REQUIRED", "to_canonical", "check_pgv_unit", "PGV_PGA_RATIO_RANGE"]

#: Columns every flatfile must provide (after mapping). ``record_id`` may be
#: generated from event and station ids when a source has none.
REQUIRED: tuple[str, ...] = ("event_id", "station_id", "mag", "vs30")

#: At least one of these distances must be given.
DISTANCES: tuple[str, ...] = ("rrup", "rjb", "repi", "rhypo")

#: Accepted range of the median ratio PGV [cm/s] / PGA [g] over a file. Real
#: records sit between about 20 and 200; PGV given in m/s gives about 0.2-2.
PGV_PGA_RATIO_RANGE: tuple[float, float] = (5.0, 2000.0)

_PGV_FACTORS = {"cm/s": 1.0, "m/s": 100.0, "mm/s": 0.1}

#: Geometry checks: (shorter, longer, absolute tolerance km, relative tolerance). The Joyner-Boore
#: distance never exceeds the rupture distance; nor the epicentral one when the epicentre lies on the
#: rupture's surface projection, but catalogue epicentres and finite-fault models differ by up to
#: 9.3 km in the NZSMD flatfile, hence the wide tolerance there.
DISTANCE_ORDER: tuple[tuple[str, str, float, float], ...] = (
    ("rjb", "rrup", 0.5, 0.01),
    ("rjb", "repi", 15.0, 0.10),
)


def _data_row(position: int) -> int:
    return int(position) + 1


def _numeric(values: pd.Series, *, name: str, source: str, file: str) -> np.ndarray:
    """Convert a column to float, naming the first value that is not a number."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float)
    text = values.astype("string").str.strip()
    out = pd.to_numeric(text.replace("", pd.NA), errors="coerce")
    bad = out.isna().to_numpy(dtype=bool) & text.notna().to_numpy(dtype=bool) & (text.fillna("").to_numpy(dtype=object) != "")
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        msg = (
            f"{int(bad.sum())} non-numeric value(s) in {name!r}; expected a number "
            f"(line {pos + 2} of the file)."
        )
        raise FlatfileError(msg, file=file, column=source, row=_data_row(pos), value=values.iloc[pos])
    return out.to_numpy(dtype=float, na_value=np.nan)


def _check_range(arr: np.ndarray, *, name: str, source: str, file: str, raw: pd.Series) -> None:
    col = COLUMNS[name]
    lo = -np.inf if col.min is None else col.min
    hi = np.inf if col.max is None else col.max
    bad = np.isfinite(arr) & ((arr < lo) | (arr > hi))
    bad |= np.isinf(arr)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        unit = f" {col.unit}" if col.unit else ""
        msg = (
            f"{name!r} ({col.description}) must lie in [{col.min}, {col.max}]{unit}; "
            f"{int(bad.sum())} value(s) outside (line {pos + 2} of the file)."
        )
        raise FlatfileError(msg, file=file, column=source, row=_data_row(pos), value=raw.iloc[pos])


def _as_bool(values: pd.Series, *, name: str, source: str, file: str) -> np.ndarray:
    truthy = {"1", "true", "t", "yes", "y", "measured", "1.0"}
    falsy = {"0", "false", "f", "no", "n", "inferred", "estimated", "2", "0.0", "2.0"}
    text = values.astype("string").str.strip().str.lower()
    out = np.zeros(len(values), dtype=bool)
    for pos, val in enumerate(text.to_numpy(dtype=object)):
        if val is pd.NA or val is None or val == "" or val == "nan":
            continue
        if val in truthy:
            out[pos] = True
        elif val not in falsy:
            msg = f"{name!r} must be a boolean (1/0, true/false, measured/inferred)."
            raise FlatfileError(msg, file=file, column=source, row=_data_row(pos), value=values.iloc[pos])
    return out


def _blank_sentinels(raw: pd.DataFrame, sources: list[str], sentinels: np.ndarray) -> pd.DataFrame:
    """Replace sentinel values written as text (e.g. '-999' in an id column) by NA."""
    if not sentinels.size:
        return raw
    raw = raw.copy()
    for source in dict.fromkeys(sources):
        col = raw[source]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            continue
        num = pd.to_numeric(col.astype("string").str.strip(), errors="coerce")
        hit = num.isin(sentinels).to_numpy()
        if hit.any():
            raw[source] = col.astype(object).where(~hit, None)
    return raw


def check_pgv_unit(
    pgv_cms: np.ndarray, pga_g: np.ndarray, *, file: str, source: str, raw: pd.Series | None = None
) -> None:
    """Reject PGV whose median ratio to PGA shows a wrong unit.

    Parameters
    ----------
    pgv_cms, pga_g
        Linear PGV as converted to cm/s and PGA in g, shape (n_rows,).
    raw
        PGV as read from the file, reported in the error.
    """
    ok = np.isfinite(pgv_cms) & np.isfinite(pga_g) & (pgv_cms > 0) & (pga_g > 0)
    if ok.sum() < 1:
        return
    ratio = pgv_cms[ok] / pga_g[ok]
    median = float(np.median(ratio))
    lo, hi = PGV_PGA_RATIO_RANGE
    if lo <= median <= hi:
        return
    pos = int(np.flatnonzero(ok)[int(np.argmin(np.abs(ratio - median)))])
    hint = "m/s (multiply by 100)" if median < lo else "mm/s or another unit"
    msg = (
        f"PGV looks like the wrong unit: the median PGV/PGA ratio is {median:.3g} cm/s per g, "
        f"expected {lo:g}-{hi:g} for cm/s; the values look like {hint}. Pass the PGV unit "
        "of the file to the reader (pgv_unit='m/s')."
    )
    value = raw.iloc[pos] if raw is not None else float(pgv_cms[pos])
    raise FlatfileError(msg, file=file, column=source, row=_data_row(pos), value=value)


def _check_geometry(out: pd.DataFrame, columns: Mapping[str, str], raw: pd.DataFrame, file: str) -> None:
    """Refuse records whose distances contradict each other (see :data:`DISTANCE_ORDER`)."""
    for short, long, abs_tol, rel_tol in DISTANCE_ORDER:
        if short not in out or long not in out:
            continue
        a, b = out[short].to_numpy(dtype=float), out[long].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            bad = np.isfinite(a) & np.isfinite(b) & (a > b + np.maximum(abs_tol, rel_tol * b))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            msg = (f"{short} = {a[pos]:g} km exceeds {long} = {b[pos]:g} km ({int(bad.sum())} record(s)); {short} can "
                   f"be at most {long} (tolerance {abs_tol:g} km or {rel_tol:.0%}). Check the distance columns "
                   "(swapped, or in another unit).")
            raise FlatfileError(msg, file=file, column=columns.get(short, short), row=_data_row(pos),
                                value=raw[columns[short]].iloc[pos] if short in columns else a[pos])


def _map_tectonic(values: pd.Series, mapping: Mapping[str, str] | None, *, source: str, file: str) -> np.ndarray:
    lut = {k.lower(): v for k, v in (mapping or {}).items()}
    out = []
    for pos, raw in enumerate(values.astype("string").to_numpy(dtype=object)):
        if raw is pd.NA or raw is None or str(raw).strip() == "":
            out.append("unknown")
            continue
        key = str(raw).strip().lower()
        val = lut.get(key, key)
        if val not in TECTONIC_REGIONS:
            msg = f"Unknown tectonic region; allowed are {', '.join(TECTONIC_REGIONS)} (or pass a mapping)."
            raise FlatfileError(msg, file=file, column=source, row=_data_row(pos), value=raw)
        out.append(val)
    return np.asarray(out, dtype=object)


def _ids(values: pd.Series) -> pd.Series:
    """Identifiers as strings; integral floats lose their '.0'."""
    if pd.api.types.is_float_dtype(values):
        return values.map(lambda v: pd.NA if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v)))
    return values.astype("string").str.strip()


def _check_ids(out: pd.DataFrame, sources: Mapping[str, str], file: str) -> None:
    for name in ("event_id", "station_id", "record_id"):
        ids = out[name]
        missing = ids.isna() | (ids.astype("string") == "")
        if missing.any():
            pos = int(np.flatnonzero(missing.to_numpy())[0])
            msg = f"{name!r} is empty; every record needs an event, a station and a record id."
            raise FlatfileError(msg, file=file, column=sources.get(name, name), row=_data_row(pos), value="")
    dup = out["record_id"].duplicated(keep="first").to_numpy()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero((out["record_id"] == out["record_id"].iloc[pos]).to_numpy())[0])
        msg = (
            f"duplicate record id (first seen on row {_data_row(first)}); record ids must be unique "
            f"({int(dup.sum())} duplicate(s))."
        )
        raise FlatfileError(
            msg, file=file, column=sources.get("record_id", "record_id"), row=_data_row(pos),
            value=out["record_id"].iloc[pos],
        )


def to_canonical(
    raw: pd.DataFrame,
    columns: Mapping[str, str],
    imts: Mapping[str, str],
    *,
    file: str,
    pgv_unit: str = "cm/s",
    acc_unit: str = "g",
    sentinels: Sequence[float] = (),
    tectonic_map: Mapping[str, str] | None = None,
    required: Sequence[str] = REQUIRED,
) -> pd.DataFrame:
    """Validate a source table and return it in the vocabulary.

    Parameters
    ----------
    raw
        The flatfile as read, one row per record, in file order.
    columns
        Vocabulary name -> source column name, for non-IMT columns.
    imts
        IMT string (``"SA(0.2)"``) -> source column of *linear* values in g
        (PGA, SA) or ``pgv_unit`` (PGV).
    file
        Name of the source, used in error messages.
    pgv_unit
        ``"cm/s"``, ``"m/s"`` or ``"mm/s"``.
    acc_unit
        Unit of PGA and SA: ``"g"``, ``"cm/s2"`` (gal) or ``"m/s2"``. Whatever
        is given, the levels are checked against magnitude and distance, and
        SA and PGV against PGA (:mod:`gmlearn.store.units`).
    sentinels
        Values meaning "missing" (e.g. -999, -99999), replaced by NaN.
    tectonic_map
        Source label -> vocabulary tectonic region.
    required
        Vocabulary columns that must be present.

    Returns
    -------
    pandas.DataFrame
        One row per record, vocabulary columns plus one column per IMT holding
        natural logs (of g, or of cm/s for PGV); missing values are NaN.

    Raises
    ------
    MissingColumnError
        A required column is absent (names it and lists what was given).
    FlatfileError
        A value is not a number, out of range, duplicated, or in a wrong unit.
    """
    if pgv_unit not in _PGV_FACTORS:
        msg = f"The 'pgv_unit' parameter must be one of {sorted(_PGV_FACTORS)}. Got {pgv_unit!r} instead."
        raise ValueError(msg)
    acc = acc_factor(acc_unit)
    raw = raw.reset_index(drop=True)
    if raw.columns.duplicated().any():
        dup = sorted({str(c) for c in raw.columns[raw.columns.duplicated()]})
        msg = f"column(s) {dup} appear more than once; keep one of each (the first would be used silently)."
        raise FlatfileError(msg, file=file, column=dup[0])
    absent = [c for c in columns.values() if c not in raw.columns]
    absent += [c for c in imts.values() if c not in raw.columns]
    missing_vocab = [name for name in required if name not in columns]
    if not any(d in columns for d in DISTANCES):
        missing_vocab.append("rrup|rjb|repi|rhypo")
    if not imts:
        missing_vocab.append("an intensity measure (PGA, PGV or SA(T))")
    if absent or missing_vocab:
        need = sorted(set(absent)) + missing_vocab
        msg = (
            f"{file}: missing required column(s) {need}; the file has columns "
            f"{list(map(str, raw.columns))}."
        )
        raise MissingColumnError(msg)

    out = pd.DataFrame(index=raw.index)
    sentinel_set = np.asarray(list(sentinels), dtype=float)
    raw = _blank_sentinels(raw, [*columns.values()], sentinel_set)
    for name, source in columns.items():
        if name not in COLUMNS:
            msg = f"{name!r} is not a vocabulary column; see gmlearn.schema.COLUMNS."
            raise FlatfileError(msg, file=file, column=source)
        col = COLUMNS[name]
        values = raw[source]
        if name == "tectonic_region":
            out[name] = _map_tectonic(values, tectonic_map, source=source, file=file)
        elif name in ("event_id", "station_id", "record_id"):
            out[name] = _ids(values)
        elif col.dtype == "string":
            out[name] = values.astype("string")
        elif col.dtype == "bool":
            out[name] = _as_bool(values, name=name, source=source, file=file)
        else:
            arr = _numeric(values, name=name, source=source, file=file)
            if sentinel_set.size:
                arr = np.where(np.isin(arr, sentinel_set), np.nan, arr)
            _check_range(arr, name=name, source=source, file=file, raw=values)
            if name == "rake":  # 257 and -103 are the same slip direction
                arr = np.where(arr > 180.0, arr - 360.0, arr)
            out[name] = arr
    if "record_id" not in columns:
        out["record_id"] = out["event_id"].astype("string") + "_" + out["station_id"].astype("string")
    for name in ("mag", "vs30"):
        if name in out and out[name].isna().any():
            pos = int(np.flatnonzero(out[name].isna().to_numpy())[0])
            msg = f"{name!r} is missing; every record needs it."
            raise FlatfileError(msg, file=file, column=columns[name], row=_data_row(pos), value=raw[columns[name]].iloc[pos])
    _check_ids(out, columns, file)
    _check_geometry(out, columns, raw, file)
    if "tectonic_region" not in out:
        out["tectonic_region"] = "unknown"

    linear: dict[str, np.ndarray] = {}
    logs: dict[str, np.ndarray] = {}
    for imt, source in imts.items():
        name = imt_string(imt)
        arr = _numeric(raw[source], name=name, source=source, file=file)
        if sentinel_set.size:
            arr = np.where(np.isin(arr, sentinel_set), np.nan, arr)
        arr = arr * (_PGV_FACTORS[pgv_unit] if parse_imt(name).name == "PGV" else acc)
        bad = np.isfinite(arr) & (arr <= 0) | np.isinf(arr)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            msg = f"{name} must be a positive linear amplitude; {int(bad.sum())} value(s) are not (use NaN or a sentinel for missing)."
            raise FlatfileError(msg, file=file, column=source, row=_data_row(pos), value=raw[source].iloc[pos])
        linear[name] = arr
    check_acceleration_units(linear, out, raw, {imt_string(k): v for k, v in imts.items()}, file=file, acc_unit=acc_unit)
    for imt, source in imts.items():
        name = imt_string(imt)
        arr = linear[name]
        lo, hi = IMT_LN_RANGE[parse_imt(name).name]
        with np.errstate(divide="ignore", invalid="ignore"):
            ln = np.log(arr)
        out_of = np.isfinite(ln) & ((ln < lo) | (ln > hi))
        if out_of.any():
            pos = int(np.flatnonzero(out_of)[0])
            unit = parse_imt(name).unit
            msg = f"{name} must lie in [{np.exp(lo):.3g}, {np.exp(hi):.3g}] {unit}."
            raise FlatfileError(msg, file=file, column=source, row=_data_row(pos), value=raw[source].iloc[pos])
        logs[name] = ln
    if "PGV" in linear and "PGA" in linear:
        pgv_source = imts.get("PGV", "PGV")
        check_pgv_unit(linear["PGV"], linear["PGA"], file=file, source=pgv_source, raw=raw.get(pgv_source))
    out = pd.concat([out, pd.DataFrame(logs, index=out.index)], axis=1)
    ordered = [c for c in COLUMNS if c in out.columns] + sort_imts(linear)
    return out[ordered]
