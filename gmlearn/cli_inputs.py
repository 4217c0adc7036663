"""What ``--data`` names on the command line: a feature store, a flatfile or a bundled dataset.

Used by ``gmlearn train``, ``evaluate`` and ``predict``. A flatfile is read with the
store's readers (:func:`gmlearn.store.readers.read_flatfile`: NZSMD, NGA-West2 or
generic CSV/CSV.gz/Parquet) and goes through the same validation and derivation as
``gmlearn data ingest``, in a temporary store that is removed afterwards.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["data_kind", "load_data", "read_flatfile_frame", "read_table_file"]


def data_kind(data: str | os.PathLike[str]) -> str:
    """``"store"``, ``"parquet-folder"``, ``"file"`` or ``"dataset"`` for a ``--data`` value.

    Raises
    ------
    FileNotFoundError
        If ``data`` is neither an existing path nor a bundled dataset name.
    """
    from gmlearn import datasets
    from gmlearn.outputs import is_store

    path = Path(data)
    if path.is_dir():
        return "store" if is_store(path) else "parquet-folder"
    if path.is_file():
        return "file"
    if str(data) in datasets.available():
        return "dataset"
    msg = (f"--data {str(data)!r} is neither a feature store, a flatfile (CSV, CSV.gz, Parquet) nor a bundled "
           f"dataset; datasets: {datasets.available()}.")
    raise FileNotFoundError(msg)


def read_table_file(path: str | os.PathLike[str]) -> Any:
    """A CSV (optionally gzipped) or Parquet file as a DataFrame; an unreadable file raises an error naming it.

    Raises
    ------
    FlatfileError
        If the file is not a readable CSV or Parquet file.
    """
    import pandas as pd

    from gmlearn.exceptions import FlatfileError

    path = Path(path)
    parquet = path.suffix.lower() in (".parquet", ".pq")
    try:
        return pd.read_parquet(path) if parquet else pd.read_csv(path)
    except (ValueError, OSError, EOFError, pd.errors.ParserError) as exc:  # UnicodeDecodeError is a ValueError
        kind = "Parquet" if parquet else "CSV"
        detail = " ".join(str(exc).split())
        raise FlatfileError(f"cannot be read as {kind} ({detail}); expected a UTF-8 CSV (optionally gzipped) or "
                            "Parquet file.", file=str(path)) from exc


def read_flatfile_frame(path: str | os.PathLike[str], fmt: str = "auto", imts: list[str] | None = None,
                        **filters: Any) -> Any:
    """A flatfile as the flat table a store gives (validated, derived columns filled, ln IMTs)."""
    from gmlearn.store import FeatureStore
    from gmlearn.store.readers import read_flatfile

    table = read_flatfile(path, format=fmt)
    with tempfile.TemporaryDirectory(prefix="gmlearn-flatfile-") as tmp:
        store = FeatureStore.create(Path(tmp) / "store")
        store.append(table, source=str(path), derive=True)
        return store.to_frame(imts=imts, dropna=False, **filters)


def load_data(data: str | os.PathLike[str] | None, imts: list[str] | None, region: str | None, fmt: str = "auto") -> Any:
    """The records named by ``--data`` (default: the bundled ``nzsmd``), filtered by tectonic region."""
    from gmlearn import datasets
    from gmlearn.schema import TECTONIC_REGIONS
    from gmlearn.store import FeatureStore

    if region and region not in TECTONIC_REGIONS:
        msg = f"The '--tectonic-region' option must be one of {list(TECTONIC_REGIONS)} or ''. Got {region!r} instead."
        raise ValueError(msg)
    filters = {"tectonic_region": region} if region else {}
    name = "nzsmd" if data is None else data
    kind = data_kind(name)
    if kind == "store":
        table = FeatureStore(name).to_frame(imts=imts, dropna=False, **filters)
    elif kind == "file":
        table = read_flatfile_frame(name, fmt, imts, **filters)
    elif kind == "dataset":
        table = datasets.load(str(name))
        if region:
            table = table[table["tectonic_region"] == region]
    else:
        msg = f"--data {str(name)!r} is a folder but not a feature store (no manifest.json)."
        raise FileNotFoundError(msg)
    if len(table) == 0:
        msg = f"No records in --data {str(name)!r} for --tectonic-region {region!r}."
        raise ValueError(msg)
    return table.reset_index(drop=True)
