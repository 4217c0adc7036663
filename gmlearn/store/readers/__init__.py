"""Flatfile readers: each maps one source layout onto the gmlearn vocabulary.

Every reader returns the DataFrame of
:func:`gmlearn.store.validation.to_canonical` (vocabulary columns, then ln
IMT columns). :data:`READERS` names them; :func:`read_flatfile` picks one
from a file's header, checks every record's coordinates against its own
epicentral distance (:mod:`~gmlearn.store.readers.consistency`) and attaches
a :class:`~gmlearn.store.readers.report.ReadReport` (``table.attrs["report"]``;
``print`` it). Column aliases of other layouts (ESM 2018, eGSIM, NGA-West1,
Kaklamanos & Baise) are in :mod:`~gmlearn.store.readers.aliases`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from gmlearn.store.readers.consistency import check_station_distances
from gmlearn.store.readers.generic import read_generic
from gmlearn.store.readers.ngawest2 import read_ngawest2
from gmlearn.store.readers.nzsmd import read_nzsmd
from gmlearn.store.readers.report import ReadReport, report_of

__all__ = [
    "READERS", "ReadReport", "read_flatfile", "read_generic", "read_ngawest2", "read_nzsmd", "report_of", "sniff_format",
]

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
    ``RecId`` (SimCenter), unless no NGA-West2 layout matches and the header
    is NGA-West1's (``Preferred Vs30 (m/s)``); anything else (ESM, eGSIM,
    NGA-West1 ...) is left to the generic reader and its alias table.
    """
    names = {" ".join(c.split()) for c in columns}
    if "CuspID" in names and any(_NZSMD_SA.match(c) for c in names):
        return "nzsmd"
    if any(key in names for key in _NGAWEST2_KEYS):
        from gmlearn.store.readers.aliases import LAYOUT_SIGNATURES, normalise
        from gmlearn.store.readers.ngawest2 import LAYOUTS

        keys = {normalise(c) for c in names}
        nga2 = any(all(normalise(h) in keys for h in lay.signature) for lay in LAYOUTS.values())
        if not nga2 and all(s in keys for s in LAYOUT_SIGNATURES["ngawest1"]):
            return "generic"  # NGA-West1 names: the alias table maps them
        return "ngawest2"
    return "generic"


def read_flatfile(
    path: str | os.PathLike[str] | pd.DataFrame,
    format: str = "auto",
    *,
    on_distance_mismatch: str = "raise",
    **kw: Any,
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
    on_distance_mismatch
        ``"raise"`` or ``"drop"``: what to do with a record whose station and
        hypocentre coordinates are further apart (or closer) than its own
        repi by more than max(5 km, 5 %); see
        :func:`~gmlearn.store.readers.consistency.check_station_distances`.
    **kw
        Keyword arguments of the chosen reader (``imts=``, ``mapping=`` ...).

    Returns
    -------
    pandas.DataFrame
        The reader's table (vocabulary columns and ln IMT columns);
        ``attrs["report"]`` says what was mapped, derived, ignored and dropped.
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
    if format == "generic":
        return READERS[format](path, on_distance_mismatch=on_distance_mismatch, **kw)
    table = READERS[format](path, **kw)
    report = report_of(table)
    before = list(table.attrs.get("dropped_record_ids", []) or [])
    report["rows_read"] = report["rows_kept"] + len(before)
    if before:
        report["dropped"]["missing record id, event, station, magnitude or vs30"] = len(before)
        report["dropped_records"] = before
    layout = table.attrs.get("layout")
    if format == "ngawest2" and layout is not None and not report["mapped"]:
        from gmlearn.store.readers.ngawest2 import LAYOUTS

        report["layouts"] = [f"ngawest2 ({layout})"]
        report["mapped"] = {k: v for k, v in LAYOUTS[layout].columns.items() if k in table.columns}
    file = str(table.attrs.get("source", path))
    table, dropped = check_station_distances(table, file=file, on_mismatch=on_distance_mismatch)
    if dropped:
        report["dropped"]["station-hypocentre distance disagrees with the file's repi/rhypo"] = len(dropped)
        report["dropped_records"] = [*report["dropped_records"], *dropped]
        table.attrs["dropped_record_ids"] = [*table.attrs.get("dropped_record_ids", []), *dropped]
    report["rows_kept"] = len(table)
    table.attrs["report"] = report
    return table
