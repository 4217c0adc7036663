"""Reader for PEER NGA-West2 flatfiles (Ancheta et al. 2014, PEER Report 2013/03).

Three layouts of the same RotD50 table are read, detected from their headers:

``peer``
    The PEER public flatfile
    (``Updated_NGA_West2_Flatfile_RotD50_d050_public_version.csv``), 21,540
    records, ``-999`` for missing values.
``smtk``
    GEM-SMTK's renamed copy (``Record Sequence Number``, ``Rupture Distance
    (km)``, ``SA(0.010)`` ...), blank for missing values, Z2.5 in metres.
``simcenter``
    NHERI SimCenter's ``NGAWest2-*.csv`` (``RecId``, ``ClstD``, ``T0.010S`` ...).

Keys
----
``record_id`` is the record sequence number (RSN), ``event_id`` the EQID and
``station_id`` PEER's *station sequence number* (SSN: ``Station Sequence
Number``, SimCenter ``StationSeqNo``; GEM-SMTK calls it ``Station ID``), so
one station has one id in every layout. The agency station number (PEER
``Station ID  No.``, SimCenter ``StationId``, SMTK ``Station Code``) is not a
key: in the SimCenter 1000-record file 13 of its values name two or three
different SSNs, with different vs30 or coordinates (e.g. 655: SSN 110 with
vs30 373.07 m/s and SSN 1153 with 525.79 m/s), and 232 values are blank.

Units are those of the vocabulary except Z2.5 (metres in the sources,
converted to km). All NGA-West2 events are shallow crustal events in active
regions: ``tectonic_region`` is ``"crustal"`` unless the layout has a column
for it (GEM-SMTK).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gmlearn.exceptions import FlatfileError
from gmlearn.schema import imt_string, sort_imts
from gmlearn.store.readers.files import read_csv
from gmlearn.store.validation import DISTANCES, REQUIRED, to_canonical

__all__ = ["LAYOUTS", "SENTINELS", "read_ngawest2"]

#: Values that mean "missing" in NGA-West2 tables (PEER writes -999).
SENTINELS: tuple[float, ...] = (-999.0,)

#: Tectonic labels of the GEM-SMTK layout -> vocabulary.
_SMTK_TECTONIC: dict[str, str] = {
    "crustal": "crustal",
    "inslab": "slab",
    "interface": "interface",
    "stable": "stable",
    "volcanic": "volcanic",
    "geothermal": "unknown",
    "oceanic_crust": "unknown",
}

#: Columns a record cannot be kept without (``to_canonical`` rejects them).
_ESSENTIAL: tuple[str, ...] = ("record_id", *REQUIRED)

#: Placeholder values that let rows about to be dropped pass validation.
_PLACEHOLDER: dict[str, float] = {"mag": 5.0, "vs30": 760.0}


@dataclass(frozen=True)
class Layout:
    """Where one NGA-West2 layout keeps each vocabulary column.

    Attributes
    ----------
    name
        Layout name (``"peer"``, ``"smtk"``, ``"simcenter"``).
    signature
        Headers that together identify the layout.
    columns
        Vocabulary name -> source header (compared with surrounding blanks
        removed and inner runs of blanks collapsed).
    pga, pgv
        Headers of PGA (g) and PGV (cm/s).
    sa_pattern
        Regular expression of spectral headers; group 1 is the period in s.
    measured_code
        Value of the vs30 class column meaning "measured" (others: inferred).
    tectonic_map
        Source tectonic label -> vocabulary, when ``columns`` has one.
    """

    name: str
    signature: tuple[str, ...]
    columns: Mapping[str, str]
    pga: str
    pgv: str
    sa_pattern: str
    measured_code: float | None = None
    tectonic_map: Mapping[str, str] = field(default_factory=dict)


# Full PEER header names verified against public code that reads the PEER file
# (2025-11): GEMScienceTools/oq-mbtk openquake/smt/residuals/parsers/
# ngawest2_flatfile_parser.py (EQID, Earthquake Name, Earthquake Magnitude,
# Hypocenter Latitude (deg), Hypocenter Longitude (deg), Hypocenter Depth (km),
# Strike (deg), Dip (deg), Rake Angle (deg), Depth to Top Of Fault Rupture
# Model, Fault Rupture Length for Calculation of Ry (km), Fault Rupture Width
# (km), Station Latitude, Station Longitude, Vs30 (m/s) selected for analysis,
# Measured/Inferred Class [0 = measured, "Appendix C" of the PEER report],
# Northern CA/Southern CA - H11 Z1 (m), Northern CA/Southern CA - H11 Z2.5 (m),
# EpiD (km), Joyner-Boore Dist. (km), Rx, Ry 2, PGA (g), PGV (cm/sec), T0.010S),
# and a full header listing in a stream2segment-style NGA-West2 processing
# script (Record Sequence Number, Station Sequence Number, "Station ID  No."
# with two blanks, HypD (km), ClstD (km), Preferred NEHRP Based on Vs30,
# Lowest Usable Freq - Ave. Component (Hz), T0.010S ... T20.000S). "Ry 2" is
# Ry, not Ry0, so it is not mapped.
PEER = Layout(
    name="peer",
    signature=("Record Sequence Number", "EQID", "ClstD (km)", "Vs30 (m/s) selected for analysis"),
    columns={
        "record_id": "Record Sequence Number",
        "event_id": "EQID",
        "event_name": "Earthquake Name",
        "mag": "Earthquake Magnitude",
        "strike": "Strike (deg)",
        "dip": "Dip (deg)",
        "rake": "Rake Angle (deg)",
        "hypo_lat": "Hypocenter Latitude (deg)",
        "hypo_lon": "Hypocenter Longitude (deg)",
        "hypo_depth": "Hypocenter Depth (km)",
        "ztor": "Depth to Top Of Fault Rupture Model",
        "width": "Fault Rupture Width (km)",
        "length": "Fault Rupture Length for Calculation of Ry (km)",
        "station_id": "Station Sequence Number",
        "lat": "Station Latitude",
        "lon": "Station Longitude",
        "vs30": "Vs30 (m/s) selected for analysis",
        "vs30measured": "Measured/Inferred Class",
        "site_class": "Preferred NEHRP Based on Vs30",
        "z1pt0": "Northern CA/Southern CA - H11 Z1 (m)",
        "z2pt5": "Northern CA/Southern CA - H11 Z2.5 (m)",
        "repi": "EpiD (km)",
        "rhypo": "HypD (km)",
        "rjb": "Joyner-Boore Dist. (km)",
        "rrup": "ClstD (km)",
        "rx": "Rx",
        "lowest_usable_freq": "Lowest Usable Freq - Ave. Component (Hz)",
    },
    pga="PGA (g)",
    pgv="PGV (cm/sec)",
    sa_pattern=r"^T(\d+(?:\.\d*)?)S$",
    measured_code=0.0,
)

# GEM-SMTK header names as in gmpe_smtk_ngawest2_flatfile_sample_fixedheader.csv.gz.
# Its "Station ID" equals SimCenter's StationSeqNo on every shared RSN (the SSN);
# its "Fault Plane (1,2, X)" picks nodal plane 1 or 2 (see _fault_plane). Its
# "Ry0 (km)" is not Ry0: 45 of the 98 values are negative. It is Ry measured
# from the middle of the rupture (max(|Ry| - L/2, 0) <= Rjb on every record),
# so it is not mapped; derive ry0 from it and the rupture length if needed.
SMTK = Layout(
    name="smtk",
    signature=("Record Sequence Number", "EQID", "Rupture Distance (km)", "Preferred Vs30 (m/s)"),
    columns={
        "record_id": "Record Sequence Number",
        "event_id": "EQID",
        "event_name": "Earthquake Name",
        "mag": "Magnitude",
        "strike": "Nodal Plane 1 Strike (deg)",
        "dip": "Nodal Plane 1 Dip (deg)",
        "rake": "Nodal Plane 1 Rake Angle (deg)",
        "hypo_lat": "Epicenter Latitude (deg, positive N)",
        "hypo_lon": "Epicenter Longitude (deg, positive E)",
        "hypo_depth": "Hypocenter Depth (km)",
        "ztor": "Depth to Top Of Fault Rupture Model",
        "width": "Fault Rupture Width (km)",
        "length": "Fault Rupture Length (km)",
        "tectonic_region": (
            "Tectonic environment (Crustal, Inslab, Interface, Stable, Geothermal, Volcanic, Oceanic_crust)"
        ),
        "station_id": "Station ID",
        "lat": "Station Latitude (deg positive N)",
        "lon": "Station Longitude (deg positive E)",
        "vs30": "Preferred Vs30 (m/s)",
        "vs30measured": "Measured(1)/Inferred(2) Class",
        "site_class": "Preferred NEHRP Based on Vs30",
        "z1pt0": "Z1 (m)",
        "z2pt5": "Z2.5 (m)",
        "repi": "Epicentral Distance (km)",
        "rhypo": "Hypocentral Distance (km)",
        "rjb": "Joyner-Boore Distance (km)",
        "rrup": "Rupture Distance (km)",
        "rx": "Rx (km)",
        "lowest_usable_freq": "Lowest Usable Freq - Ave. Component (Hz)",
    },
    pga="PGA (g)",
    pgv="PGV (cm/s)",
    sa_pattern=r"^SA\((\d+(?:\.\d*)?)\)$",
    measured_code=1.0,
    tectonic_map=_SMTK_TECTONIC,
)

# SimCenter header names as in simcenter_NGAWest2-1000.csv.gz ("HypoCtrLatitude "
# has a trailing blank there; headers are compared without surrounding blanks).
SIMCENTER = Layout(
    name="simcenter",
    signature=("RecId", "EqId", "ClstD", "Vs30"),
    columns={
        "record_id": "RecId",
        "event_id": "EqId",
        "event_name": "EqName",
        "mag": "Magnitude",
        "strike": "Strike",
        "dip": "Dip",
        "rake": "Rake",
        "hypo_lat": "HypoCtrLatitude",
        "hypo_lon": "HypoCtrLongitude",
        "hypo_depth": "HypocenterDepth",
        "station_id": "StationSeqNo",
        "lat": "StationLatitude",
        "lon": "StationLongitude",
        "vs30": "Vs30",
        "repi": "EpiD",
        "rhypo": "HypD",
        "rjb": "JBD",
        "rrup": "ClstD",
        "rx": "Rx",
        "lowest_usable_freq": "Lowest Usable Freq",
    },
    pga="PGA",
    pgv="PGV",
    sa_pattern=r"^T(\d+(?:\.\d*)?)S$",
)

#: The layouts, in the order they are tried.
LAYOUTS: dict[str, Layout] = {lay.name: lay for lay in (PEER, SMTK, SIMCENTER)}

#: Station and event attributes that must agree between records of one key.
_STATION_ATTRS: tuple[str, ...] = ("vs30", "lat", "lon", "z1pt0", "z2pt5")
_EVENT_ATTRS: tuple[str, ...] = ("mag", "hypo_lat", "hypo_lon", "hypo_depth", "ztor", "width", "length")


def _norm(header: object) -> str:
    """A header without surrounding blanks and with inner runs of blanks as one."""
    return " ".join(str(header).split())


def _header_index(columns: Sequence[object]) -> dict[str, str]:
    """Normalised header -> header as written in the file (first one wins)."""
    index: dict[str, str] = {}
    for col in columns:
        index.setdefault(_norm(col), str(col))
    return index


def _detect(columns: Sequence[object], file: str, layout: str) -> Layout:
    if layout != "auto" and layout not in LAYOUTS:
        msg = (
            f"The 'layout' parameter of read_ngawest2 must be one of {['auto', *LAYOUTS]}. "
            f"Got {layout!r} instead."
        )
        raise ValueError(msg)
    if layout != "auto":
        return LAYOUTS[layout]
    index = _header_index(columns)
    for lay in LAYOUTS.values():
        if all(_norm(h) in index for h in lay.signature):
            return lay
    looked = "; ".join(f"{lay.name}: {list(lay.signature)}" for lay in LAYOUTS.values())
    msg = (
        f"not an NGA-West2 flatfile of a known layout: none of these header sets is complete ({looked}). "
        "Pass layout=... if the file is one of them, or use read_generic with a mapping."
    )
    raise FlatfileError(msg, file=file)


def _source_columns(lay: Layout, index: Mapping[str, str]) -> dict[str, str]:
    """Vocabulary -> header in the file; required ones are kept even if absent."""
    out: dict[str, str] = {}
    for name, header in lay.columns.items():
        if _norm(header) in index:
            out[name] = index[_norm(header)]
        elif name in _ESSENTIAL or name in DISTANCES:
            out[name] = header  # absent: to_canonical names it in MissingColumnError
    return out


def _imt_columns(raw: pd.DataFrame, lay: Layout, index: Mapping[str, str]) -> dict[str, str]:
    """IMT string -> header, for PGA, PGV and every spectral column."""
    found: dict[str, str] = {}
    for imt, header in (("PGA", lay.pga), ("PGV", lay.pgv)):
        if _norm(header) in index:
            found[imt] = index[_norm(header)]
    pattern = re.compile(lay.sa_pattern)
    for col in raw.columns:
        match = pattern.match(_norm(col))
        if match is not None:
            found.setdefault(imt_string(f"SA({match.group(1)})"), str(col))
    return found


def _select_imts(found: Mapping[str, str], imts: Sequence[str] | None, file: str) -> dict[str, str]:
    if imts is None:
        return {i: found[i] for i in sort_imts(found)}
    wanted = [imt_string(i) for i in imts]
    unknown = [i for i in wanted if i not in found]
    if unknown:
        msg = f"IMT(s) {unknown} not in this file; it has {sort_imts(found)}."
        raise FlatfileError(msg, file=file)
    return {i: found[i] for i in wanted}


def _numbers(values: pd.Series) -> np.ndarray:
    """Cells as floats; blanks and text become NaN."""
    text = values.astype("string").str.strip()
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _missing(values: pd.Series) -> np.ndarray:
    """True where a cell is blank, NaN or a sentinel."""
    text = values.astype("string").str.strip().fillna("")
    return values.isna().to_numpy() | (text == "").to_numpy(dtype=bool) | np.isin(_numbers(values), SENTINELS)


def _vs30_class(values: pd.Series, measured: float, *, source: str, file: str) -> pd.Series:
    """A measured/inferred class code as "1"/"0" text (missing stays missing).

    PEER's ``Measured/Inferred Class`` is 0 for a measured vs30 and 1, 2, 3 ...
    for the ways of inferring it; GEM-SMTK writes 1 (measured) and 2 (inferred).
    """
    num = _numbers(values)
    gone = _missing(values)
    with np.errstate(invalid="ignore"):
        bad = ~gone & (np.isnan(num) | (num % 1 != 0))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        msg = f"'vs30measured' class must be an integer code ({measured:g} = measured)."
        raise FlatfileError(msg, file=file, column=source, row=pos + 1, value=values.iloc[pos])
    flag = np.where(num == measured, "1", "0").astype(object)
    flag[gone] = None
    return pd.Series(flag, index=values.index, dtype="object")


def _to_km(values: pd.Series) -> pd.Series:
    """Metres -> km for numbers; text and sentinels are left for validation to judge."""
    num = _numbers(values)
    ok = ~np.isnan(num) & ~np.isin(num, SENTINELS)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.where(~ok, num / 1000.0)
    out = values.astype("object").copy()
    out[ok] = num[ok] / 1000.0
    return out


def _fault_plane(raw: pd.DataFrame, index: Mapping[str, str]) -> None:
    """GEM-SMTK: take strike, dip and rake of nodal plane 2 where it is the fault plane."""
    flag = index.get("Fault Plane (1,2, X)")
    if flag is None:
        return
    second = raw[flag].astype("string").str.strip().isin(["2", "2.0"]).to_numpy()
    if not second.any():
        return
    for what in ("Strike (deg)", "Dip (deg)", "Rake Angle (deg)"):
        one, two = index.get(f"Nodal Plane 1 {what}"), index.get(f"Nodal Plane 2 {what}")
        if one is not None and two is not None:
            raw[one] = raw[one].astype("object").where(~second, raw[two])


def _prepare(raw: pd.DataFrame, lay: Layout, columns: Mapping[str, str], file: str) -> pd.DataFrame:
    """A copy of ``raw`` with layout quirks resolved into vocabulary units."""
    raw = raw.copy()
    index = _header_index(raw.columns)
    if lay is SMTK:
        _fault_plane(raw, index)
    if "z2pt5" in columns and columns["z2pt5"] in raw:
        raw[columns["z2pt5"]] = _to_km(raw[columns["z2pt5"]])
    if "vs30measured" in columns and lay.measured_code is not None and columns["vs30measured"] in raw:
        src = columns["vs30measured"]
        raw[src] = _vs30_class(raw[src], lay.measured_code, source=src, file=file)
    for name in ("event_name", "site_class"):
        if name in columns and columns[name] in raw:
            src = columns[name]
            raw[src] = raw[src].where(~_missing(raw[src]), None)
    return raw


def _incomplete(raw: pd.DataFrame, columns: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Essential vocabulary name -> rows where it is missing (only names with any)."""
    out: dict[str, np.ndarray] = {}
    for name in _ESSENTIAL:
        src = columns.get(name)
        if src is None or src not in raw:
            continue
        gone = _missing(raw[src])
        if gone.any():
            out[name] = gone
    return out


def _fill_placeholders(raw: pd.DataFrame, columns: Mapping[str, str], gaps: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Let rows that will be dropped pass validation; they never reach the output.

    Validating every row of the file keeps the row numbers in error messages
    those of the file. Ids get negative numbers (unique, never a real RSN).
    """
    raw = raw.copy()
    for name, gone in gaps.items():
        src = columns[name]
        if name in _PLACEHOLDER:
            other: object = _PLACEHOLDER[name]
        else:
            other = pd.Series(-np.arange(1, len(raw) + 1), index=raw.index)
        raw[src] = raw[src].where(~gone, other)
    return raw


def _id_text(value: object) -> str:
    """An id as text: 463.0 -> '463'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _drop_message(raw: pd.DataFrame, columns: Mapping[str, str], gaps: Mapping[str, np.ndarray], file: str) -> str:
    drop = np.logical_or.reduce(list(gaps.values()))
    rows = np.flatnonzero(drop)
    rsn = raw[columns["record_id"]].iloc[rows] if "record_id" not in gaps else None
    ids = [_id_text(v) for v in rsn] if rsn is not None else []
    what = ", ".join(f"{name!r} ({columns[name]!r}: {int(g.sum())})" for name, g in gaps.items())
    listed = f"RSN {', '.join(ids)}" if ids else "records without an RSN"
    return (
        f"{file}: dropped {len(rows)} of {len(raw)} record(s) missing {what}: {listed} "
        f"(rows {', '.join(str(r + 1) for r in rows)}). Pass drop_incomplete=False to get an error instead."
    )


def _check_consistent(
    out: pd.DataFrame, keep: np.ndarray, key: str, attrs: Sequence[str], columns: Mapping[str, str], file: str
) -> None:
    """Every record of one station (event) must carry the same station (event) attributes."""
    for name in attrs:
        if name not in out:
            continue
        values = out[name].to_numpy(dtype=float)
        frame = pd.DataFrame({"key": out[key].to_numpy(), "v": values, "pos": np.arange(len(out))})[keep]
        first = frame.groupby("key", sort=False)["v"].transform("first").to_numpy()
        v = frame["v"].to_numpy()
        differ = ~(np.isclose(v, first, rtol=0.0, atol=1e-6) | (np.isnan(v) & np.isnan(first)))
        if differ.any():
            i = int(np.flatnonzero(differ)[0])
            k = frame["key"].iloc[i]
            pos0 = int(frame.loc[frame["key"] == k, "pos"].iloc[0])
            msg = (
                f"{key} {k!r} has {name} = {first[i]!r} on row {pos0 + 1} but {v[i]!r} here; all records "
                f"of one {key.split('_')[0]} must agree ({int(differ.sum())} disagreeing value(s))."
            )
            raise FlatfileError(msg, file=file, column=columns[name], row=int(frame["pos"].iloc[i]) + 1, value=v[i])


def read_ngawest2(
    path: str | os.PathLike[str],
    *,
    layout: str = "auto",
    imts: Sequence[str] | None = None,
    drop_incomplete: bool = True,
    acc_unit: str = "g",
) -> pd.DataFrame:
    """Read an NGA-West2 RotD50 flatfile into the gmlearn vocabulary.

    Parameters
    ----------
    path
        CSV file (``.csv`` or ``.csv.gz``) in one of the layouts of
        :data:`LAYOUTS`.
    layout
        ``"auto"`` (detect from the headers), ``"peer"``, ``"smtk"`` or
        ``"simcenter"``.
    imts
        Keep only these IMTs (``"PGA"``, ``"PGV"``, ``"SA(1.0)"`` ...);
        default all: PGA, PGV and the spectral periods of the file (0.01-20 s).
    drop_incomplete
        Records without an RSN, EQID, station sequence number, magnitude or
        vs30 cannot enter a store. True drops them with a warning that gives
        their number and RSNs; False lets validation raise on the first one.
    acc_unit
        Unit of PGA and SA in the file (PEER publishes g); the levels are
        checked against magnitude and distance (:mod:`gmlearn.store.units`).

    Returns
    -------
    pandas.DataFrame
        One row per kept record (file order): vocabulary columns (km, m/s,
        degrees, ``z1pt0`` in m, ``z2pt5`` in km) then one column per IMT with
        natural logs of g (PGA, SA) or cm/s (PGV); missing values are NaN.
        ``attrs`` holds ``source``, ``format`` (``"ngawest2"``), ``layout`` and
        ``dropped_record_ids``.

    Raises
    ------
    FlatfileError
        Unknown layout, an IMT not in the file, a value failing validation,
        or two records of one station (event) disagreeing on its vs30,
        coordinates or depths (magnitude, hypocentre, rupture size).
    MissingColumnError
        A required column is absent.

    Warns
    -----
    UserWarning
        When ``drop_incomplete`` drops records.
    """
    file = str(path)
    raw = read_csv(Path(path), low_memory=False)
    lay = _detect(raw.columns, file, layout)
    index = _header_index(raw.columns)
    columns = _source_columns(lay, index)
    imt_map = _select_imts(_imt_columns(raw, lay, index), imts, file)
    raw = _prepare(raw, lay, columns, file)
    gaps = _incomplete(raw, columns) if drop_incomplete else {}
    keep = ~np.logical_or.reduce(list(gaps.values())) if gaps else np.ones(len(raw), dtype=bool)
    checked = _fill_placeholders(raw, columns, gaps) if gaps else raw
    with warnings.catch_warnings():
        # to_canonical inserts one column per IMT (111 periods here); pandas
        # calls that fragmentation, a speed note for this one call only.
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        out = to_canonical(
            checked, columns, imt_map, file=file, acc_unit=acc_unit, sentinels=SENTINELS, tectonic_map=lay.tectonic_map or None,
        )
    _check_consistent(out, keep, "station_id", _STATION_ATTRS, columns, file)
    _check_consistent(out, keep, "event_id", _EVENT_ATTRS, columns, file)
    dropped: list[str] = []
    if gaps:
        rsn = raw[columns["record_id"]].to_numpy()[~keep]
        dropped = [_id_text(v) for v in rsn] if "record_id" not in gaps else []
        warnings.warn(_drop_message(raw, columns, gaps, file), UserWarning, stacklevel=2)
        out = out[keep].reset_index(drop=True)
    if "tectonic_region" not in columns:
        out["tectonic_region"] = "crustal"
    out.attrs.update({"source": file, "format": "ngawest2", "layout": lay.name, "dropped_record_ids": dropped})
    return out
