"""Reader for flatfiles that use (or are mapped onto) the vocabulary.

A column is recognised, in this order of precedence, when

1. ``mapping`` names it (vocabulary name or IMT string -> column);
2. its name is a vocabulary name (``event_id``, ``mag``, ``rrup``, ``vs30`` ...;
   case and surrounding blanks ignored);
3. its name is in :data:`gmlearn.store.readers.aliases.COLUMN_ALIASES`, the
   names ESM 2018, eGSIM, NGA-West1/-West2 and Kaklamanos & Baise use for the
   same quantity (``EMEC_Mw``, ``ev_depth_km``, ``evt_id``, ``sta_lat``,
   ``ClstD (km)``, ``Rjb`` ...), converted to vocabulary units;
4. its name is an IMT string (``PGA``, ``PGV``, ``SA(0.2)``, ``SA(1)``), holding
   *linear* PGA/SA in g and PGV in ``pgv_unit`` (natural logs with
   ``log_values=True``), or of an IMT family of
   :data:`~gmlearn.store.readers.aliases.IMT_PATTERNS` (ESM ``rotD50_pga`` and
   ``rotD50_T0_200`` in cm/s², NGA ``PGA (g)`` and ``T0.200S``).

A column matched at a lower precedence than another column of the same
meaning (``magnitude`` next to ``mag``) is ignored, unless the alias table
marks it a fallback (ESM ``Mw`` under ``EMEC_Mw``): then it fills the rows the
preferred column leaves blank. Layout rules fill what no single column holds:
a station id from ESM's network, station and location codes, a rake from a
style-of-faulting code (ESM ``fm_type_code``, NGA ``Mechanism Based on Rake
Angle``), ``vs30measured`` from ESM's ``vs30_meas_type``.

``df.attrs["report"]`` (a :class:`~gmlearn.store.readers.report.ReadReport`;
``print`` it) says what was mapped, converted, filled, derived, ignored and
dropped; ``df.attrs["ignored_columns"]`` lists the ignored columns.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gmlearn.exceptions import FlatfileError, InvalidIMTError, SchemaError
from gmlearn.schema import COLUMNS, imt_string, is_imt
from gmlearn.store.readers.aliases import (
    COLUMN_ALIASES,
    LAYOUT_SIGNATURES,
    MECHANISM_CODES,
    STATION_PARTS,
    imt_of_pattern,
    normalise,
)
from gmlearn.store.readers.consistency import check_station_distances
from gmlearn.store.readers.files import read_csv, read_parquet
from gmlearn.store.readers.report import ReadReport
from gmlearn.store.validation import to_canonical

__all__ = ["ALIASES", "read_generic"]

#: Other names -> vocabulary (a view of
#: :data:`gmlearn.store.readers.aliases.COLUMN_ALIASES` without units and ranks).
ALIASES: dict[str, str] = {name: alias.target for name, alias in COLUMN_ALIASES.items()}

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def _load(source: str | os.PathLike[str] | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The table and the name used for it in messages (``;``-separated CSV is detected)."""
    if isinstance(source, pd.DataFrame):
        return source, "<DataFrame>"
    path = Path(source)
    name = path.name.lower()
    if not name.endswith(_CSV_SUFFIXES + _PARQUET_SUFFIXES):
        msg = (
            f"Cannot tell the format of {str(path)!r} from its name; expected one of "
            f"{', '.join(_CSV_SUFFIXES + _PARQUET_SUFFIXES)}, or pass a DataFrame."
        )
        raise ValueError(msg)
    if not path.is_file():
        msg = f"No flatfile at {str(path)!r}."
        raise FileNotFoundError(msg)
    if name.endswith(_PARQUET_SUFFIXES):
        return read_parquet(path), str(path)
    header = [str(c) for c in read_csv(path, nrows=0).columns]
    sep = ";" if len(header) == 1 and header[0].count(";") >= 2 else ","
    names = header[0].split(";") if sep == ";" else header
    codes = {c: str for c in names if normalise(c) in STATION_PARTS}  # keep "00" a code, not 0
    return read_csv(path, sep=sep, low_memory=False, dtype=codes or None), str(path)


def _imt_of(name: str) -> str | None:
    """Canonical IMT string of a column name, or None (``pga`` counts as PGA)."""
    for text in (name, name.upper()):
        if is_imt(text):
            return imt_string(text)
    return None


def _claim(found: dict[str, str], target: str, column: str, file: str) -> None:
    if target in found:
        msg = (
            f"columns {found[target]!r} and {column!r} both give {target!r}; "
            f"pass mapping={{{target!r}: <the column to use>}}."
        )
        raise FlatfileError(msg, file=file, column=column)
    found[target] = column


def _from_mapping(mapping: Mapping[str, str], file: str) -> tuple[dict[str, str], dict[str, str]]:
    """Split a user mapping into vocabulary columns and IMTs, checking its keys."""
    columns: dict[str, str] = {}
    imts: dict[str, str] = {}
    for key, column in mapping.items():
        if key in COLUMNS:
            columns[key] = column
            continue
        try:
            imt = imt_string(key)
        except InvalidIMTError:
            msg = (
                f"mapping key {key!r} is neither a vocabulary column ({', '.join(COLUMNS)}) "
                "nor an IMT ('PGA', 'PGV', 'SA(T)')."
            )
            raise SchemaError(msg) from None
        _claim(imts, imt, column, file)
    return columns, imts


@dataclass
class _Plan:
    """Where each vocabulary column and IMT comes from, and what else to do."""

    columns: dict[str, str]
    imts: dict[str, str]
    fills: dict[str, list[str]] = field(default_factory=dict)
    scales: dict[str, float] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def _candidate(col: str) -> tuple[str, int, bool, float] | None:
    """(target, rank, fallback, scale) of a column name, or None when it means nothing here."""
    key = normalise(col)
    if key in COLUMNS:
        return key, 0, False, 1.0
    if key in COLUMN_ALIASES:
        a = COLUMN_ALIASES[key]
        return a.target, a.rank, a.fallback, a.scale
    if (imt := _imt_of(col.strip())) is not None:
        return imt, 0, False, 1.0
    if (hit := imt_of_pattern(col)) is not None:
        return hit[0], 1, False, hit[1].scale
    return None


def _resolve(names: Sequence[object], mapping: Mapping[str, str] | None, file: str) -> _Plan:
    """Vocabulary -> column, IMT -> column, fallbacks, unit factors and ignored columns."""
    columns, imts = _from_mapping(mapping or {}, file)
    used = set(columns.values()) | set(imts.values())
    groups: dict[str, list[tuple[int, bool, str, float]]] = {}
    for col in (str(c) for c in names):
        if col in used or (cand := _candidate(col)) is None:
            continue
        target, rank, fallback, scale = cand
        groups.setdefault(target, []).append((rank, fallback, col, scale))
    plan = _Plan(columns, imts)
    for target, cands in groups.items():
        into = columns if target in COLUMNS else imts
        if target in into:  # the mapping chose
            continue
        cands.sort(key=lambda c: c[0])
        best = cands[0][0]
        found: dict[str, str] = {}
        for rank, _, col, scale in cands:
            if rank == best:
                _claim(found, target, col, file)
                plan.scales[col] = scale
        into[target] = found[target]
        for rank, fallback, col, scale in cands:
            if rank > best and fallback:
                plan.fills.setdefault(target, []).append(col)
                plan.scales[col] = scale
    taken = set(columns.values()) | set(imts.values()) | {c for cols in plan.fills.values() for c in cols}
    plan.ignored = [str(c) for c in names if str(c) not in taken]
    return plan


def _blank(values: pd.Series, sentinels: Sequence[float]) -> np.ndarray:
    """True where a cell is missing: NaN, blank text or a sentinel."""
    text = values.astype("string").str.strip()
    num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out = values.isna().to_numpy() | (text.fillna("") == "").to_numpy(dtype=bool)
    if len(sentinels):
        out |= np.isin(num, np.asarray(list(sentinels), dtype=float))
    return out


def _transform(values: pd.Series, func: Callable[[np.ndarray], np.ndarray], sentinels: Sequence[float]) -> pd.Series:
    """func() of the numbers in a column; text, blanks and sentinels stay for validation to judge."""
    text = values.astype("string").str.strip()
    num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(num) & ~np.isin(num, np.asarray(list(sentinels), dtype=float))
    out = values.astype("object").copy()
    with np.errstate(over="ignore"):
        out[ok] = func(num[ok])
    return out


def _exp(values: pd.Series, sentinels: Sequence[float]) -> pd.Series:
    """exp() of the numbers in a column of natural logs; text and sentinels stay."""
    return _transform(values, np.exp, sentinels)


def _by_key(raw: pd.DataFrame) -> dict[str, str]:
    """Normalised name -> column as written (first one wins)."""
    out: dict[str, str] = {}
    for col in raw.columns:
        out.setdefault(normalise(col), str(col))
    return out


def _fill_fallbacks(raw: pd.DataFrame, plan: _Plan, sentinels: Sequence[float], report: ReadReport) -> dict[str, np.ndarray]:
    """Fill blanks of preferred columns from their fallbacks; rows filled per target."""
    filled_rows: dict[str, np.ndarray] = {}
    for target, fillers in plan.fills.items():
        primary = plan.columns.get(target) or plan.imts[target]
        any_filled = np.zeros(len(raw), dtype=bool)
        for col in fillers:
            gap = _blank(raw[primary], sentinels) & ~_blank(raw[col], sentinels)
            if gap.any():
                raw[primary] = raw[primary].astype("object").where(~gap, raw[col])
                report["filled"].setdefault(target, {})[col] = int(gap.sum())
                any_filled |= gap
        filled_rows[target] = any_filled
    return filled_rows


def _station_from_parts(raw: pd.DataFrame, plan: _Plan, report: ReadReport) -> None:
    """ESM: station id = network.station(.location) when the file has no station id column."""
    keys = _by_key(raw)
    if "station_id" in plan.columns or "station_code" not in keys:
        return
    parts = [keys[p] for p in STATION_PARTS if p in keys]
    text = [raw[p].astype("string").str.strip().fillna("") for p in parts]
    ids = text[0]
    for more in text[1:]:
        ids = ids.str.cat(more, sep=".").str.rstrip(".")
    ids = ids.where(text[parts.index(keys["station_code"])] != "", None)
    raw["station_id"] = ids
    plan.columns["station_id"] = "station_id"
    plan.ignored = [c for c in plan.ignored if c not in parts]
    report["derived"]["station_id"] = " + ".join(parts) + " (joined with '.')"


def _rake_from_mechanism(raw: pd.DataFrame, plan: _Plan, sentinels: Sequence[float], report: ReadReport) -> None:
    """A rake from a style-of-faulting code where the file gives none."""
    keys = _by_key(raw)
    found = [(keys[k], codes) for k, codes in MECHANISM_CODES.items() if k in keys]
    if not found:
        return
    col, codes = found[0]
    text = raw[col].astype("string").str.strip().str.lower().fillna("")
    text = text.str.replace(r"\.0$", "", regex=True)
    rake = text.map(lambda c: codes.get(c, np.nan)).to_numpy(dtype=float)
    if "rake" in plan.columns:
        gap = _blank(raw[plan.columns["rake"]], sentinels) & np.isfinite(rake)
        source = plan.columns["rake"]
        raw[source] = raw[source].astype("object").where(~gap, rake)
    else:
        gap = np.isfinite(rake)
        source = f"rake (from {col})"
        raw[source] = rake
        plan.columns["rake"] = source
    plan.ignored = [c for c in plan.ignored if c != col]
    unknown = sorted({c for c in text[~np.isfinite(rake)] if c})
    note = f"{col} on {int(gap.sum())} row(s)" + (f"; codes without a rake: {unknown}" if unknown else "")
    report["derived"]["rake"] = note


def _vs30_measured(raw: pd.DataFrame, plan: _Plan, vs30_filled: np.ndarray | None, report: ReadReport) -> None:
    """ESM: vs30 measured where ``vs30_meas_type`` is given; never where vs30 came from a fallback."""
    keys = _by_key(raw)
    if "vs30measured" in plan.columns:
        if vs30_filled is not None and vs30_filled.any():
            src = plan.columns["vs30measured"]
            raw[src] = raw[src].astype("object").where(~vs30_filled, "0")
        return
    if "vs30_meas_type" not in keys:
        if vs30_filled is None or not vs30_filled.any():
            return
        flag = np.where(vs30_filled, "0", None)
        how = "vs30 fallback rows (inferred)"
    else:
        col = keys["vs30_meas_type"]
        given = ~_blank(raw[col], ())
        flag = np.where(given, "1", "0").astype(object)
        if vs30_filled is not None:
            flag[vs30_filled] = "0"
        plan.ignored = [c for c in plan.ignored if c != col]
        how = f"{col} (given: measured; blank or vs30 from a fallback: inferred)"
    raw["vs30measured (derived)"] = flag
    plan.columns["vs30measured"] = "vs30measured (derived)"
    report["derived"]["vs30measured"] = how


#: Columns a record cannot be kept without, and values that let such rows pass validation
#: before they are dropped (so error messages keep the file's row numbers).
_ESSENTIAL: dict[str, object] = {"event_id": None, "station_id": None, "mag": 5.0, "vs30": 760.0}


def _incomplete(raw: pd.DataFrame, plan: _Plan, sentinels: Sequence[float]) -> tuple[pd.DataFrame, np.ndarray, dict[str, int]]:
    """Rows missing an id, the magnitude or vs30: placeholders in, a mask of them, counts per column."""
    gone = np.zeros(len(raw), dtype=bool)
    counts: dict[str, int] = {}
    raw = raw.copy()
    for name, placeholder in _ESSENTIAL.items():
        src = plan.columns.get(name)
        if src is None or src not in raw:
            continue
        blank = _blank(raw[src], sentinels)
        if blank.any():
            counts[f"{name} ({src!r})"] = int(blank.sum())
            fill = placeholder if placeholder is not None else pd.Series([f"__missing_{i}" for i in range(len(raw))], index=raw.index)
            raw[src] = raw[src].astype("object").where(~blank, fill)
            gone |= blank
    return raw, gone, counts


def _layouts(names: Sequence[object]) -> list[str]:
    keys = {normalise(c) for c in names}
    return [name for name, sig in LAYOUT_SIGNATURES.items() if all(s in keys for s in sig)]


def _prepare(
    raw: pd.DataFrame, plan: _Plan, *, sentinels: Sequence[float], log_values: bool, report: ReadReport,
) -> pd.DataFrame:
    """A copy of ``raw`` in vocabulary units with fallbacks filled and layout rules applied."""
    raw = raw.copy()
    imt_cols = set(plan.imts.values()) | {c for t, cols in plan.fills.items() if t in plan.imts for c in cols}
    if log_values:
        for col in imt_cols & {str(c) for c in raw.columns}:
            raw[col] = _exp(raw[col], sentinels)
    for col, factor in plan.scales.items():
        if factor != 1.0 and col in raw:
            raw[col] = _transform(raw[col], lambda x, f=factor: x * f, sentinels)
            report["converted"][col] = factor
    filled = _fill_fallbacks(raw, plan, sentinels, report)
    _station_from_parts(raw, plan, report)
    _rake_from_mechanism(raw, plan, sentinels, report)
    _vs30_measured(raw, plan, filled.get("vs30"), report)
    return raw


def read_generic(
    path_or_frame: str | os.PathLike[str] | pd.DataFrame,
    *,
    mapping: Mapping[str, str] | None = None,
    pgv_unit: str = "cm/s",
    sentinels: Sequence[float] = (),
    tectonic_map: Mapping[str, str] | None = None,
    log_values: bool = False,
    on_distance_mismatch: str = "raise",
    drop_incomplete: bool = False,
) -> pd.DataFrame:
    """Read a flatfile whose columns use (or are mapped onto) the vocabulary.

    Parameters
    ----------
    path_or_frame
        CSV (``.csv``, ``.csv.gz`` ...; ``,`` or ``;`` separated) or Parquet
        (``.parquet``) file, or a DataFrame (not modified), one row per record.
    mapping
        Vocabulary name or IMT string -> column, for columns named otherwise,
        e.g. ``{"mag": "Mw", "rrup": "Rrup_km", "SA(1.0)": "psa_1s"}``.
    pgv_unit
        Unit of the PGV column: ``"cm/s"``, ``"m/s"`` or ``"mm/s"``.
    sentinels
        Values that mean "missing" (e.g. ``(-999,)``); blanks always do.
    tectonic_map
        Source label -> tectonic region of :data:`gmlearn.schema.TECTONIC_REGIONS`.
    log_values
        True if the IMT columns hold natural logs of g (PGA, SA) or of
        ``pgv_unit`` (PGV) rather than linear values.
    on_distance_mismatch
        A record whose station-hypocentre great-circle distance disagrees with
        its own repi (rhypo) by more than max(5 km, 5 %): ``"raise"`` (the
        error names the record, both coordinate pairs and both distances) or
        ``"drop"`` (left out and counted in the report).
    drop_incomplete
        True: records without an event id, station id, magnitude (after
        fallbacks: ESM ``EMEC_Mw`` then ``Mw``) or vs30 are dropped and
        counted in the report; False: validation raises on the first one.

    Returns
    -------
    pandas.DataFrame
        One row per record: vocabulary columns, then one column per IMT with
        natural logs of g (PGA, SA) or cm/s (PGV). Without a ``record_id``
        column, ids are ``"<event_id>_<station_id>"``. ``attrs`` holds
        ``source``, ``format`` (``"generic"``), ``source_columns`` (name ->
        column used), ``ignored_columns``, ``dropped_record_ids`` and
        ``report`` (a :class:`~gmlearn.store.readers.report.ReadReport`).

    Raises
    ------
    MissingColumnError
        A required column (event_id, station_id, mag, vs30, a distance, an
        IMT) or a mapped column is absent.
    FlatfileError
        A value is not a number, out of range, duplicated or in a wrong unit;
        two columns give the same quantity; or coordinates contradict repi.
    SchemaError
        A ``mapping`` key is neither a vocabulary name nor an IMT.
    """
    raw, file = _load(path_or_frame)
    plan = _resolve(list(raw.columns), mapping, file)
    report = ReadReport(source=file, format="generic", layouts=_layouts(raw.columns), rows_read=len(raw))
    prepared = _prepare(raw, plan, sentinels=sentinels, log_values=log_values, report=report)
    gone = np.zeros(len(prepared), dtype=bool)
    if drop_incomplete:
        prepared, gone, counts = _incomplete(prepared, plan, sentinels)
        if gone.any():
            what = ", ".join(f"{k}: {v}" for k, v in counts.items())
            report["dropped"][f"missing {what}"] = int(gone.sum())
    with warnings.catch_warnings():
        # one column insert per IMT inside to_canonical; a pandas speed note only
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        out = to_canonical(
            prepared, plan.columns, plan.imts, file=file, pgv_unit=pgv_unit, sentinels=sentinels,
            tectonic_map=tectonic_map,
        )
    rows = np.flatnonzero(~gone) + 1
    if gone.any():
        ids = out["record_id"].astype(str).to_numpy()
        report["dropped_records"] = [f"row {i + 1}" if "__missing_" in ids[i] else ids[i] for i in np.flatnonzero(gone)]
        out = out[~gone].reset_index(drop=True)
    out, dropped = check_station_distances(out, file=file, on_mismatch=on_distance_mismatch, sources=plan.columns,
                                           row_numbers=rows)
    if dropped:
        report["dropped"]["station-hypocentre distance disagrees with the file's repi/rhypo"] = len(dropped)
        report["dropped_records"] = [*report["dropped_records"], *dropped]
    report.update(mapped={**plan.columns, **plan.imts}, ignored=plan.ignored, rows_kept=len(out))
    out.attrs.update(
        {
            "source": file,
            "format": "generic",
            "source_columns": {**plan.columns, **plan.imts},
            "ignored_columns": plan.ignored,
            "dropped_record_ids": report["dropped_records"],
            "report": report,
        }
    )
    return out
