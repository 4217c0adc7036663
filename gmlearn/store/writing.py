"""Writing a feature store: part files and manifests (called with the store's writer lock held).

:func:`append_parts` adds one Parquet part file per table, so appending two
records to a million-record store writes two records, not a million. When the
new rows do not fit the stored tables (a new column, an event or station
already stored with other values, a column stored per record), it returns
``False`` and the caller rewrites the store (:func:`rewrite`), which is what
every append did before. Every file is written under a temporary name and
renamed; the manifest is replaced last, so a crash leaves the previous
version intact.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from gmlearn._version import __version__
from gmlearn.schema import TABLES
from gmlearn.store.atomic import atomic_write_json, atomic_write_with
from gmlearn.store.manifest import (
    FORMAT,
    FORMAT_VERSION,
    TABLE_NAMES,
    combine_digests,
    file_sha256,
    part_name,
    row_digest,
    table_digest,
    table_files,
)
from gmlearn.store.tables import coerce_dtypes, imt_columns

__all__ = ["append_parts", "rewrite", "clean"]


def _schema(path: Path) -> list[tuple[str, str]]:
    import pyarrow.parquet as pq

    return [(f.name, str(f.type)) for f in pq.read_schema(path)]


def _write_part(path: Path, name: str, df: pd.DataFrame, row_group_rows: int) -> dict[str, Any]:
    target = path / name
    atomic_write_with(target, lambda tmp: df.to_parquet(tmp, index=False, row_group_size=row_group_rows))
    return {"file": name, "rows": int(len(df)), "sha256": file_sha256(target), "content": row_digest(df)}


def _table_entry(parts: list[dict[str, Any]], columns: list[str]) -> dict[str, Any]:
    rows = sum(p["rows"] for p in parts)
    digest = combine_digests([p["content"] for p in parts])
    return {"parts": parts, "rows": rows, "columns": columns, "sha256": table_digest(columns, rows, digest)}


def _manifest(version: int, tables: dict[str, dict[str, Any]], sources: list, imts: list[str],
              retired: list[str]) -> dict[str, Any]:
    import hashlib

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "gmlearn_version": __version__,
        "version": version,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "tables": tables,
        "content_hash": hashlib.sha256("".join(tables[n]["sha256"] for n in TABLE_NAMES).encode()).hexdigest(),
        "imts": imts,
        "units": {"imts": "natural log of g (PGA, SA) and of cm/s (PGV)"},
        "sources": sources,
        "retired": retired,
    }


def clean(path: Path, meta: dict[str, Any] | None) -> None:
    """Delete what no reader can still need: debris of interrupted writes and files the current manifest does not name.

    Files a rewrite retired stay until the next write starts, so a reader that
    opened the previous manifest has that long to read them.
    """
    live = {f for t in TABLE_NAMES for f in table_files(meta, t)} if meta else set()
    for stale in path.glob(".v*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    data = path / "data"
    if data.is_dir():
        for file in data.iterdir():
            if f"data/{file.name}" not in live and (file.is_file() or file.is_symlink()):
                file.unlink(missing_ok=True)


def rewrite(path: Path, tables: dict[str, pd.DataFrame], *, sources: list, previous: dict[str, Any] | None,
            row_group_rows: int) -> dict[str, Any]:
    """Write every table as one new part file and a manifest naming only those."""
    version = int(previous["version"]) + 1 if previous else 1
    (path / "data").mkdir(exist_ok=True)
    entries = {}
    for name in TABLE_NAMES:
        df = coerce_dtypes(tables[name])
        entries[name] = _table_entry([_write_part(path, part_name(name, version), df, row_group_rows)], list(df.columns))
    old = [f for t in TABLE_NAMES for f in table_files(previous, t)] if previous else []
    retired = [f for f in old if f.startswith("data/")]
    meta = _manifest(version, entries, sources, imt_columns(tables["records"].columns), retired)
    atomic_write_json(path / "manifest.json", meta)
    if previous and int(previous.get("format_version", 1)) == 1:
        shutil.rmtree(path / str(previous["folder"]), ignore_errors=True)
    return meta


def _fit_columns(df: pd.DataFrame, reference: Path) -> pd.DataFrame | None:
    """``df`` with the reference part's columns (missing ones as nulls) in its order; None if it has others."""
    import pyarrow.parquet as pq

    empty = pq.read_schema(reference).empty_table().to_pandas()
    if [c for c in df.columns if c not in empty.columns]:
        return None
    out = df.copy()
    for col in empty.columns:
        if col not in out.columns:
            out[col] = pd.Series(pd.NA if empty[col].dtype == object else None, index=out.index, dtype=empty[col].dtype)
    return coerce_dtypes(out[list(empty.columns)])


def _same_rows(old: pd.DataFrame, new: pd.DataFrame, key: str) -> bool:
    """Whether the rows of ``new`` equal the stored rows of the same keys."""
    cols = sorted(new.columns)
    left = coerce_dtypes(old[old[key].isin(new[key])]).drop_duplicates(subset=[key]).sort_values(key)[cols]
    right = coerce_dtypes(new).drop_duplicates(subset=[key]).sort_values(key)[cols]
    if len(left) != len(right):
        return False
    a = pd.util.hash_pandas_object(left.reset_index(drop=True), index=False).to_numpy()
    b = pd.util.hash_pandas_object(right.reset_index(drop=True), index=False).to_numpy()
    return bool((a == b).all())


def append_parts(path: Path, meta: dict[str, Any], tables: dict[str, pd.DataFrame], stored: dict[str, pd.DataFrame],
                 *, sources: list, row_group_rows: int) -> dict[str, Any] | None:
    """Add the new rows as part files; return the new manifest, or None when the store must be rewritten.

    ``stored`` holds the current events and stations tables (small); events
    and stations already stored are not written again when their values are
    unchanged.
    """
    import pyarrow.parquet as pq

    version = int(meta["version"]) + 1
    written: list[Path] = []
    entries = {}
    tables = {k: v.copy() for k, v in tables.items()}
    per_record = set(pq.read_schema(path / meta["tables"]["records"]["parts"][-1]["file"]).names)
    for name in ("events", "stations"):  # columns the store keeps per record (they vary within an event or station)
        key = TABLES[name]
        moved = [c for c in tables[name].columns if c != key and c in per_record]
        if moved:
            lookup = tables[name].drop_duplicates(subset=[key]).set_index(key)
            for col in moved:
                tables["records"][col] = tables["records"][key].map(lookup[col])
            tables[name] = tables[name].drop(columns=moved)
    try:
        for name in TABLE_NAMES:
            current = meta["tables"][name]
            reference = path / current["parts"][-1]["file"]
            df = _fit_columns(coerce_dtypes(tables[name]), reference)
            if df is None:
                return None
            if name != "records":
                key = TABLES[name]
                seen = df[key].isin(stored[name][key])
                if seen.any() and not _same_rows(stored[name], df[seen], key):
                    return None
                df = df[~seen].reset_index(drop=True)
            parts = list(current["parts"])
            if len(df):
                part = _write_part(path, part_name(name, version), df, row_group_rows)
                written.append(path / part["file"])
                if _schema(path / part["file"]) != _schema(reference):
                    return None
                parts.append(part)
            entries[name] = _table_entry(parts, list(current["columns"]))
        new = _manifest(version, entries, sources, list(meta.get("imts", [])), [])
        atomic_write_json(path / "manifest.json", new)
        written = []
        return new
    finally:
        for file in written:  # not committed: remove
            file.unlink(missing_ok=True)
