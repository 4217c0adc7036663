"""Reader for flatfiles that already use (or are mapped onto) the vocabulary.

A column is recognised, in this order of precedence, when

1. ``mapping`` names it (vocabulary name or IMT string -> column);
2. its name is a vocabulary name (``event_id``, ``mag``, ``rrup``, ``vs30`` ...;
   case and surrounding blanks ignored);
3. its name is in :data:`ALIASES`, the few names eGSIM/ESM-style flatfiles use
   for the same quantity (``magnitude``, ``event_depth``, ``station_latitude``,
   ``z1`` ...);
4. its name is an IMT string (``PGA``, ``PGV``, ``SA(0.2)``, ``SA(1)``), holding
   *linear* PGA/SA in g and PGV in ``pgv_unit`` (natural logs with
   ``log_values=True``).

A column matched at a lower precedence than another column of the same
meaning (``magnitude`` next to ``mag``) is ignored. Every ignored column is
listed in ``df.attrs["ignored_columns"]``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gmlearn.exceptions import FlatfileError, InvalidIMTError, SchemaError
from gmlearn.schema import COLUMNS, imt_string, is_imt
from gmlearn.store.readers.files import read_csv, read_parquet
from gmlearn.store.validation import to_canonical

__all__ = ["ALIASES", "read_generic"]

#: Other names -> vocabulary, for eGSIM/ESM-style flatfiles. Sources: eGSIM's
#: flatfile column registry (rizac/eGSIM, egsim/smtk/flatfile/columns.yaml:
#: magnitude, event_latitude/longitude/depth, ev_*, depth_top_of_rupture,
#: rupture_top_depth, rupture_width, station_latitude/longitude, st_*, z1,
#: event_time) and common ESM spellings (epicenter_depth, hypocenter_depth).
ALIASES: dict[str, str] = {
    "magnitude": "mag",
    "event_latitude": "hypo_lat",
    "ev_lat": "hypo_lat",
    "event_longitude": "hypo_lon",
    "ev_lon": "hypo_lon",
    "event_depth": "hypo_depth",
    "ev_depth": "hypo_depth",
    "epicenter_depth": "hypo_depth",
    "hypocenter_depth": "hypo_depth",
    "depth_top_of_rupture": "ztor",
    "rupture_top_depth": "ztor",
    "rupture_width": "width",
    "station_latitude": "lat",
    "st_lat": "lat",
    "station_longitude": "lon",
    "st_lon": "lon",
    "z1": "z1pt0",
    "ev_id": "event_id",
    "st_id": "station_id",
    "event_time": "origin_time",
}

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def _load(source: str | os.PathLike[str] | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The table and the name used for it in messages."""
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
    return read_csv(path, low_memory=False), str(path)


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


def _resolve(
    names: Sequence[object], mapping: Mapping[str, str] | None, file: str
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Vocabulary -> column, IMT -> column, and the ignored columns."""
    columns, imts = _from_mapping(mapping or {}, file)
    used = set(columns.values()) | set(imts.values())
    free = [str(c) for c in names if str(c) not in used]
    exact: dict[str, str] = {}
    alias: dict[str, str] = {}
    measures: dict[str, str] = {}
    for col in free:
        key = col.strip().lower()
        if key in COLUMNS:
            _claim(exact, key, col, file)
        elif key in ALIASES:
            _claim(alias, ALIASES[key], col, file)
        elif (imt := _imt_of(col.strip())) is not None:
            _claim(measures, imt, col, file)
    for found, into in ((exact, columns), (alias, columns), (measures, imts)):
        for target, col in found.items():
            into.setdefault(target, col)
    taken = set(columns.values()) | set(imts.values())
    ignored = [str(c) for c in names if str(c) not in taken]
    return columns, imts, ignored


def _exp(values: pd.Series, sentinels: Sequence[float]) -> pd.Series:
    """exp() of the numbers in a column of natural logs; text and sentinels stay."""
    text = values.astype("string").str.strip()
    num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(num) & ~np.isin(num, np.asarray(list(sentinels), dtype=float))
    out = values.astype("object").copy()
    with np.errstate(over="ignore"):
        out[ok] = np.exp(num[ok])
    return out


def read_generic(
    path_or_frame: str | os.PathLike[str] | pd.DataFrame,
    *,
    mapping: Mapping[str, str] | None = None,
    pgv_unit: str = "cm/s",
    sentinels: Sequence[float] = (),
    tectonic_map: Mapping[str, str] | None = None,
    log_values: bool = False,
) -> pd.DataFrame:
    """Read a flatfile whose columns use (or are mapped onto) the vocabulary.

    Parameters
    ----------
    path_or_frame
        CSV (``.csv``, ``.csv.gz`` ...) or Parquet (``.parquet``) file, or a
        DataFrame (not modified), one row per record.
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

    Returns
    -------
    pandas.DataFrame
        One row per record: vocabulary columns, then one column per IMT with
        natural logs of g (PGA, SA) or cm/s (PGV). Without a ``record_id``
        column, ids are ``"<event_id>_<station_id>"``. ``attrs`` holds
        ``source``, ``format`` (``"generic"``), ``source_columns`` (name ->
        column used) and ``ignored_columns``.

    Raises
    ------
    MissingColumnError
        A required column (event_id, station_id, mag, vs30, a distance, an
        IMT) or a mapped column is absent.
    FlatfileError
        A value is not a number, out of range, duplicated or in a wrong unit;
        or two columns give the same quantity.
    SchemaError
        A ``mapping`` key is neither a vocabulary name nor an IMT.
    """
    raw, file = _load(path_or_frame)
    columns, imts, ignored = _resolve(list(raw.columns), mapping, file)
    if log_values:
        raw = raw.copy()
        for col in set(imts.values()) & {str(c) for c in raw.columns}:
            raw[col] = _exp(raw[col], sentinels)
    with warnings.catch_warnings():
        # one column insert per IMT inside to_canonical; a pandas speed note only
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        out = to_canonical(
            raw, columns, imts, file=file, pgv_unit=pgv_unit, sentinels=sentinels, tectonic_map=tectonic_map,
        )
    out.attrs.update(
        {
            "source": file,
            "format": "generic",
            "source_columns": {**columns, **imts},
            "ignored_columns": ignored,
        }
    )
    return out
