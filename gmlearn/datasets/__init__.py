"""Small real datasets shipped with gmlearn.

Each dataset is a canonical flat table (one row per record, vocabulary
columns, ln IMT columns) built from public data by a script in
``data_recipes/`` and committed as Parquet with a SHA-256, citation and
license in ``registry.json``.

>>> from gmlearn import datasets
>>> datasets.available()
['ngawest2_subset', 'nzsmd']
>>> table = datasets.load("nzsmd")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from gmlearn.exceptions import DatasetNotFoundError, StoreError

__all__ = ["available", "info", "load", "path"]


@lru_cache(maxsize=1)
def _registry() -> dict[str, dict[str, Any]]:
    text = resources.files("gmlearn.datasets").joinpath("data/registry.json").read_text()
    return json.loads(text)["datasets"]


def available() -> list[str]:
    """Names of the bundled datasets."""
    return sorted(_registry())


def info(name: str) -> dict[str, Any]:
    """Metadata of a dataset: description, citation, license, source, rows, sha256."""
    reg = _registry()
    if name not in reg:
        msg = f"Unknown dataset {name!r}; available datasets are {sorted(reg)}."
        raise DatasetNotFoundError(msg)
    return dict(reg[name])


def path(name: str) -> Path:
    """Path of a dataset's Parquet file inside the installed package."""
    meta = info(name)
    return Path(str(resources.files("gmlearn.datasets").joinpath("data", meta["file"])))


def load(name: str, *, verify: bool = True) -> pd.DataFrame:
    """Load a bundled dataset as a canonical flat table.

    Parameters
    ----------
    name
        ``"nzsmd"`` (GeoNet NZSMD, RotD50, 4284 records) or
        ``"ngawest2_subset"`` (PEER NGA-West2 RotD50, 1000-record subset).
    verify
        Check the file's SHA-256 against the registry.

    Returns
    -------
    pandas.DataFrame
        Vocabulary columns plus ln IMT columns; ``attrs`` holds the
        dataset's citation, license and provenance.

    Raises
    ------
    DatasetNotFoundError
        For an unknown name.
    StoreError
        If the file does not match its recorded hash.
    """
    meta = info(name)
    file = path(name)
    if verify:
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        if digest != meta["sha256"]:
            msg = f"Dataset file {file} has SHA-256 {digest}, expected {meta['sha256']}; the installation is damaged. Reinstall gmlearn."
            raise StoreError(msg)
    df = pd.read_parquet(file)
    df.attrs.update({"source": f"gmlearn.datasets:{name}", **{k: meta[k] for k in ("citation", "license", "description")}})
    return df
