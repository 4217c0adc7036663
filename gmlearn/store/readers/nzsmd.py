"""Reader for the GeoNet New Zealand Strong Motion Database (NZSMD) flatfiles.

The NZSMD flatfiles (Van Houtte et al. 2017; Kaiser et al. 2017) name
spectral columns by oscillator *frequency* (``f1.0000SA_RotD50`` is the 5 %
damped PSA at 1 Hz, i.e. ``SA(1.0)``), give PSA and PGA in g and PGV in m/s,
and mark missing values with ``-99999`` (``-9999`` in the vertical file).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gmlearn.exceptions import FlatfileError
from gmlearn.store.readers.files import read_csv
from gmlearn.store.validation import to_canonical

__all__ = ["read_nzsmd", "NZSMD_COLUMNS", "NZSMD_COMPONENTS", "nzsmd_period"]

#: Vocabulary name -> NZSMD column.
NZSMD_COLUMNS: dict[str, str] = {
    "event_id": "CuspID",
    "origin_time": "Origin_time",
    "record_id": "Record",
    "mag": "Mw",
    "tectonic_region": "TectClass",
    "strike": "Strike",
    "dip": "Dip",
    "rake": "Rake",
    "hypo_lat": "HypLat",
    "hypo_lon": "HypLon",
    "hypo_depth": "HypDepth_km",
    "length": "LENGTH_km",
    "width": "WIDTH_km",
    "ztor": "ZTOR_km",
    "repi": "Repi_km",
    "rhypo": "Rhyp_km",
    "rjb": "Rjb_km",
    "rrup": "Rrup_km",
    "rx": "Rx_km",
    "station_id": "SiteCode",
    "lat": "StationLat",
    "lon": "StationLon",
    "site_class": "SiteClass1170",
    "vs30": "Vs30",
    "vs30measured": "Vs30Uncert",
    "tsite": "Tsite",
    "z1pt0": "Z1",
    "lowest_usable_freq": "fmin",
}

#: Component -> (suffix of spectral columns, PGA column, PGV column).
NZSMD_COMPONENTS: dict[str, tuple[str, str, str]] = {
    "RotD50": ("RotD50", "PGA_RotD50", "PGV_RotD50"),
    "RotD100": ("RotD100", "PGA_RotD100", "PGV_RotD100"),
    "GeoMean": ("GeoMean", "PGA_Geomean", "PGV_Geomean"),
    "Vert": ("Vert", "PGA", "PGV"),
}

_FREQ_RE = re.compile(r"^f(\d+(?:\.\d+)?)SA_(\w+)$")
_TECTONIC = {"crustal": "crustal", "interface": "interface", "slab": "slab"}
_SENTINELS = (-99999.0, -9999.0)


def nzsmd_period(frequency: float) -> float:
    """Period (s) of an NZSMD frequency label, to 3 significant digits.

    ``33.3333`` Hz gives 0.03 s, ``1.3333`` Hz gives 0.75 s.
    """
    return float(f"{1.0 / frequency:.3g}")


def _tsite(values: pd.Series, stations: pd.Series, file: str) -> pd.Series:
    """Tsite as seconds: ``'>2'`` and ``'<0.1'`` become their bounds, -1 missing.

    Values above 20 s are not site periods (station WDFS lists 70 s with
    Z1 = 60 m); they become missing with a warning naming the stations.
    """
    text = values.astype("string").str.strip()
    text = text.str.replace(r"^[<>]", "", regex=True)
    num = pd.to_numeric(text, errors="coerce")
    bad = num > 20.0
    if bad.any():
        names = sorted(set(stations[bad].astype(str)))
        warnings.warn(
            f"{file}: Tsite > 20 s at station(s) {names} ({int(bad.sum())} records) is not a site period; "
            "set to missing.",
            stacklevel=3,
        )
    return num.where((num >= 0) & ~bad)


def _vs30_measured(values: pd.Series) -> pd.Series:
    """Kaiser et al. (2017) quality Q1 means a measured Vs profile."""
    return values.astype("string").str.strip().str.upper().eq("Q1").map({True: "1", False: "0"})


def _sniff_component(columns: pd.Index) -> str:
    """The first component (RotD50, GeoMean, Vert, RotD100) whose columns the file has."""
    for component in ("RotD50", "GeoMean", "Vert", "RotD100"):
        suffix = NZSMD_COMPONENTS[component][0]
        if any(str(c).endswith(f"SA_{suffix}") for c in columns):
            return component
    return "RotD50"


def read_nzsmd(path: str | Path, *, component: str | None = None, imts: list[str] | None = None,
               acc_unit: str = "g") -> pd.DataFrame:
    """Read an NZSMD flatfile into the gmlearn vocabulary.

    Parameters
    ----------
    path
        ``NZdatabase_flatfile_PSA_05pc*.csv`` (gzip allowed).
    component
        ``"RotD50"`` or ``"RotD100"`` from the ``PSA_05pc`` file, ``"GeoMean"``
        from the ``_GeoMean`` file, ``"Vert"`` from the vertical file. Default:
        taken from the header, RotD50 when the file has it.
    imts
        Restrict to these IMTs (default: PGA, PGV and all 22 periods).
    acc_unit
        Unit of PGA and SA in the file (NZSMD publishes g); the levels are
        checked against magnitude and distance (:mod:`gmlearn.store.units`).

    Returns
    -------
    pandas.DataFrame
        One row per record: vocabulary columns plus ln IMT columns (ln g,
        ln cm/s for PGV; PGV is converted from m/s). ``vs30measured`` is True
        for Vs30 quality Q1. ``attrs`` holds the source and component.

    Raises
    ------
    FlatfileError
        If the component's columns are absent or a value fails validation.
    """
    path = Path(path)
    if component is not None and component not in NZSMD_COMPONENTS:
        msg = f"The 'component' parameter of read_nzsmd must be one of {sorted(NZSMD_COMPONENTS)}. Got {component!r} instead."
        raise ValueError(msg)
    raw = read_csv(path, dtype={"CuspID": str, "Record": str, "SiteCode": str}, low_memory=False)
    component = component or _sniff_component(raw.columns)
    suffix, pga, pgv = NZSMD_COMPONENTS[component]
    imt_map: dict[str, str] = {}
    for col in raw.columns:
        match = _FREQ_RE.match(str(col))
        if match and match.group(2) == suffix:
            imt_map[f"SA({nzsmd_period(float(match.group(1)))!r})"] = col
    for imt, col in (("PGA", pga), ("PGV", pgv)):
        if col in raw.columns:
            imt_map[imt] = col
    if not imt_map:
        msg = f"no {component} intensity-measure columns (f<freq>SA_{suffix}, {pga}, {pgv}); is this the right NZSMD file for this component?"
        raise FlatfileError(msg, file=str(path))
    if imts is not None:
        from gmlearn.schema import imt_string

        wanted = [imt_string(i) for i in imts]
        unknown = [i for i in wanted if i not in imt_map]
        if unknown:
            msg = f"IMT(s) {unknown} not in this file; it has {sorted(imt_map)}."
            raise FlatfileError(msg, file=str(path))
        imt_map = {i: imt_map[i] for i in wanted}
    raw = raw.copy()
    if "Tsite" in raw:
        raw["Tsite"] = _tsite(raw["Tsite"], raw.get("SiteCode", pd.Series("?", index=raw.index)), str(path))
    if "Vs30Uncert" in raw:
        raw["Vs30Uncert"] = _vs30_measured(raw["Vs30Uncert"])
    columns = {k: v for k, v in NZSMD_COLUMNS.items() if v in raw.columns or k in ("event_id", "station_id", "mag", "vs30")}
    out = to_canonical(
        raw, columns, imt_map, file=str(path), pgv_unit="m/s", acc_unit=acc_unit, sentinels=_SENTINELS, tectonic_map=_TECTONIC,
    )
    # Rx is given only where a fault plane is known; mark the rest for derivation.
    if "rx" in out:
        out["rx"] = out["rx"].where(np.isfinite(out["rx"]))
    out.attrs.update({"source": str(path), "format": "nzsmd", "component": component})
    return out
