"""Flatfile readers: each maps one source layout onto the gmlearn vocabulary.

Every reader returns the DataFrame of
:func:`gmlearn.store.validation.to_canonical` (vocabulary columns, then ln
IMT columns). :data:`READERS` names them; :func:`read_flatfile` picks one
from a file's header.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from gmlearn.store.readers.generic import read_generic
from gmlearn.store.readers.ngawest2 import read_ngawest2
from gmlearn.store.readers.nzsmd import read_nzsmd

__all__ = ["READERS", "read_flatfile", "read_generic", "read_ngawest2", "read_nzsmd", "sniff_format"]

#: Format name -> reader.
READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "nzsmd": read_nzsmd,
    "ngawest2": read_ngawest2,
    "generic": read_generic,
}

_NZSMD_SA = re.compile(r"^f.*SA_")
_NGAWEST2_KEYS = ("Record Sequence Number", "RecId")


def _header(path: Path) -> list[str]:
    """Column names of a CSV or Parquet file, without reading its rows."""
    from gmlearn.store.readers.files import read_header

    return read_header(path)


def sniff_format(columns: list[str]) -> str:
    """Reader name for a header: ``"nzsmd"``, ``"ngawest2"`` or ``"generic"``.

    NZSMD files have ``CuspID`` and ``f<frequency>SA_<component>`` columns;
    NGA-West2 layouts have ``Record Sequence Number`` (PEER, GEM-SMTK) or
    ``RecId`` (SimCenter); anything else is left to the generic reader.
    """
    names = {" ".join(c.split()) for c in columns}
    if "CuspID" in names and any(_NZSMD_SA.match(c) for c in names):
        return "nzsmd"
    if any(key in names for key in _NGAWEST2_KEYS):
        return "ngawest2"
    return "generic"


def read_flatfile(
    path: str | os.PathLike[str] | pd.DataFrame, format: str = "auto", **kw: Any
) -> pd.DataFrame:
    """Read a flatfile with the reader its header (or ``format``) calls for.

    Parameters
    ----------
    path
        Flatfile (CSV, CSV.gz, Parquet) or a DataFrame (read as ``"generic"``
        unless ``format`` says otherwise).
    format
        ``"auto"`` (sniff the header, see :func:`sniff_format`) or a key of
        :data:`READERS`.
    **kw
        Keyword arguments of the chosen reader (``imts=``, ``mapping=`` ...).

    Returns
    -------
    pandas.DataFrame
        The reader's table (vocabulary columns and ln IMT columns).
    """
    if format != "auto" and format not in READERS:
        msg = f"The 'format' parameter of read_flatfile must be one of {['auto', *READERS]}. Got {format!r} instead."
        raise ValueError(msg)
    if format == "auto":
        format = "generic" if isinstance(path, pd.DataFrame) else sniff_format(_header(Path(path)))
    if format not in READERS:
        msg = (
            f"{path!s} looks like a {format} flatfile but the {format} reader is not available "
            f"(readers: {sorted(READERS)}); pass format=... to force one."
        )
        raise ValueError(msg)
    return READERS[format](path, **kw)
