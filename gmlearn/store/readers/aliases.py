"""Column aliases: how the world's flatfile layouts name the vocabulary.

Data only (imports the standard library). :func:`gmlearn.store.readers.read_generic`
looks a column's name up here (case and runs of blanks ignored) after the
vocabulary names themselves. Each entry says which vocabulary column (or IMT)
the name holds, in which unit, and which layouts use it:

``esm2018``
    The Engineering Strong Motion flatfile, 2018 release (Lanzano et al. 2019,
    Bull. Earthq. Eng. 17:561-582), ``;``-separated, one row per record.
    Names as read by GEM-SMTK's ESM parser and eGSIM's ESM importer:
    ``event_id``, ``event_time``, ``ev_latitude``, ``ev_longitude``,
    ``ev_depth_km``, ``fm_type_code``, ``EMEC_Mw`` (then ``Mw``), ``es_strike``,
    ``es_dip``, ``es_rake``, ``es_z_top``, ``es_length``, ``es_width``,
    ``network_code`` + ``station_code`` (+ ``location_code``), ``st_latitude``,
    ``st_longitude``, ``vs30_m_sec`` (then ``vs30_m_sec_WA``, inferred),
    ``vs30_meas_type``, ``epi_dist``, ``JB_dist``, ``rup_dist``, ``Rx_dist``,
    ``Ry0_dist``, and ``rotD50_pga``, ``rotD50_pgv``, ``rotD50_T<s>_<ms>``
    (acceleration in cm/s², PGV in cm/s).
``egsim``
    eGSIM's flatfile registry (rizac/eGSIM ``egsim/smtk/flatfile``; older
    ``ev_*``/``st_*`` and newer ``evt_*``/``sta_*`` spellings):
    ``evt_id``, ``sta_id``, ``evt_lat``, ``evt_lon``, ``evt_depth``,
    ``evt_time``, ``sta_lat``, ``sta_lon``, ``magnitude``,
    ``rupture_top_depth``, ``rupture_width``, ``z1``; IMTs as OpenQuake
    strings (``PGA``, ``SA(0.2)``) in g and cm/s.
``ngawest1``
    The PEER NGA-West1 flatfile and GEM's "simple" flatfile built on it
    (``Earthquake Magnitude``, ``Preferred Vs30 (m/s)``, ``ClstD (km)``,
    ``Joyner-Boore Dist. (km)``, ``EpiD (km)``, ``HypD (km)``, ``Z1 (m)``,
    ``Z2.5 (m)``, ``Mechanism Based on Rake Angle``, ``PGA (g)``,
    ``PGV (cm/sec)``, ``T0.010S`` ...), and the short names of Kaklamanos &
    Baise's NGA implementation (``M``, ``Rrup``, ``Rjb``, ``Rx``, ``Rhyp``,
    ``Repi``, ``Ztor``, ``W``, ``Zhyp``, ``Vs30``, ``VsFlag``, ``Z1.0``,
    ``Z2.5`` in km).
``ngawest2``
    The PEER NGA-West2 flatfile names (also read in full, with their
    quirks, by :func:`gmlearn.store.readers.read_ngawest2`).

Two names of one quantity normally conflict (the reader asks for a
``mapping``); a ``fallback`` name instead fills the rows its preferred name
leaves blank (``Mw`` under ``EMEC_Mw``, the Wald-Allen slope vs30 under the
measured one), and the report counts the rows it filled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Alias",
    "ImtPattern",
    "COLUMN_ALIASES",
    "IMT_PATTERNS",
    "MECHANISM_CODES",
    "MECHANISM_COLUMNS",
    "STATION_PARTS",
    "LAYOUT_SIGNATURES",
    "G_CM_S2",
    "normalise",
]

#: Standard gravity in cm/s² (ESM accelerations are in cm/s²).
G_CM_S2 = 980.665


@dataclass(frozen=True)
class Alias:
    """What one source column name holds.

    Attributes
    ----------
    target
        Vocabulary column (:data:`gmlearn.schema.COLUMNS`) or IMT string.
    layouts
        Layouts that use the name.
    scale
        Factor from the source unit to the vocabulary unit (1 when equal).
    rank
        Precedence among names of one target: lower wins.
    fallback
        True: fills rows the preferred name leaves blank instead of conflicting.
    """

    target: str
    layouts: tuple[str, ...]
    scale: float = 1.0
    rank: int = 1
    fallback: bool = False


@dataclass(frozen=True)
class ImtPattern:
    """A family of IMT column names, e.g. ESM's ``rotD50_T0_200`` = SA(0.2) in cm/s².

    ``pattern`` is matched against the normalised name; its groups, joined
    with ``"."``, give the period of ``SA``.
    """

    pattern: str
    imt: str
    layouts: tuple[str, ...]
    scale: float = 1.0


def normalise(name: object) -> str:
    """A column name as looked up here: lower case, blanks collapsed and trimmed."""
    return " ".join(str(name).split()).lower()


_ESM = ("esm2018",)
_EGSIM = ("egsim",)
_NGA1 = ("ngawest1",)
_NGA = ("ngawest1", "ngawest2")
_KB = ("ngawest1",)


def _a(target: str, layouts: tuple[str, ...], scale: float = 1.0, rank: int = 1, fallback: bool = False) -> Alias:
    return Alias(target, layouts, scale, rank, fallback)


#: Normalised source name -> :class:`Alias`.
COLUMN_ALIASES: dict[str, Alias] = {
    # ESM 2018 ---------------------------------------------------------------
    "event_time": _a("origin_time", _ESM + _EGSIM),
    "ev_latitude": _a("hypo_lat", _ESM),
    "ev_longitude": _a("hypo_lon", _ESM),
    "ev_depth_km": _a("hypo_depth", _ESM),
    "emec_mw": _a("mag", _ESM, rank=1),
    "mw": _a("mag", _ESM, rank=2, fallback=True),
    "es_strike": _a("strike", _ESM),
    "es_dip": _a("dip", _ESM),
    "es_rake": _a("rake", _ESM),
    "es_z_top": _a("ztor", _ESM),
    "es_length": _a("length", _ESM),
    "es_width": _a("width", _ESM),
    "st_latitude": _a("lat", _ESM),
    "st_longitude": _a("lon", _ESM),
    "vs30_m_sec": _a("vs30", _ESM, rank=1),
    "vs30_m_sec_wa": _a("vs30", _ESM, rank=2, fallback=True),
    "epi_dist": _a("repi", _ESM),
    "jb_dist": _a("rjb", _ESM),
    "rup_dist": _a("rrup", _ESM),
    "rx_dist": _a("rx", _ESM),
    "ry0_dist": _a("ry0", _ESM),
    # eGSIM (old and new spellings) ------------------------------------------
    "magnitude": _a("mag", _EGSIM),
    "evt_id": _a("event_id", _EGSIM),
    "ev_id": _a("event_id", _EGSIM),
    "sta_id": _a("station_id", _EGSIM),
    "st_id": _a("station_id", _EGSIM),
    "evt_time": _a("origin_time", _EGSIM),
    "evt_lat": _a("hypo_lat", _EGSIM),
    "ev_lat": _a("hypo_lat", _EGSIM),
    "event_latitude": _a("hypo_lat", _EGSIM),
    "evt_lon": _a("hypo_lon", _EGSIM),
    "ev_lon": _a("hypo_lon", _EGSIM),
    "event_longitude": _a("hypo_lon", _EGSIM),
    "evt_depth": _a("hypo_depth", _EGSIM),
    "ev_depth": _a("hypo_depth", _EGSIM),
    "event_depth": _a("hypo_depth", _EGSIM),
    "epicenter_depth": _a("hypo_depth", _EGSIM),
    "hypocenter_depth": _a("hypo_depth", _EGSIM),
    "rupture_top_depth": _a("ztor", _EGSIM),
    "rup_top_depth": _a("ztor", _EGSIM),
    "depth_top_of_rupture": _a("ztor", _EGSIM),
    "rupture_width": _a("width", _EGSIM),
    "rupture_length": _a("length", _EGSIM),
    "sta_lat": _a("lat", _EGSIM),
    "st_lat": _a("lat", _EGSIM),
    "station_latitude": _a("lat", _EGSIM),
    "sta_lon": _a("lon", _EGSIM),
    "st_lon": _a("lon", _EGSIM),
    "station_longitude": _a("lon", _EGSIM),
    "z1": _a("z1pt0", _EGSIM),
    # NGA-West1/-West2 long names --------------------------------------------
    "record sequence number": _a("record_id", _NGA),
    "eqid": _a("event_id", _NGA),
    "earthquake name": _a("event_name", _NGA),
    "earthquake magnitude": _a("mag", _NGA),
    "station sequence number": _a("station_id", _NGA),
    "strike (deg)": _a("strike", _NGA),
    "dip (deg)": _a("dip", _NGA),
    "rake angle (deg)": _a("rake", _NGA),
    "hypocenter latitude (deg)": _a("hypo_lat", _NGA),
    "hypocenter longitude (deg)": _a("hypo_lon", _NGA),
    "hypocenter depth (km)": _a("hypo_depth", _NGA),
    "depth to top of fault rupture model": _a("ztor", _NGA),
    "fault rupture width (km)": _a("width", _NGA),
    "fault rupture length (km)": _a("length", _NGA1),
    "station latitude": _a("lat", _NGA),
    "station longitude": _a("lon", _NGA),
    "preferred vs30 (m/s)": _a("vs30", _NGA1),
    "vs30 (m/s) selected for analysis": _a("vs30", ("ngawest2",)),
    "z1 (m)": _a("z1pt0", _NGA1),
    "z2.5 (m)": _a("z2pt5", _NGA1, scale=1e-3),
    "epid (km)": _a("repi", _NGA),
    "hypd (km)": _a("rhypo", _NGA),
    "joyner-boore dist. (km)": _a("rjb", _NGA),
    "clstd (km)": _a("rrup", _NGA),
    "lowest usable freq - ave. component (hz)": _a("lowest_usable_freq", _NGA),
    # Kaklamanos & Baise short names -----------------------------------------
    "m": _a("mag", _KB),
    "rhyp": _a("rhypo", _KB),
    "zhyp": _a("hypo_depth", _KB),
    "w": _a("width", _KB),
    "vsflag": _a("vs30measured", _KB),
    "z1.0": _a("z1pt0", _KB),
    "z2.5": _a("z2pt5", _KB),
}

#: IMT column families.
IMT_PATTERNS: tuple[ImtPattern, ...] = (
    ImtPattern(r"^rotd50_pga$", "PGA", _ESM, 1.0 / G_CM_S2),
    ImtPattern(r"^rotd50_pgv$", "PGV", _ESM),
    ImtPattern(r"^rotd50_t(\d+)_(\d+)$", "SA", _ESM, 1.0 / G_CM_S2),
    ImtPattern(r"^pga \(g\)$", "PGA", _NGA),
    ImtPattern(r"^pgv \(cm/sec\)$", "PGV", _NGA),
    ImtPattern(r"^t(\d+)\.(\d+)s$", "SA", _NGA),
)

#: Style-of-faulting code columns -> rake (deg) where the file gives no rake.
#: ESM ``fm_type_code`` (GEM-SMTK's table; ``O`` oblique and ``U`` unknown
#: give no rake); NGA ``Mechanism Based on Rake Angle`` (0 strike-slip,
#: 1 normal, 2 reverse, 3 reverse-oblique, 4 normal-oblique).
MECHANISM_CODES: dict[str, dict[str, float]] = {
    "fm_type_code": {"ss": 0.0, "nf": -90.0, "tf": 90.0, "ns": -45.0, "ts": 45.0},
    "mechanism based on rake angle": {"0": 0.0, "1": -90.0, "2": 90.0, "3": 45.0, "4": -45.0},
}

#: Column names whose presence says which columns are mechanism codes.
MECHANISM_COLUMNS: tuple[str, ...] = tuple(MECHANISM_CODES)

#: Columns joined with "." into a station id when a file has no station id
#: (ESM: network, station and, when not blank, location code).
STATION_PARTS: tuple[str, ...] = ("network_code", "station_code", "location_code")

#: Normalised names that together identify a layout (for the report only).
LAYOUT_SIGNATURES: dict[str, tuple[str, ...]] = {
    "esm2018": ("event_id", "station_code", "ev_latitude", "epi_dist"),
    "egsim": ("evt_id", "sta_id"),
    "egsim (v1)": ("ev_id", "st_id"),
    "ngawest1": ("eqid", "earthquake magnitude", "preferred vs30 (m/s)"),
    "kaklamanos-baise": ("m", "rrup", "rjb", "vs30"),
    "ngawest2": ("eqid", "earthquake magnitude", "vs30 (m/s) selected for analysis"),
}


def imt_of_pattern(name: str) -> tuple[str, ImtPattern] | None:
    """The IMT string and pattern of a column of an IMT family, or None."""
    key = normalise(name)
    for pat in IMT_PATTERNS:
        match = re.match(pat.pattern, key)
        if match is None:
            continue
        if pat.imt == "SA":
            period = float(".".join(match.groups()))
            return f"SA({period!r})", pat
        return pat.imt, pat
    return None
