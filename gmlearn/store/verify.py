"""Recompute a feature store's hashes against its manifest (:meth:`FeatureStore.verify`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gmlearn.exceptions import StoreError
from gmlearn.store.manifest import (
    TABLE_NAMES,
    combine_digests,
    file_sha256,
    legacy_table_hash,
    row_digest,
    table_digest,
)
from gmlearn.store.tables import coerce_dtypes

if TYPE_CHECKING:  # pragma: no cover
    from gmlearn.store.feature_store import FeatureStore

__all__ = ["verify_store"]

_KEYS = {"events": "event_id", "stations": "station_id", "records": "record_id"}


def _bad(store: "FeatureStore", file: str, problem: str) -> StoreError:
    return StoreError(f"Feature store {store.path}: part file {file} {problem}. Restore the store from a copy "
                      "(or re-create it from its flatfiles).")


def _read(store: "FeatureStore", file: str) -> Any:
    import pandas as pd
    import pyarrow.parquet as pq

    path = store.path / file
    try:
        rows = pq.read_metadata(path).num_rows
        df = pd.read_parquet(path)
    except FileNotFoundError:
        raise _bad(store, file, "is missing") from None
    except (OSError, ValueError) as exc:
        raise _bad(store, file, f"cannot be read ({exc})") from None
    return rows, coerce_dtypes(df)


def verify_store(store: "FeatureStore") -> dict[str, Any]:
    """Check every part file of ``store`` against its manifest; see :meth:`FeatureStore.verify`."""
    meta = store._meta
    n_parts = 0
    if int(meta["format_version"]) == 1:
        for name in TABLE_NAMES:
            entry = meta["tables"][name]
            rows, df = _read(store, entry["file"])
            if rows != entry["rows"]:
                raise _bad(store, entry["file"], f"holds {rows} rows; the manifest says {entry['rows']}")
            if "sha256" in entry and legacy_table_hash(df, _KEYS[name]) != entry["sha256"]:
                raise _bad(store, entry["file"], "does not match the content hash in the manifest (altered)")
            n_parts += 1
    else:
        for name in TABLE_NAMES:
            entry = meta["tables"][name]
            digests = []
            for part in entry["parts"]:
                file = part["file"]
                if not (store.path / file).is_file():
                    raise _bad(store, file, "is missing")
                if file_sha256(store.path / file) != part["sha256"]:
                    raise _bad(store, file, "does not match its SHA-256 in the manifest (corrupt or edited)")
                rows, df = _read(store, file)
                if rows != part["rows"]:
                    raise _bad(store, file, f"holds {rows} rows; the manifest says {part['rows']}")
                if sorted(df.columns) != sorted(entry["columns"]):
                    raise _bad(store, file, f"has columns {list(df.columns)}; the manifest says {entry['columns']}")
                digest = row_digest(df)
                if digest != part["content"]:
                    raise _bad(store, file, "holds rows other than those the manifest was written for")
                digests.append(digest)
                n_parts += 1
            if table_digest(entry["columns"], entry["rows"], combine_digests(digests)) != entry["sha256"]:
                msg = f"Feature store {store.path}: table {name!r} does not match its content hash in the manifest."
                raise StoreError(msg)
    return {"path": str(store.path), "version": store.version, "parts": n_parts, "rows": len(store),
            "content_hash": store.content_hash}
