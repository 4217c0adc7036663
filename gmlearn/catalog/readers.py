"""Catalogue readers: GeoNet MLNZ20, GeoNet CMT, ComCat-style CSV and QuakeML.

Each reader maps its source onto the canonical table of
:mod:`gmlearn.catalog.frame` and reports duplicated ids and bad rows in
``df.attrs`` (never dropping them silently). :func:`read_catalog` picks the
reader from a file's header.

>>> from gmlearn.catalog.readers import read_mlnz20  # doctest: +SKIP
>>> cat = read_mlnz20(sorted(Path("catalog_geonet_nz").glob("MLNZ20_*.csv.gz")))  # doctest: +SKIP
>>> cat.attrs["duplicates"]["n_removed"]  # doctest: +SKIP
1640
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from gmlearn.catalog.frame import DEPTH_TOLERANCE_KM, CatalogReport, finalize_catalog
from gmlearn.exceptions import MissingColumnError, SchemaError

__all__ = [
    "READERS",
    "read_catalog",
    "read_comcat",
    "read_geonet_cmt",
    "read_mlnz20",
    "read_quakeml",
    "sniff_catalog_format",
]

PathLike = str | os.PathLike
Paths = PathLike | Sequence[PathLike]

#: MLNZ20 columns (the id header is ``#ID`` in the GeoNet files).
MLNZ20_COLUMNS: dict[str, str] = {"event_id": "#ID", "time": "OT", "lat": "Lat", "lon": "Lon", "depth": "Dep"}
#: Magnitudes of the MLNZ20 files.
MLNZ20_MAGNITUDES: tuple[str, ...] = ("MLNZ20", "MLv")
#: GeoNet CMT columns.
CMT_COLUMNS: dict[str, str] = {"event_id": "PublicID", "time": "Date", "lat": "Latitude", "lon": "Longitude", "depth": "CD"}
#: GeoNet CMT magnitudes.
CMT_MAGNITUDES: tuple[str, ...] = ("Mw", "ML")
#: ComCat-style CSV columns (USGS FDSN event web service ``format=csv``).
COMCAT_COLUMNS: dict[str, str] = {
    "event_id": "id", "time": "time", "lat": "latitude", "lon": "longitude", "depth": "depth", "mag": "mag",
}
_NA = ["", "n/a", "N/A", "NaN", "nan", "NA"]
_CMT_NO_ID = "9999999"


def _as_list(paths: Paths) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    out = [Path(p) for p in paths]
    if not out:
        raise SchemaError("No catalogue file given; pass one path or a list of paths.")
    return out


def _read_csv(path: Path, id_column: str) -> pd.DataFrame:
    if not path.is_file():
        msg = f"catalogue file {str(path)!r} does not exist."
        raise FileNotFoundError(msg)
    raw = pd.read_csv(path, dtype={id_column: "string"}, na_values=_NA, keep_default_na=True, low_memory=False)
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw


def _require(raw: pd.DataFrame, columns: Sequence[str], path: Path, fmt: str) -> None:
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        msg = (
            f"{fmt} catalogue {path.name!r} lacks column(s) {missing}; required {list(columns)}, "
            f"given {list(raw.columns)}."
        )
        raise MissingColumnError(msg)


def _number(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _map(raw: pd.DataFrame, columns: dict[str, str], mag_column: str, mag_type: Any, time: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "event_id": raw[columns["event_id"]].astype("string").str.strip(),
            "time": time,
            "lon": _number(raw[columns["lon"]]),
            "lat": _number(raw[columns["lat"]]),
            "depth": _number(raw[columns["depth"]]) if columns.get("depth") in raw.columns else np.nan,
            "mag": _number(raw[mag_column]),
            "mag_type": mag_type,
        }
    )
    out["mag_type"] = out["mag_type"].astype("string")
    return out


def _check_choice(name: str, value: str, allowed: Sequence[str], func: str) -> None:
    if value not in allowed:
        msg = f"The {name!r} parameter of {func} must be one of {list(allowed)}. Got {value!r} instead."
        raise SchemaError(msg)


def read_mlnz20(
    paths: Paths,
    *,
    magnitude: Literal["MLNZ20", "MLv"] = "MLNZ20",
    dedupe: bool = True,
    on_bad: Literal["drop", "raise"] = "drop",
    depth_tolerance_km: float = DEPTH_TOLERANCE_KM,
    warn: bool = True,
) -> pd.DataFrame:
    """Read GeoNet MLNZ20 rapid-event CSVs (``MLNZ20_RapidEvents_YYYY.csv[.gz]``).

    Parameters
    ----------
    paths
        One file or several (e.g. the three yearly files); rows are
        concatenated, then checked together (an id repeated across files is a
        duplicate too).
    magnitude
        ``"MLNZ20"`` (depth-dependent ML of Rhoades et al. 2021) or ``"MLv"``
        (GeoNet rapid ML); becomes ``mag`` and names ``mag_type``.
    dedupe
        Keep the first row of each duplicated ``#ID`` (the 2024 file repeats
        1640 ids). Duplicates are reported either way.
    on_bad
        ``"drop"``: drop rows with a missing magnitude, time or epicentre or an
        out-of-range value, and report them; ``"raise"``: raise at the first.
    depth_tolerance_km
        Accepted negative depth (km above sea level).
    warn
        Emit a :class:`~gmlearn.catalog.frame.CatalogWarning` summarising the report.

    Returns
    -------
    pandas.DataFrame
        Canonical catalogue (see :mod:`gmlearn.catalog.frame`), sorted by time;
        rows with a missing depth are kept with ``depth`` NaN and reported.
    """
    _check_choice("magnitude", magnitude, MLNZ20_MAGNITUDES, "read_mlnz20")
    files = _as_list(paths)
    frames = []
    for path in files:
        raw = _read_csv(path, "#ID")
        if "ID" in raw.columns and "#ID" not in raw.columns:
            raw = raw.rename(columns={"ID": "#ID"})
        _require(raw, [*MLNZ20_COLUMNS.values(), magnitude], path, "MLNZ20")
        time = pd.to_datetime(raw["OT"], utc=True, format="ISO8601", errors="coerce")
        frames.append(_map(raw, MLNZ20_COLUMNS, magnitude, magnitude, time))
    out = pd.concat(frames, ignore_index=True)
    report = CatalogReport(sources=[str(p) for p in files], n_read=len(out))
    return finalize_catalog(out, report, dedupe=dedupe, on_bad=on_bad, depth_tolerance_km=depth_tolerance_km,
                            file=", ".join(p.name for p in files), warn=warn)


def read_geonet_cmt(
    path: PathLike,
    *,
    magnitude: Literal["Mw", "ML"] = "Mw",
    dedupe: bool = True,
    on_bad: Literal["drop", "raise"] = "drop",
    depth_tolerance_km: float = DEPTH_TOLERANCE_KM,
    warn: bool = True,
) -> pd.DataFrame:
    """Read the GeoNet moment-tensor catalogue (``GeoNet_CMT_solutions.csv``).

    ``Date`` (``yyyymmddhhmm00``, UTC) becomes ``time``; ``CD`` (centroid
    depth, km) becomes ``depth``; ``strike1``, ``dip1``, ``rake1`` are kept as
    ``strike``, ``dip``, ``rake``. ``PublicID`` 9999999 means "no event id":
    such rows get the id ``9999999-<Date>`` and are reported.

    Parameters
    ----------
    magnitude
        ``"Mw"`` (default) or ``"ML"``.

    See :func:`read_mlnz20` for the other parameters.
    """
    _check_choice("magnitude", magnitude, CMT_MAGNITUDES, "read_geonet_cmt")
    path = Path(path)
    raw = _read_csv(path, "PublicID")
    _require(raw, [*CMT_COLUMNS.values(), magnitude], path, "GeoNet CMT")
    date = raw["Date"].astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    time = pd.to_datetime(date, format="%Y%m%d%H%M%S", utc=True, errors="coerce")
    ids = raw["PublicID"].astype("string").str.strip()
    no_id = (ids == _CMT_NO_ID).fillna(False).to_numpy(dtype=bool)
    raw = raw.assign(PublicID=ids.where(~no_id, _CMT_NO_ID + "-" + date))
    out = _map(raw, CMT_COLUMNS, magnitude, magnitude, time)
    for name in ("strike", "dip", "rake"):
        if f"{name}1" in raw.columns:
            out[name] = _number(raw[f"{name}1"])
    report = CatalogReport(sources=[str(path)], n_read=len(out))
    if no_id.any():
        report.bad_rows["with no event id (PublicID 9999999)"] = {
            "count": int(no_id.sum()), "examples": [str(v) for v in out["event_id"][no_id].head(5)],
            "action": "id generated", "allowed": "a GeoNet public id",
        }
    return finalize_catalog(out, report, dedupe=dedupe, on_bad=on_bad, depth_tolerance_km=depth_tolerance_km,
                            file=path.name, warn=warn)


def read_comcat(
    path: PathLike,
    *,
    dedupe: bool = True,
    on_bad: Literal["drop", "raise"] = "drop",
    depth_tolerance_km: float = DEPTH_TOLERANCE_KM,
    warn: bool = True,
) -> pd.DataFrame:
    """Read a ComCat-style CSV (USGS FDSN event service, ``format=csv``).

    Required columns: ``time`` (ISO 8601, UTC), ``latitude``, ``longitude``,
    ``depth`` (km), ``mag``, ``id``; ``magType`` is used when present
    (missing types become ``"unknown"``). See :func:`read_mlnz20` for the
    parameters.
    """
    path = Path(path)
    raw = _read_csv(path, "id")
    _require(raw, list(COMCAT_COLUMNS.values()), path, "ComCat")
    time = pd.to_datetime(raw["time"], utc=True, format="ISO8601", errors="coerce")
    mag_type = raw["magType"].astype("string").fillna("unknown") if "magType" in raw.columns else "unknown"
    out = _map(raw, COMCAT_COLUMNS, "mag", mag_type, time)
    report = CatalogReport(sources=[str(path)], n_read=len(out))
    return finalize_catalog(out, report, dedupe=dedupe, on_bad=on_bad, depth_tolerance_km=depth_tolerance_km,
                            file=path.name, warn=warn)


def read_quakeml(
    path: PathLike,
    *,
    dedupe: bool = True,
    on_bad: Literal["drop", "raise"] = "drop",
    depth_tolerance_km: float = DEPTH_TOLERANCE_KM,
    warn: bool = True,
) -> pd.DataFrame:
    """Read a QuakeML file with ObsPy (preferred origin and magnitude of each event).

    Raises
    ------
    ImportError
        ObsPy is not installed (it is optional: ``pip install obspy``).
    """
    try:
        from obspy import read_events
    except ImportError as exc:
        msg = (
            "read_quakeml needs ObsPy, which is not installed; install it with 'pip install obspy' "
            "or export the catalogue as a ComCat-style CSV and use read_comcat."
        )
        raise ImportError(msg) from exc
    path = Path(path)
    rows = [_quakeml_row(ev) for ev in read_events(str(path))]
    out = pd.DataFrame(rows, columns=["event_id", "time", "lon", "lat", "depth", "mag", "mag_type"])
    out["time"] = pd.to_datetime(out["time"], utc=True, errors="coerce")
    out["event_id"] = out["event_id"].astype("string")
    out["mag_type"] = out["mag_type"].astype("string")
    report = CatalogReport(sources=[str(path)], n_read=len(out))
    return finalize_catalog(out, report, dedupe=dedupe, on_bad=on_bad, depth_tolerance_km=depth_tolerance_km,
                            file=path.name, warn=warn)


def _quakeml_row(event: Any) -> dict[str, Any]:
    origin = event.preferred_origin() or (event.origins[0] if event.origins else None)
    mag = event.preferred_magnitude() or (event.magnitudes[0] if event.magnitudes else None)
    rid = str(event.resource_id.id).rsplit("/", 1)[-1].rsplit("=", 1)[-1]
    return {
        "event_id": rid,
        "time": None if origin is None or origin.time is None else origin.time.datetime,
        "lon": np.nan if origin is None or origin.longitude is None else float(origin.longitude),
        "lat": np.nan if origin is None or origin.latitude is None else float(origin.latitude),
        "depth": np.nan if origin is None or origin.depth is None else float(origin.depth) / 1000.0,
        "mag": np.nan if mag is None or mag.mag is None else float(mag.mag),
        "mag_type": "unknown" if mag is None or not mag.magnitude_type else str(mag.magnitude_type),
    }


#: Format name -> reader.
READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "mlnz20": read_mlnz20,
    "cmt": read_geonet_cmt,
    "comcat": read_comcat,
    "quakeml": read_quakeml,
}


def sniff_catalog_format(path: PathLike) -> str:
    """Reader name for a file: ``"mlnz20"``, ``"cmt"``, ``"comcat"`` or ``"quakeml"``.

    Raises
    ------
    SchemaError
        The header matches no known layout (the message lists the columns read).
    """
    path = Path(path)
    if not path.is_file():
        msg = f"catalogue file {str(path)!r} does not exist."
        raise FileNotFoundError(msg)
    name = path.name.lower()
    if name.endswith((".xml", ".qml", ".quakeml", ".xml.gz")):
        return "quakeml"
    header = [str(c).strip() for c in pd.read_csv(path, nrows=0).columns]
    cols = set(header)
    if {"OT", "MLNZ20"} <= cols or {"#ID", "OT"} <= cols:
        return "mlnz20"
    if {"PublicID", "Date", "Mw"} <= cols:
        return "cmt"
    if set(COMCAT_COLUMNS.values()) <= cols:
        return "comcat"
    msg = (
        f"Cannot tell the catalogue format of {path.name!r} from its header {header}; "
        f"pass format= one of {sorted(READERS)}."
    )
    raise SchemaError(msg)


def _unreadable(files: list[Path]) -> str | None:
    """The first gzip file among ``files`` that does not decompress to the end (error path only)."""
    for file in files:
        if Path(file).suffix.lower() != ".gz":
            continue
        try:
            with gzip.open(file, "rb") as fh:
                while fh.read(1 << 20):
                    pass
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError):
            return str(file)
    return None


def read_catalog(paths: Paths, format: str = "auto", **kwargs: Any) -> pd.DataFrame:  # noqa: A002
    """Read one or more catalogue files with the reader their header calls for.

    Parameters
    ----------
    paths
        One path or several; several files must share one format (only the
        MLNZ20 reader takes several files).
    format
        ``"auto"`` (sniff the header) or a key of :data:`READERS`.
    **kwargs
        Passed to the reader (``magnitude``, ``dedupe``, ``on_bad``, ...).
    """
    files = _as_list(paths)
    allowed = ["auto", *READERS]
    _check_choice("format", format, allowed, "read_catalog")
    try:
        fmt = sniff_catalog_format(files[0]) if format == "auto" else format
        if fmt == "mlnz20":
            return read_mlnz20(files, **kwargs)
        if len(files) > 1:
            msg = f"The {fmt!r} reader takes one file; got {len(files)}. Read them one by one and concatenate."
            raise SchemaError(msg)
        return READERS[fmt](files[0], **kwargs)
    except (EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        names = _unreadable(files) or ", ".join(str(f) for f in files)
        msg = f"{names}: the file is truncated or corrupt and cannot be decompressed or decoded ({exc})."
        raise SchemaError(msg) from exc
