"""Split a flat record table into events, stations and records, and back.

A column lives in its vocabulary table (``mag`` in events, ``vs30`` in
stations). When a value varies within one event or station (e.g. two
rupture-plane models of one event), the column is kept per record instead,
so nothing is lost; :func:`split` reports such moves.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from gmlearn.schema import COLUMNS, TABLES, is_imt, sort_imts

__all__ = ["split", "coerce_dtypes", "imt_columns"]


def imt_columns(columns: list[str] | pd.Index) -> list[str]:
    """IMT columns of a table, in canonical order."""
    return sort_imts([c for c in columns if is_imt(str(c))])


def coerce_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    """Cast vocabulary columns to their schema dtype (nullable bool/string)."""
    out = df.copy()
    for name in out.columns:
        col = COLUMNS.get(name)
        if col is None:
            if is_imt(str(name)):
                out[name] = pd.to_numeric(out[name], errors="coerce").astype("float64")
            continue
        if col.dtype == "float64":
            out[name] = pd.to_numeric(out[name], errors="coerce").astype("float64")
        elif col.dtype == "bool":
            out[name] = out[name].astype("boolean")
        elif col.dtype == "string":
            out[name] = out[name].astype("string")
    return out


def _varying(df: pd.DataFrame, key: str, columns: list[str]) -> list[str]:
    if not columns:
        return []
    filled = df[columns].astype("string").fillna("<NA>")
    counts = filled.groupby(df[key].to_numpy()).nunique()
    return [c for c in columns if (counts[c] > 1).any()]


def split(flat: pd.DataFrame, *, source: str = "table") -> dict[str, pd.DataFrame]:
    """Split a flat table (one row per record) into the three store tables.

    Parameters
    ----------
    flat
        Canonical table with ``event_id``, ``station_id``, ``record_id``.
    source
        Name used in warnings.

    Returns
    -------
    dict
        ``{"events", "stations", "records"}`` DataFrames; records carry
        ``event_id``, ``station_id``, the record columns, any per-record
        overrides and the ln IMT columns.
    """
    flat = coerce_dtypes(flat.reset_index(drop=True))
    imts = imt_columns(flat.columns)
    tables: dict[str, pd.DataFrame] = {}
    moved: list[str] = []
    record_extra: list[str] = []
    for table in ("events", "stations"):
        key = TABLES[table]
        cols = [c for c in flat.columns if c in COLUMNS and COLUMNS[c].table == table and c != key]
        vary = _varying(flat, key, cols)
        if vary:
            n_groups = int(
                flat[vary].astype("string").fillna("<NA>").groupby(flat[key].to_numpy()).nunique().gt(1).any(axis=1).sum()
            )
            moved.append(f"{table} column(s) {vary} vary within {n_groups} {table[:-1]}(s)")
            record_extra += vary
        keep = [key] + [c for c in cols if c not in vary]
        tables[table] = flat[keep].drop_duplicates(subset=[key], keep="first").reset_index(drop=True)
    if moved:
        warnings.warn(f"{source}: {'; '.join(moved)}; stored per record.", stacklevel=3)
    rec_cols = ["record_id", "event_id", "station_id"]
    rec_cols += [c for c in flat.columns if c in COLUMNS and COLUMNS[c].table == "records" and c != "record_id"]
    rec_cols += record_extra + imts
    tables["records"] = flat[rec_cols].reset_index(drop=True)
    return tables


def empty_like_flat() -> pd.DataFrame:
    """An empty flat table with the key columns."""
    return pd.DataFrame({k: pd.Series(dtype="string") for k in ("record_id", "event_id", "station_id")})


def nan_mask(df: pd.DataFrame, imts: list[str]) -> np.ndarray:
    """True where every IMT in ``imts`` is finite, shape (n_rows,)."""
    if not imts:
        return np.ones(len(df), dtype=bool)
    return np.isfinite(df[imts].to_numpy(dtype=float)).all(axis=1)
