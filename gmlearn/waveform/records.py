"""Accelerogram readers: PEER NGA ``.AT2`` files and the FEMA P695 CSV records.

Every reader returns :class:`Record` objects (acceleration in g, uniform ``dt`` in s)
and the folder readers join the metadata with the bundled NGA-West2 subset on the
record sequence number (``record_id`` is the RSN as a string, ``event_id`` the
NGA-West2 event id), so event-grouped splits use the same ids as the GMPE data.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gmlearn.waveform.errors import RecordFormatError

__all__ = [
    "Record",
    "read_at2",
    "read_fema_csv",
    "read_peer_folder",
    "read_fema_folder",
    "read_all",
    "read_component",
    "read_metadata_folder",
    "METADATA_COLUMNS",
    "COMPONENTS",
    "at2_unit",
    "DT_RANGE",
    "NPTS_RANGE",
]

#: Component order of every three-component array: two horizontals then the vertical.
COMPONENTS: tuple[str, str, str] = ("H1", "H2", "V")

_NPTS = re.compile(r"NPTS\s*=\s*([0-9]+)\s*,\s*DT\s*=\s*([0-9.Ee+-]+)", re.IGNORECASE)

#: Accepted time step of an accelerogram (s): 10 kHz to 1 Hz sampling.
DT_RANGE: tuple[float, float] = (1e-4, 1.0)
#: Accepted number of samples (the upper bound is 28 h at 200 Hz).
NPTS_RANGE: tuple[int, int] = (16, 20_000_000)
_G = 9.80665
# Unit spellings of AT2 header line 3 -> (unit, factor to g). A token must not be part of a longer word.
_UNIT_SPELLINGS: tuple[tuple[str, str, float], ...] = (
    (r"CM\s*/\s*S(?:EC)?\s*(?:/\s*S(?:EC)?|\*\*\s*2|\^\s*2|2|²)", "cm/s2", 1.0 / (100 * _G)),
    (r"GALS?", "cm/s2", 1.0 / (100 * _G)),
    (r"MM\s*/\s*S(?:EC)?\s*(?:/\s*S(?:EC)?|\*\*\s*2|\^\s*2|2|²)", "mm/s2", 1.0 / (1000 * _G)),
    (r"M\s*/\s*S(?:EC)?\s*(?:/\s*S(?:EC)?|\*\*\s*2|\^\s*2|2|²)", "m/s2", 1.0 / _G),
    (r"G", "g", 1.0),
)


@dataclass
class Record:
    """One recording: up to three components on a common time step.

    Attributes
    ----------
    acc
        Acceleration in g, shape (3, n) in the order H1, H2, V; a missing
        component is a row of NaN (see ``has_component``).
    dt
        Time step in s.
    record_id, event_id
        NGA-West2 record sequence number and event id (strings).
    meta
        Scenario and source information: ``mag``, ``rrup``, ``rjb``, ``vs30``,
        ``event_name``, ``station``, ``source`` (``peer_at2`` or ``fema_p695``), files.
    """

    acc: np.ndarray
    dt: float
    record_id: str
    event_id: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def has_component(self) -> np.ndarray:
        """Boolean (3,) mask of the components present."""
        return ~np.all(np.isnan(self.acc), axis=-1)

    @property
    def duration(self) -> float:
        """Record length in s."""
        return self.acc.shape[-1] * self.dt


def _open_text(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="latin-1") as fh:
            return fh.read().splitlines()
    except (OSError, EOFError) as exc:
        raise RecordFormatError(f"cannot read the file ({exc}); expected a text or gzip-compressed text file",
                                file=str(path)) from exc


def at2_unit(line: str) -> tuple[str, float]:
    """Acceleration unit stated on AT2 header line 3 and its factor to g.

    Recognises g (``UNITS OF G``), cm/s² (``CM/S/S``, ``CM/SEC/SEC``, ``CM/S2``,
    ``CM/S^2``, ``CM/S**2``, ``GAL``, ``UNITS OF GAL``), m/s² and mm/s² in the
    same spellings, in any case and with words around them
    (``CM/S/S (AVERAGE)``).

    Raises
    ------
    ValueError
        If no unit, or units of two kinds, are found on the line.
    """
    text = line.upper()
    found: dict[str, float] = {}
    rest = text
    for pattern, unit, factor in _UNIT_SPELLINGS:
        regex = re.compile(rf"(?<![A-Z0-9/]){pattern}(?![A-Z0-9])")
        if regex.search(rest):
            found[unit] = factor
            rest = regex.sub(" ", rest)
    if len(found) != 1:
        what = "no acceleration unit" if not found else f"more than one unit ({', '.join(sorted(found))})"
        msg = (f"line 3 states {what}; expected one of g, cm/s/s (gal), m/s/s, mm/s/s, e.g. "
               "'ACCELERATION TIME SERIES IN UNITS OF G'")
        raise ValueError(msg)
    unit, factor = next(iter(found.items()))
    return unit, factor


def _check_sampling(npts: int, dt: float, path: Path, row: int | None) -> None:
    lo, hi = DT_RANGE
    if not np.isfinite(dt) or not lo <= dt <= hi:
        raise RecordFormatError(f"DT must be a time step in s between {lo:g} and {hi:g} (10 kHz to 1 Hz sampling)",
                                file=str(path), row=row, value=dt)
    n_lo, n_hi = NPTS_RANGE
    if not n_lo <= npts <= n_hi:
        raise RecordFormatError(f"NPTS must be between {n_lo} and {n_hi} samples", file=str(path), row=row, value=npts)


def read_at2(path: str | Path) -> tuple[np.ndarray, float, dict]:
    """Read one PEER NGA ``.AT2`` file (optionally ``.gz``).

    Returns
    -------
    acc : numpy.ndarray, shape (npts,)
        Acceleration in g.
    dt : float
        Time step in s.
    header : dict
        ``title`` (line 2: event, date, station, component), ``units`` (line 3)
        and ``unit`` (the unit read there: ``g``, ``cm/s2``, ``m/s2`` or
        ``mm/s2``; values are converted to g).

    Raises
    ------
    RecordFormatError
        If the header lacks ``NPTS= n, DT= dt``, line 3 states no unit or an
        ambiguous one (:func:`at2_unit`), ``DT`` lies outside :data:`DT_RANGE`,
        ``NPTS`` outside :data:`NPTS_RANGE`, a value is not a finite number,
        or the number of values differs from ``NPTS``.
    """
    path = Path(path)
    lines = _open_text(path)
    if len(lines) < 4:
        raise RecordFormatError(f"an AT2 file has 4 header lines then values; found only {len(lines)} lines", file=str(path))
    match = _NPTS.search(lines[3])
    if match is None:
        raise RecordFormatError("line 4 must read 'NPTS= <n>, DT= <dt> SEC' (PEER AT2 format)", file=str(path), row=4,
                                value=lines[3].strip()[:60])
    try:
        npts, dt = int(match.group(1)), float(match.group(2))
    except ValueError:
        raise RecordFormatError("line 4 must read 'NPTS= <n>, DT= <dt> SEC' with numbers", file=str(path), row=4,
                                value=lines[3].strip()[:60]) from None
    _check_sampling(npts, dt, path, 4)
    try:
        unit, factor = at2_unit(lines[2])
    except ValueError as exc:
        raise RecordFormatError(str(exc), file=str(path), row=3, value=lines[2].strip()[:60]) from None
    try:
        values = np.array(" ".join(lines[4:]).split(), dtype=float)
    except ValueError as exc:
        bad = next(t for t in " ".join(lines[4:]).split() if not _is_float(t))
        raise RecordFormatError("acceleration values must be numbers", file=str(path), value=bad) from exc
    if values.size != npts:
        raise RecordFormatError(f"the header declares NPTS={npts} but {values.size} values follow", file=str(path),
                                row=4)
    if not np.all(np.isfinite(values)):
        raise RecordFormatError("acceleration values must be finite", file=str(path))
    return values * factor if factor != 1.0 else values, dt, {"title": lines[1].strip(), "units": lines[2].strip(),
                                                              "unit": unit}


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_fema_csv(path: str | Path) -> tuple[np.ndarray, float]:
    """Read one FEMA P695 component file (``time_s,acc_g`` CSV, optionally gzip).

    Returns acceleration in g, shape (n,), and the time step in s.

    Raises
    ------
    RecordFormatError
        If the header is not ``time_s,acc_g`` (the only unit read), a value is not
        a finite number (NaN and inf are refused), the time step is not uniform
        or outside :data:`DT_RANGE`, or the length is outside :data:`NPTS_RANGE`.
    """
    path = Path(path)
    lines = _open_text(path)
    if not lines or lines[0].strip().replace(" ", "") != "time_s,acc_g":
        raise RecordFormatError("the header must be 'time_s,acc_g'", file=str(path), row=1,
                                value=(lines[0][:40] if lines else ""))
    try:
        data = np.array([ln.split(",") for ln in lines[1:] if ln.strip()], dtype=float)
    except ValueError as exc:
        raise RecordFormatError(f"every row must hold two numbers (time_s, acc_g): {exc}", file=str(path)) from exc
    if data.ndim != 2 or data.shape[1] != 2 or len(data) < 2:
        raise RecordFormatError("expected at least two rows of 'time_s,acc_g'", file=str(path))
    bad = ~np.isfinite(data).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise RecordFormatError(f"time_s and acc_g must be finite numbers; {int(bad.sum())} row(s) hold NaN or inf",
                                file=str(path), row=row + 2, value=lines[1:][row].strip()[:40] if row < len(lines) - 1 else None)
    steps = np.diff(data[:, 0])
    dt = float(np.median(steps))
    if dt <= 0 or np.max(np.abs(steps - dt)) > 1e-3 * dt + 1e-4:
        raise RecordFormatError("time_s must increase with a uniform step", file=str(path), value=dt)
    _check_sampling(len(data), dt, path, None)
    return data[:, 1], round(dt, 7)


def _subset_index() -> "pandas.DataFrame":  # noqa: F821
    from gmlearn import datasets

    table = datasets.load("ngawest2_subset")
    cols = ["record_id", "event_id", "event_name", "mag", "rrup", "rjb", "vs30", "station_id"]
    return table[cols].assign(record_id=table["record_id"].astype(str)).set_index("record_id")


def _stack(components: list[np.ndarray | None]) -> np.ndarray:
    n = max(len(c) for c in components if c is not None)
    out = np.full((3, n), np.nan)
    for i, comp in enumerate(components):
        if comp is not None:
            out[i, : len(comp)] = comp
            out[i, len(comp):] = 0.0
    return out


def _joined_meta(rsn: str, subset, source: str, extra: dict) -> tuple[str, dict]:
    meta = {"source": source, **extra}
    if rsn in subset.index:
        row = subset.loc[rsn]
        meta.update({k: (float(row[k]) if k in ("mag", "rrup", "rjb", "vs30") else str(row[k]))
                     for k in ("mag", "rrup", "rjb", "vs30", "event_name", "station_id")})
        return str(row["event_id"]), meta
    return f"{source}:{extra.get('event_name', '')}", meta


def read_peer_folder(folder: str | Path, *, rsns: list[int] | None = None) -> list[Record]:
    """Read the PEER AT2 download in ``folder`` (``metadata_records.csv.gz`` + ``records/``).

    Scenario values (``mag``, ``rrup``, ``rjb``, ``vs30``) and ``event_id`` come from the
    bundled NGA-West2 subset joined on RSN; the download's own Arias intensity and
    durations are kept in ``meta`` as ``peer_*``.
    """
    import pandas as pd

    folder = Path(folder)
    table = pd.read_csv(folder / "metadata_records.csv.gz", dtype=str)
    subset = _subset_index()
    out = []
    for _, row in table.iterrows():
        rsn = str(int(row["Record Sequence Number"]))
        if rsns is not None and int(rsn) not in rsns:
            continue
        comps: list[np.ndarray | None] = []
        dts = []
        for key in ("Horizontal-1 Acc. Filename", "Horizontal-2 Acc. Filename", "Vertical Acc. Filename"):
            name = str(row[key]).strip()
            file = folder / "records" / f"{name}.gz"
            if name in ("", "-", "nan") or not file.exists():
                comps.append(None)
                continue
            acc, dt, _ = read_at2(file)
            comps.append(acc)
            dts.append(dt)
        if len(set(dts)) > 1:
            raise RecordFormatError(f"components of RSN {rsn} have different time steps {sorted(set(dts))}",
                                    file=str(folder))
        extra = {"event_name": row["Earthquake Name"], "component_npts": [0 if c is None else len(c) for c in comps],
                 "files": [str(row[k]) for k in (
            "Horizontal-1 Acc. Filename", "Horizontal-2 Acc. Filename", "Vertical Acc. Filename")],
            "peer_arias_m_s": _num(row["Arias Intensity (m/sec)"]), "peer_d5_75": _num(row["5-75% Duration (sec)"]),
            "peer_d5_95": _num(row["5-95% Duration (sec)"])}
        event_id, meta = _joined_meta(rsn, subset, "peer_at2", extra)
        out.append(Record(_stack(comps), dts[0], rsn, event_id, meta))
    return out


def _num(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def read_fema_folder(folder: str | Path) -> list[Record]:
    """Read the FEMA P695 record sets in ``folder`` (two horizontal components each; V is NaN)."""
    import pandas as pd

    folder = Path(folder)
    table = pd.read_csv(folder / "metadata_fema_p695_components.csv")
    subset = _subset_index()
    out = []
    for rsn, group in table.groupby("RSN", sort=True):
        group = group.sort_values("component_id")
        comps: list[np.ndarray | None] = []
        dts = []
        for file in group["file"].iloc[:2]:
            acc, dt = read_fema_csv(folder / file)
            comps.append(acc)
            dts.append(dt)
        comps.append(None)
        first = group.iloc[0]
        extra = {"event_name": str(first["EarthquakeName"]), "set": str(first["set"]), "files": list(group["file"])}
        event_id, meta = _joined_meta(str(rsn), subset, "fema_p695", extra)
        for key, col in (("mag", "EarthquakeMagnitude"), ("rrup", "SiteDistanceClosestToPlane"),
                         ("rjb", "SiteDistanceJoynerBoore"), ("vs30", "SiteVs30")):
            meta.setdefault(key, float(first[col]))
        out.append(Record(_stack(comps), float(np.mean(dts)), str(rsn), event_id, meta))
    return out


def read_all(shared: str | Path) -> list[Record]:
    """Both real record sets under the shared data folder; a RSN present in both is kept once (PEER AT2 copy)."""
    shared = Path(shared)
    peer = read_peer_folder(shared / "waveforms_peer_at2")
    seen = {r.record_id for r in peer}
    fema = [r for r in read_fema_folder(shared / "waveforms_fema_p695") if r.record_id not in seen]
    return peer + fema


#: Columns of the metadata CSV read by :func:`read_metadata_folder` (``rake``, ``h2``, ``v`` optional).
METADATA_COLUMNS = ("record_id", "event_id", "mag", "rrup", "vs30", "h1")


def read_component(path: str | Path) -> tuple[np.ndarray, float]:
    """One acceleration component (g) and its time step (s), the format chosen by the file suffix.

    - ``.at2`` (PEER, optionally ``.gz``): :func:`read_at2`;
    - ``.csv`` with the header ``time_s,acc_g`` (FEMA P695): :func:`read_fema_csv`;
    - ``.npz``: arrays ``acc`` (n,) in g and ``dt`` (s);
    - any other text (``.txt``, ``.dat``, other ``.csv``): two columns, time (s) and acceleration (g),
      separated by spaces, tabs or commas; lines starting with ``#`` and a non-numeric header line are skipped.
    """
    path = Path(path)
    suffixes = [x.lower() for x in path.suffixes]
    if not path.exists():
        raise RecordFormatError("file not found", file=str(path))
    if ".at2" in suffixes:
        acc, dt, _ = read_at2(path)
        return acc, dt
    if suffixes and suffixes[-1] == ".npz":
        with np.load(path, allow_pickle=False) as data:
            if "acc" not in data or "dt" not in data:
                raise RecordFormatError(f"an NPZ component needs arrays 'acc' and 'dt'; found {sorted(data.files)}",
                                        file=str(path))
            acc, dt = np.asarray(data["acc"], dtype=float).ravel(), float(data["dt"])
        if not np.isfinite(dt) or dt <= 0:
            raise RecordFormatError("dt must be a positive time step in s", file=str(path), value=dt)
        _check_sampling(acc.size, dt, path, None)
        if not np.isfinite(acc).all():
            raise RecordFormatError("acceleration values must be finite (NaN and inf are refused)", file=str(path))
        return acc, dt
    lines = _open_text(path)
    if lines and lines[0].strip().replace(" ", "") == "time_s,acc_g":
        return read_fema_csv(path)
    rows = [ln.replace(",", " ").split() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if rows and not all(_is_float(t) for t in rows[0]):
        rows = rows[1:]
    if len(rows) < 2 or any(len(r) != 2 or not all(_is_float(t) for t in r) for r in rows):
        raise RecordFormatError("a text component must hold two numeric columns: time (s) and acceleration (g)",
                                file=str(path))
    data = np.array(rows, dtype=float)
    if not np.isfinite(data).all():
        raise RecordFormatError("time and acceleration must be finite numbers (NaN and inf are refused)", file=str(path))
    steps = np.diff(data[:, 0])
    dt = float(np.median(steps))
    if dt <= 0 or np.max(np.abs(steps - dt)) > 1e-3 * dt + 1e-6:
        raise RecordFormatError("time must increase with a uniform step", file=str(path), value=dt)
    _check_sampling(len(data), dt, path, None)
    return data[:, 1], round(dt, 7)


def read_metadata_folder(folder: str | Path, metadata: str | Path) -> list[Record]:
    """Records listed in a metadata CSV, with component files under ``folder``.

    The CSV holds one row per record with the columns :data:`METADATA_COLUMNS`
    (``record_id``, ``event_id``, ``mag``, ``rrup`` in km, ``vs30`` in m/s, ``h1``)
    and optionally ``h2``, ``v`` and ``rake`` (degrees). ``h1``/``h2``/``v`` are file
    paths relative to ``folder`` in any format :func:`read_component` reads; a blank
    ``h2`` or ``v`` is a missing component. Rows are returned sorted by ``record_id``.

    Raises
    ------
    RecordFormatError
        For a missing column, a non-numeric condition, components with different time
        steps or an unreadable file.
    """
    import pandas as pd

    folder, metadata = Path(folder), Path(metadata)
    if not metadata.exists():
        raise RecordFormatError("metadata CSV not found", file=str(metadata))
    table = pd.read_csv(metadata, dtype=str, keep_default_na=False)
    missing = [c for c in METADATA_COLUMNS if c not in table.columns]
    if missing:
        raise RecordFormatError(f"the metadata CSV lacks the columns {missing}; it has {list(table.columns)} and "
                                f"needs {list(METADATA_COLUMNS)} (optional: h2, v, rake)", file=str(metadata))
    out = []
    for i, row in table.sort_values("record_id", kind="stable").iterrows():
        meta: dict = {"source": "metadata_csv"}
        for key in ("mag", "rrup", "vs30", "rake"):
            text = str(row.get(key, "0" if key == "rake" else "")).strip() or ("0" if key == "rake" else "")
            if not _is_float(text):
                raise RecordFormatError(f"column {key!r} must be a number", file=str(metadata), row=int(i) + 2,
                                        value=text)
            meta[key] = float(text)
        meta["rjb"] = meta["rrup"]
        comps: list[np.ndarray | None] = []
        dts = []
        for key in ("h1", "h2", "v"):
            name = str(row.get(key, "")).strip()
            if not name:
                comps.append(None)
                continue
            acc, dt = read_component(folder / name)
            comps.append(acc)
            dts.append(dt)
        if comps[0] is None:
            raise RecordFormatError("column 'h1' must name a component file", file=str(metadata), row=int(i) + 2)
        if max(dts) - min(dts) > 1e-9:
            raise RecordFormatError(f"components of record {row['record_id']} have different time steps "
                                    f"{sorted(set(dts))}", file=str(metadata), row=int(i) + 2)
        meta["files"] = [str(row.get(k, "")) for k in ("h1", "h2", "v")]
        out.append(Record(_stack(comps), dts[0], str(row["record_id"]), str(row["event_id"]), meta))
    return out
