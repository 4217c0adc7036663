"""Readers for GNSS velocity fields: GAMIT/GLOBK ``.vel``, UNAVCO/PBO ``.vel`` and CSV.

Every reader returns the canonical table of :mod:`gmlearn.geodesy.validation`
(``station, lon, lat, ve, vn, se, sn, rho`` [, ``vu, su``], mm/yr) with a report
of rejected rows in ``attrs["report"]``.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from gmlearn.exceptions import FlatfileError, MissingColumnError, SchemaError
from gmlearn.geodesy.validation import validate_velocities

__all__ = [
    "FORMATS",
    "CSV_ALIASES",
    "detect_format",
    "read_velocities",
    "read_globk_vel",
    "read_pbo_vel",
    "read_velocity_csv",
]

FORMATS: tuple[str, ...] = ("auto", "globk", "pbo", "csv")

#: GLOBK ``.vel`` columns: Long Lat E-vel N-vel E-adj N-adj E-sig N-sig Rho H-vel H-adj H-sig Site (mm/yr).
_GLOBK_FIELDS = ("lon", "lat", "ve", "vn", "_eadj", "_nadj", "se", "sn", "rho", "vu", "_hadj", "su", "station")
#: PBO ``.vel`` fields used (0-based position among 30 whitespace-separated fields; velocities in m/yr).
_PBO_FIELDS = {"station": 0, "name": 1, "lat": 7, "lon": 8, "vn": 19, "ve": 20, "vu": 21,
               "sn": 22, "se": 23, "su": 24, "rho": 25, "last_epoch": 29}  # fmt: skip
_PBO_NFIELDS = 30

#: Accepted CSV column names (lower case) for each canonical column.
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "station": ("station", "site", "station_id", "sta", "id", "dot#", "code"),
    "lon": ("lon", "longitude", "long", "lon_deg", "elon"),
    "lat": ("lat", "latitude", "lat_deg", "nlat"),
    "ve": ("ve", "ve_mm_yr", "e_vel", "vel_e", "ve_mmyr", "east_velocity"),
    "vn": ("vn", "vn_mm_yr", "n_vel", "vel_n", "vn_mmyr", "north_velocity"),
    "se": ("se", "se_mm_yr", "e_sig", "sig_e", "sigma_e", "sve"),
    "sn": ("sn", "sn_mm_yr", "n_sig", "sig_n", "sigma_n", "svn"),
    "rho": ("rho", "rho_ne", "corr_ne", "rne", "corr"),
    "vu": ("vu", "vu_mm_yr", "u_vel", "vel_u", "h_vel"),
    "su": ("su", "su_mm_yr", "u_sig", "sig_u", "h_sig"),
}
_VELOCITY_UNITS = {"mm/yr": 1.0, "m/yr": 1000.0, "cm/yr": 10.0}
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eEdD][-+]?\d+)?$")


def _open_text(path: Path) -> str:
    if not path.is_file():
        raise FileNotFoundError(f"velocity file {str(path)!r} does not exist.")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            msg = f"velocity file {str(path)!r} is a truncated or corrupt gzip file ({exc})."
            raise SchemaError(msg) from exc
    if b"\x00" in data[:65536]:
        msg = f"velocity file {str(path)!r} is binary (it holds NUL bytes), not a GLOBK, PBO or CSV velocity file."
        raise SchemaError(msg)
    return data.decode("utf-8", errors="replace")


def detect_format(path: str | Path) -> str:
    """Guess the format of a velocity file: ``"csv"``, ``"pbo"`` or ``"globk"``.

    CSV by suffix (``.csv``, ``.csv.gz``); PBO by its ``Dot#`` column line or
    ``PBO Velocity file`` title; otherwise GLOBK.
    """
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes]
    if ".csv" in suffixes:
        return "csv"
    head = _open_text(path)[:20000]
    if "*Dot#" in head or "PBO Velocity file" in head:
        return "pbo"
    return "globk"


def read_velocities(
    path: str | Path,
    format: str = "auto",  # noqa: A002 - mirrors the store readers
    *,
    on_bad: Literal["drop", "raise"] = "drop",
    duplicates: Literal["latest", "first", "raise"] = "latest",
    **kwargs: Any,
) -> pd.DataFrame:
    """Read a GNSS velocity field into the canonical table (mm/yr).

    Parameters
    ----------
    path
        ``.vel`` (GLOBK or PBO style) or CSV file, optionally gzip-compressed.
    format
        One of :data:`FORMATS`; ``"auto"`` uses :func:`detect_format`.
    on_bad
        ``"drop"`` (default) rejects bad rows with a warning and a report in
        ``attrs["report"]``; ``"raise"`` raises at the first one.
    duplicates
        Several rows for one station: ``"latest"``, ``"first"`` or ``"raise"``.
    **kwargs
        Passed to :func:`read_velocity_csv` (``columns``, ``units``).

    Returns
    -------
    pandas.DataFrame
        ``station, lon, lat, ve, vn, se, sn, rho`` [, ``vu, su``].
    """
    if format not in FORMATS:
        msg = f"The 'format' parameter must be one of {list(FORMATS)}. Got {format!r} instead."
        raise SchemaError(msg)
    fmt = detect_format(path) if format == "auto" else format
    reader = {"globk": read_globk_vel, "pbo": read_pbo_vel, "csv": read_velocity_csv}[fmt]
    table = reader(path, on_bad=on_bad, duplicates=duplicates, **kwargs)
    if table.attrs.get("report", {}).get("n_rows", len(table)) == 0:
        msg = (f"velocity file {str(path)!r} holds no data rows as a {fmt} file (every line is header or text); "
               f"it is not a velocity file of that format. Formats: {list(FORMATS[1:])}.")
        raise SchemaError(msg)
    return table


def _is_number(token: str) -> bool:
    return bool(_NUMBER.match(token))


def _split_rows(lines: list[tuple[int, list[str]]], names: tuple[str, ...] | dict[str, int], nfields: int) -> pd.DataFrame:
    """Map tokenised data lines onto named columns; wrong field counts are flagged, not dropped."""
    fields = dict(zip(names, range(len(names)))) if isinstance(names, tuple) else names
    records = []
    for line_no, tokens in lines:
        ok = len(tokens) == nfields
        rec: dict[str, Any] = {name: (tokens[i] if ok else None) for name, i in fields.items()}
        if not ok and tokens:
            rec["station"] = tokens[fields["station"]] if fields["station"] < len(tokens) else None
        rec["_line"] = line_no
        rec["_column_count"] = not ok
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=[*fields, "_line", "_column_count"])


def read_globk_vel(
    path: str | Path,
    *,
    on_bad: Literal["drop", "raise"] = "drop",
    duplicates: Literal["latest", "first", "raise"] = "latest",
) -> pd.DataFrame:
    """Read a GAMIT/GLOBK ``.vel`` file.

    Header lines (starting ``*`` or ``#``, or any text before the first line whose
    first two fields are numbers) are kept in ``attrs["report"]["header"]``.
    Data lines have 13 fields: ``Long Lat E-vel N-vel E-adj N-adj E-sig N-sig Rho
    H-vel H-adj H-sig Site`` (degrees, mm/yr); the adjustments are not kept.
    With ``duplicates="latest"`` the last line of a repeated site wins.
    """
    path = Path(path)
    text = _open_text(path)
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    for i, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "*#":
            if not rows:
                header.append(line)
            continue
        tokens = stripped.split()
        if not rows and not (len(tokens) >= 2 and _is_number(tokens[0]) and _is_number(tokens[1])):
            header.append(line)
            continue
        rows.append((i, tokens))
    raw = _split_rows(rows, _GLOBK_FIELDS, len(_GLOBK_FIELDS))
    extra = {"header": header[:60], "frame": _frame_from_header(header)}
    return validate_velocities(
        raw, source=path.name, fmt="globk", on_bad=on_bad, duplicates=duplicates, extra_report=extra
    )


def _frame_from_header(header: list[str]) -> str | None:
    for line in header:
        m = re.search(r"(?:reference\s+frame|frame)\s*[:=]?\s*([A-Za-z0-9_]+)", line, flags=re.IGNORECASE)
        if m:
            return m.group(1)
    return None


def read_pbo_vel(
    path: str | Path,
    *,
    on_bad: Literal["drop", "raise"] = "drop",
    duplicates: Literal["latest", "first", "raise"] = "latest",
) -> pd.DataFrame:
    """Read a UNAVCO/EarthScope PBO ``.vel`` file (one line per station segment, m/yr).

    Data lines follow the ``*Dot#`` column line and have 30 fields; north, east,
    up velocities and sigmas (m/yr) become mm/yr, ``Ref_Elong`` (0-360) becomes
    -180..180 and ``Rne`` is ``rho``. A station with several segments (equipment
    changes, offsets) keeps by default the segment with the latest
    ``last_epoch``; the others are counted as ``duplicate_station`` in the report.
    """
    path = Path(path)
    text = _open_text(path)
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    in_data = False
    for i, line in enumerate(text.splitlines(), start=1):
        if not in_data:
            header.append(line)
            in_data = line.lstrip().startswith("*Dot#")
            continue
        if line.strip() and not line.lstrip().startswith("*"):
            rows.append((i, line.split()))
    if not in_data:
        msg = f"{path.name}: no '*Dot#' column line found; not a PBO velocity file (try format='globk')."
        raise SchemaError(msg)
    raw = _split_rows(rows, _PBO_FIELDS, _PBO_NFIELDS)
    for col in ("ve", "vn", "vu", "se", "sn", "su"):
        raw[col] = pd.to_numeric(raw[col], errors="coerce").astype(float) * 1000.0
    raw = _restore_text(raw, rows)
    extra = {"header": header[:5], "frame": _frame_from_header(header[:3])}
    return validate_velocities(
        raw, source=path.name, fmt="pbo", on_bad=on_bad, duplicates=duplicates, epoch="last_epoch",
        extra_report=extra,
    )  # fmt: skip


def _restore_text(raw: pd.DataFrame, rows: list[tuple[int, list[str]]]) -> pd.DataFrame:
    """Put the original text back where m/yr -> mm/yr conversion failed, so errors show the value."""
    for col in ("ve", "vn", "vu", "se", "sn", "su"):
        nan = raw[col].isna().to_numpy() & ~raw["_column_count"].to_numpy(dtype=bool)
        if nan.any():
            raw[col] = raw[col].astype(object)
            for pos in np.flatnonzero(nan):
                raw.at[pos, col] = rows[pos][1][_PBO_FIELDS[col]]
    return raw


def _map_columns(given: list[str], columns: dict[str, str] | None, source: str) -> dict[str, str]:
    """Canonical name -> CSV column."""
    lower = {c.strip().lower(): c for c in given}
    mapping: dict[str, str] = {}
    for canon, aliases in CSV_ALIASES.items():
        if columns and canon in columns:
            if columns[canon] not in given:
                msg = f"{source}: column {columns[canon]!r} given for {canon!r} is not in the file; given {given}."
                raise MissingColumnError(msg)
            mapping[canon] = columns[canon]
            continue
        hit = next((lower[a] for a in aliases if a in lower), None)
        if hit is not None:
            mapping[canon] = hit
    missing = [c for c in ("station", "lon", "lat", "ve", "vn", "se", "sn") if c not in mapping]
    if missing:
        accepted = {c: list(CSV_ALIASES[c]) for c in missing}
        msg = f"{source}: required column(s) {missing} not found; given {given}; accepted names {accepted}."
        raise MissingColumnError(msg)
    return mapping


def read_velocity_csv(
    path: str | Path,
    *,
    columns: dict[str, str] | None = None,
    units: str = "mm/yr",
    on_bad: Literal["drop", "raise"] = "drop",
    duplicates: Literal["latest", "first", "raise"] = "latest",
) -> pd.DataFrame:
    """Read a CSV velocity table (one row per station).

    Parameters
    ----------
    path
        CSV or CSV.gz file with a header line.
    columns
        Optional mapping canonical name -> CSV column, overriding
        :data:`CSV_ALIASES` (e.g. ``{"ve": "east_mm"}``).
    units
        Unit of velocities and sigmas: ``"mm/yr"``, ``"cm/yr"`` or ``"m/yr"``.
    on_bad, duplicates
        See :func:`read_velocities`. Duplicates keep the latest ``last_epoch``
        when that column exists, else the last row.

    Notes
    -----
    A missing ``rho`` column is read as 0 (uncorrelated) and noted in the report.
    """
    if units not in _VELOCITY_UNITS:
        msg = f"The 'units' parameter must be one of {list(_VELOCITY_UNITS)}. Got {units!r} instead."
        raise SchemaError(msg)
    path = Path(path)
    text = _open_text(path)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"cannot be read as CSV ({exc}); for .vel files use format='globk' or 'pbo'."
        raise FlatfileError(msg, file=path.name) from exc
    mapping = _map_columns(list(frame.columns), columns, path.name)
    raw = pd.DataFrame({canon: frame[col] for canon, col in mapping.items()})
    factor = _VELOCITY_UNITS[units]
    if factor != 1.0:
        for col in ("ve", "vn", "se", "sn", "vu", "su"):
            if col in raw:
                num = pd.to_numeric(raw[col], errors="coerce")
                raw[col] = raw[col].where(num.isna(), num * factor)
    extra: dict[str, Any] = {"columns": mapping, "units_in_file": units}
    if "rho" not in raw:
        raw["rho"] = 0.0
        extra["rho"] = "missing in file; set to 0"
    raw["_line"] = np.arange(len(raw)) + 2
    epoch = None
    lower = {c.lower(): c for c in frame.columns}
    if "last_epoch" in lower:
        raw["last_epoch"] = frame[lower["last_epoch"]]
        epoch = "last_epoch"
    return validate_velocities(
        raw, source=path.name, fmt="csv", on_bad=on_bad, duplicates=duplicates, epoch=epoch, extra_report=extra
    )
