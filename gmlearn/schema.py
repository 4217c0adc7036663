"""The gmlearn vocabulary: column names, units, dtypes, valid ranges and IMTs.

This is the one place that lists names. Names follow OpenQuake's context
attributes, so a joined feature table *is* an OpenQuake context. Intensity
measures use OpenQuake's strings (``PGA``, ``PGV``, ``SA(1.0)``); in a
:class:`~gmlearn.store.FeatureStore` their values are **natural logarithms**
of g (PGA, SA) or cm/s (PGV).

Imports numpy only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from gmlearn.exceptions import InvalidIMTError, SchemaError

__all__ = [
    "Column",
    "IMT",
    "COLUMNS",
    "TABLES",
    "TECTONIC_REGIONS",
    "IMT_UNITS",
    "IMT_LN_RANGE",
    "columns_of",
    "column",
    "parse_imt",
    "imt_string",
    "is_imt",
    "sort_imts",
]

#: The three tables of a feature store and their primary keys.
TABLES: dict[str, str] = {
    "events": "event_id",
    "stations": "station_id",
    "records": "record_id",
}

#: Tectonic-region labels (lower case) accepted in ``events.tectonic_region``.
TECTONIC_REGIONS: tuple[str, ...] = (
    "crustal",
    "interface",
    "slab",
    "stable",
    "volcanic",
    "unknown",
)


@dataclass(frozen=True)
class Column:
    """One column of the vocabulary.

    Attributes
    ----------
    name
        Column name (OpenQuake context name where one exists).
    table
        ``"events"``, ``"stations"`` or ``"records"``.
    dtype
        ``"float64"``, ``"int64"``, ``"bool"`` or ``"string"``.
    unit
        Physical unit, ``""`` if dimensionless.
    description
        One line.
    min, max
        Physically possible range (inclusive); outside it a value is rejected.
    """

    name: str
    table: str
    dtype: str
    unit: str
    description: str
    min: float | None = None
    max: float | None = None


def _c(
    name: str,
    table: str,
    dtype: str,
    unit: str,
    description: str,
    lo: float | None = None,
    hi: float | None = None,
) -> Column:
    return Column(name, table, dtype, unit, description, lo, hi)


_COLUMN_LIST: tuple[Column, ...] = (
    # events ------------------------------------------------------------------
    _c("event_id", "events", "string", "", "Event identifier (key)"),
    _c("event_name", "events", "string", "", "Event name"),
    _c("origin_time", "events", "string", "", "Origin time, ISO 8601 UTC"),
    _c("mag", "events", "float64", "", "Moment magnitude Mw", 0.0, 10.0),
    _c("rake", "events", "float64", "deg", "Rake angle", -180.0, 360.0),
    _c("dip", "events", "float64", "deg", "Dip of the rupture plane", 0.0, 90.0),
    _c("strike", "events", "float64", "deg", "Strike of the rupture plane", -360.0, 360.0),
    _c("ztor", "events", "float64", "km", "Depth to top of rupture", 0.0, 700.0),
    _c("width", "events", "float64", "km", "Down-dip rupture width", 0.0, 1000.0),
    _c("length", "events", "float64", "km", "Along-strike rupture length", 0.0, 2000.0),
    _c("hypo_depth", "events", "float64", "km", "Hypocentre depth", -10.0, 700.0),
    _c("hypo_lat", "events", "float64", "deg", "Hypocentre latitude", -90.0, 90.0),
    _c("hypo_lon", "events", "float64", "deg", "Hypocentre longitude", -180.0, 360.0),
    _c("tectonic_region", "events", "string", "", "crustal|interface|slab|stable|volcanic|unknown"),
    _c("ztor_estimated", "events", "bool", "", "ztor derived, not given by the source"),
    _c("width_estimated", "events", "bool", "", "width derived, not given by the source"),
    # stations ------------------------------------------------------------------
    _c("station_id", "stations", "string", "", "Station identifier (key)"),
    _c("lon", "stations", "float64", "deg", "Station longitude", -180.0, 360.0),
    _c("lat", "stations", "float64", "deg", "Station latitude", -90.0, 90.0),
    _c("vs30", "stations", "float64", "m/s", "Time-averaged shear-wave velocity, top 30 m", 50.0, 5000.0),
    _c("vs30measured", "stations", "bool", "", "vs30 measured (True) or inferred (False)"),
    _c("z1pt0", "stations", "float64", "m", "Depth to Vs = 1.0 km/s", 0.0, 10000.0),
    _c("z2pt5", "stations", "float64", "km", "Depth to Vs = 2.5 km/s", 0.0, 20.0),
    _c("site_class", "stations", "string", "", "Site class of the source (e.g. NZS1170.5 A-E, NEHRP)"),
    _c("tsite", "stations", "float64", "s", "Fundamental site period", 0.0, 20.0),
    _c("z1pt0_estimated", "stations", "bool", "", "z1pt0 derived from vs30"),
    _c("z2pt5_estimated", "stations", "bool", "", "z2pt5 derived from vs30"),
    _c("vs30measured_estimated", "stations", "bool", "", "vs30measured not given; assumed False (inferred)"),
    # records ------------------------------------------------------------------
    _c("record_id", "records", "string", "", "Record identifier (key)"),
    _c("rrup", "records", "float64", "km", "Closest distance to rupture", 0.0, 20000.0),
    _c("rjb", "records", "float64", "km", "Joyner-Boore distance", 0.0, 20000.0),
    _c("rx", "records", "float64", "km", "Horizontal distance from top edge, signed", -20000.0, 20000.0),
    _c("ry0", "records", "float64", "km", "Horizontal distance off the rupture ends", 0.0, 20000.0),
    _c("repi", "records", "float64", "km", "Epicentral distance", 0.0, 20000.0),
    _c("rhypo", "records", "float64", "km", "Hypocentral distance", 0.0, 20000.0),
    _c("rrup_estimated", "records", "bool", "", "rrup derived from a virtual rupture plane"),
    _c("rjb_estimated", "records", "bool", "", "rjb derived from a virtual rupture plane"),
    _c("rx_estimated", "records", "bool", "", "rx derived from an assumed rupture plane"),
    _c("ry0_estimated", "records", "bool", "", "ry0 derived from an assumed rupture plane"),
    _c("lowest_usable_freq", "records", "float64", "Hz", "Lowest usable frequency of the record", 0.0, 1000.0),
)

#: All non-IMT columns by name.
COLUMNS: dict[str, Column] = {c.name: c for c in _COLUMN_LIST}

#: Units of the *linear* intensity measures (store values are their natural logs).
IMT_UNITS: dict[str, str] = {"PGA": "g", "SA": "g", "PGV": "cm/s"}

#: Plausible range of ln(IM) in store units; outside it a value is rejected.
IMT_LN_RANGE: dict[str, tuple[float, float]] = {
    "PGA": (float(np.log(1e-9)), float(np.log(20.0))),
    "SA": (float(np.log(1e-10)), float(np.log(50.0))),
    "PGV": (float(np.log(1e-8)), float(np.log(2000.0))),
}

#: Range of response-spectrum periods accepted (s).
SA_PERIOD_RANGE: tuple[float, float] = (0.0, 20.0)


def columns_of(table: str) -> list[Column]:
    """Return the vocabulary columns of one table.

    Parameters
    ----------
    table
        ``"events"``, ``"stations"`` or ``"records"``.
    """
    if table not in TABLES:
        msg = f"The 'table' parameter must be one of {sorted(TABLES)}. Got {table!r} instead."
        raise SchemaError(msg)
    return [c for c in _COLUMN_LIST if c.table == table]


def column(name: str) -> Column:
    """Return the :class:`Column` called ``name`` (IMTs are not columns here)."""
    try:
        return COLUMNS[name]
    except KeyError:
        msg = f"Unknown column {name!r}; known columns: {', '.join(sorted(COLUMNS))}."
        raise SchemaError(msg) from None


@dataclass(frozen=True, order=True)
class IMT:
    """A parsed intensity measure.

    Attributes
    ----------
    name
        ``"PGA"``, ``"PGV"`` or ``"SA"``.
    period
        Oscillator period in s for ``SA``; 0.0 for PGA and PGV.
    """

    name: str
    period: float = 0.0

    def __str__(self) -> str:
        if self.name == "SA":
            return f"SA({float(self.period)!r})"
        return self.name

    @property
    def unit(self) -> str:
        """Unit of the linear value (the store holds its natural log)."""
        return IMT_UNITS[self.name]


_SA_RE = re.compile(r"^\s*SA\s*\(\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*\)\s*$")


def parse_imt(imt: str | IMT) -> IMT:
    """Parse an OpenQuake IMT string.

    Parameters
    ----------
    imt
        ``"PGA"``, ``"PGV"`` or ``"SA(T)"`` with ``T`` in seconds (``"SA(1)"``
        and ``"SA(1.0)"`` are the same IMT).

    Returns
    -------
    IMT
        The parsed measure; ``str()`` gives OpenQuake's canonical string.

    Raises
    ------
    InvalidIMTError
        For anything else, naming the value and what is allowed.
    """
    if isinstance(imt, IMT):
        return imt
    if not isinstance(imt, str):
        msg = f"An IMT must be a string such as 'PGA', 'PGV' or 'SA(1.0)'. Got {imt!r} instead."
        raise InvalidIMTError(msg)
    text = imt.strip()
    if text in ("PGA", "PGV"):
        return IMT(text, 0.0)
    match = _SA_RE.match(text)
    if match is None:
        msg = f"Unknown IMT {imt!r}: allowed are 'PGA', 'PGV' and 'SA(T)' with T in seconds, e.g. 'SA(0.2)'."
        raise InvalidIMTError(msg)
    period = float(match.group(1))
    lo, hi = SA_PERIOD_RANGE
    if not lo < period <= hi:
        msg = f"SA period {period} s in {imt!r} is outside ({lo}, {hi}] s."
        raise InvalidIMTError(msg)
    return IMT("SA", period)


def imt_string(imt: str | IMT) -> str:
    """Return OpenQuake's canonical string of an IMT (``"SA(1)"`` -> ``"SA(1.0)"``)."""
    return str(parse_imt(imt))


def is_imt(name: str) -> bool:
    """Return True if ``name`` parses as an IMT."""
    try:
        parse_imt(name)
    except InvalidIMTError:
        return False
    return True


def sort_imts(imts: Iterable[str | IMT]) -> list[str]:
    """Return canonical IMT strings ordered PGA, PGV, then SA by period."""
    order = {"PGA": 0, "PGV": 1, "SA": 2}
    parsed = sorted({parse_imt(i) for i in imts}, key=lambda m: (order[m.name], m.period))
    return [str(m) for m in parsed]
