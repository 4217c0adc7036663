"""The feature-store manifest: which Parquet part files make up each table, and their hashes.

Format version 2 (written since appends became incremental)::

    manifest.json
      version        incremented by every write
      tables.<name>  rows, columns, sha256 (content hash of the table) and
                     parts: [{file: "data/<name>-NNNNNN.parquet", rows,
                              sha256 (of the file's bytes), content}]
      content_hash   SHA-256 of the three table hashes
      retired        part files dropped by this write (a rewrite); deleted when the next write starts

An append adds one part file per table; a rewrite (when an append changes
the columns of a table) replaces all of them. ``content`` is an
order-independent digest of a part's rows (sums of 64-bit row hashes under two
keys), so the content hash of a table is the same however its rows were split
into parts or ordered. Format version 1 stores (one ``vNNNNNN`` folder per
version) are still read; their next write converts them.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gmlearn.exceptions import StoreError

__all__ = ["FORMAT", "FORMAT_VERSION", "TABLE_NAMES", "check_manifest", "part_name", "file_sha256", "row_digest",
           "combine_digests", "table_digest", "table_files", "legacy_table_hash"]

FORMAT = "gmlearn-feature-store"
FORMAT_VERSION = 2
TABLE_NAMES = ("events", "stations", "records")
_FOLDER = re.compile(r"^v[0-9]{6}$")
_PART = re.compile(r"^data/(events|stations|records)-[0-9]{6}\.parquet$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HASH_KEYS = ("gmlearn-rows-k01", "gmlearn-rows-k02")


def part_name(table: str, version: int) -> str:
    """Store-relative name of the part file a write of ``version`` adds to ``table``."""
    return f"data/{table}-{version:06d}.parquet"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


def row_digest(df: pd.DataFrame) -> str:
    """Order-independent digest of a table's rows: per key, the sum (mod 2**64) of 64-bit row hashes."""
    ordered = df[sorted(map(str, df.columns))] if len(df.columns) else df
    lanes = []
    for key in _HASH_KEYS:
        if len(df):
            lanes.append(int(pd.util.hash_pandas_object(ordered, index=False, hash_key=key).to_numpy().sum(dtype=np.uint64)))
        else:
            lanes.append(0)
    return "".join(f"{v:016x}" for v in lanes)


def combine_digests(digests: list[str]) -> str:
    """Row digest of the union of parts (lane-wise sum mod 2**64)."""
    lanes = [0] * len(_HASH_KEYS)
    for d in digests:
        for k in range(len(lanes)):
            lanes[k] = (lanes[k] + int(d[16 * k:16 * (k + 1)], 16)) % 2**64
    return "".join(f"{v:016x}" for v in lanes)


def table_digest(columns: list[str], rows: int, digest: str) -> str:
    """Content hash of a table from its columns, row count and combined row digest."""
    return hashlib.sha256(json.dumps([sorted(columns), rows, digest]).encode()).hexdigest()


def legacy_table_hash(df: pd.DataFrame, key: str) -> str:
    """Content hash of a table as format version 1 wrote it (sorted rows)."""
    h = hashlib.sha256()
    if len(df):
        ordered = df.sort_values(key, kind="mergesort").reset_index(drop=True)
        ordered = ordered[sorted(ordered.columns)]
        h.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    h.update(json.dumps(sorted(map(str, df.columns))).encode())
    return h.hexdigest()


def table_files(meta: dict[str, Any], table: str) -> list[str]:
    """Store-relative files of one table, in append order (both format versions)."""
    entry = meta["tables"][table]
    if "parts" in entry:
        return [p["file"] for p in entry["parts"]]
    return [entry["file"]]


def _nonneg_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_v1(meta: dict[str, Any], manifest: Path) -> None:
    folder, tables = meta.get("folder"), meta["tables"]
    if not isinstance(folder, str) or not _FOLDER.match(folder):
        msg = f"{manifest}: key 'folder' must be a version folder name like 'v000001'; got {folder!r}."
        raise StoreError(msg)
    for name in TABLE_NAMES:
        entry = tables.get(name)
        if not isinstance(entry, dict) or entry.get("file") != f"{folder}/{name}.parquet":
            got = entry.get("file") if isinstance(entry, dict) else entry
            msg = f"{manifest}: key 'tables.{name}.file' must be {folder + '/' + name + '.parquet'!r}; got {got!r}."
            raise StoreError(msg)
        if not _nonneg_int(entry.get("rows")):
            msg = f"{manifest}: key 'tables.{name}.rows' must be a non-negative integer; got {entry.get('rows')!r}."
            raise StoreError(msg)


def _check_v2(meta: dict[str, Any], manifest: Path) -> None:
    for name in TABLE_NAMES:
        entry = meta["tables"].get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("parts"), list) or not entry["parts"]:
            msg = f"{manifest}: key 'tables.{name}.parts' must be a non-empty list of part files."
            raise StoreError(msg)
        if not _nonneg_int(entry.get("rows")):
            msg = f"{manifest}: key 'tables.{name}.rows' must be a non-negative integer; got {entry.get('rows')!r}."
            raise StoreError(msg)
        if not isinstance(entry.get("columns"), list) or not isinstance(entry.get("sha256"), str):
            msg = f"{manifest}: key 'tables.{name}' must hold 'columns' (a list) and 'sha256' (a string)."
            raise StoreError(msg)
        total = 0
        for k, part in enumerate(entry["parts"]):
            where = f"tables.{name}.parts[{k}]"
            file = part.get("file") if isinstance(part, dict) else part
            if not isinstance(file, str) or not _PART.match(file) or not file.startswith(f"data/{name}-"):
                msg = f"{manifest}: key '{where}.file' must be a part file like 'data/{name}-000001.parquet'; got {file!r}."
                raise StoreError(msg)
            if not _nonneg_int(part.get("rows")):
                msg = f"{manifest}: key '{where}.rows' must be a non-negative integer; got {part.get('rows')!r}."
                raise StoreError(msg)
            if not isinstance(part.get("sha256"), str) or not _HEX64.match(part["sha256"]):
                msg = f"{manifest}: key '{where}.sha256' must be a SHA-256 hex digest; got {part.get('sha256')!r}."
                raise StoreError(msg)
            if not isinstance(part.get("content"), str) or not _HEX32.match(part["content"]):
                msg = f"{manifest}: key '{where}.content' must be a 32-digit hex row digest; got {part.get('content')!r}."
                raise StoreError(msg)
            total += part["rows"]
        if total != entry["rows"]:
            msg = (f"{manifest}: key 'tables.{name}.rows' says {entry['rows']} but its parts hold {total} rows; "
                   "the manifest was edited or is corrupt.")
            raise StoreError(msg)
    retired = meta.get("retired", [])
    if not isinstance(retired, list) or not all(isinstance(f, str) and _PART.match(f) for f in retired):
        msg = f"{manifest}: key 'retired' must be a list of part files 'data/<table>-NNNNNN.parquet'."
        raise StoreError(msg)


def check_manifest(meta: Any, manifest: Path) -> dict[str, Any]:
    """Validate a parsed ``manifest.json``; return it unchanged.

    The manifest decides which files a write deletes and which files a read
    opens, so a manifest from elsewhere must not point outside the store, and
    its row counts must agree with its parts.

    Raises
    ------
    StoreError
        Naming the key that is missing, of the wrong type, or a path other
        than a part file of the store.
    """
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        fmt = meta.get("format") if isinstance(meta, dict) else None
        msg = f"{manifest} is not a gmlearn feature store (format {fmt!r}, expected {FORMAT!r})."
        raise StoreError(msg)
    fv = meta.get("format_version")
    if not _nonneg_int(fv) or fv < 1:
        msg = f"{manifest}: key 'format_version' must be a positive integer; got {fv!r}."
        raise StoreError(msg)
    if fv > FORMAT_VERSION:
        msg = f"{manifest} has format_version {fv}; this gmlearn reads up to {FORMAT_VERSION}. Upgrade gmlearn."
        raise StoreError(msg)
    version, tables = meta.get("version"), meta.get("tables")
    if not _nonneg_int(version) or version < 1:
        msg = f"{manifest}: key 'version' must be a positive integer; got {version!r}."
        raise StoreError(msg)
    if not isinstance(tables, dict):
        msg = f"{manifest}: key 'tables' must be an object with {list(TABLE_NAMES)}; got {type(tables).__name__}."
        raise StoreError(msg)
    (_check_v1 if fv == 1 else _check_v2)(meta, manifest)
    for key, kind in (("imts", list), ("sources", list), ("content_hash", str)):
        if key in meta and not isinstance(meta[key], kind):
            msg = f"{manifest}: key {key!r} must be a JSON {kind.__name__}; got {type(meta[key]).__name__}."
            raise StoreError(msg)
    return meta
