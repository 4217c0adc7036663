"""Unit sanity of flatfile accelerations: PGA and SA levels, PGA-SA and PGA-PGV consistency.

A flatfile column of PGA in cm/s² read as g makes every record 981 times too
strong; values up to 20 even pass the range check. The level of a file's
accelerations is therefore compared with what its magnitudes and distances
predict, using a simple attenuation relation fitted (least squares) to the
5 280 records of the bundled NZSMD and NGA-West2 subset datasets::

    ln PGA[g] = 0.564 + 1.044 (M - 6) - 0.944 ln sqrt(R² + 6²) - 0.0044 R    (sd 0.93)

with ``R`` the rupture distance (else Joyner-Boore, hypocentral, epicentral).
Event medians of the residual lie within about ±2.8 ln units, while cm/s²
read as g adds ln 980.665 = 6.9: a file whose median residual exceeds
:data:`CM_S2_LEVEL` is refused with the likely unit and the fix. SA columns
must agree with PGA (median SA/PGA between :data:`SA_PGA_RATIO_RANGE`), and
PGV/PGA tells whether PGA or PGV is in the wrong unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gmlearn.exceptions import FlatfileError
from gmlearn.schema import parse_imt

__all__ = ["ACC_UNITS", "acc_factor", "check_acceleration_units", "CM_S2_LEVEL", "SA_PGA_RATIO_RANGE"]

#: Acceleration units a reader accepts -> factor to g.
ACC_UNITS: dict[str, float] = {"g": 1.0, "cm/s2": 1.0 / 980.665, "m/s2": 1.0 / 9.80665}
_ALIASES = {"g": "g", "cm/s2": "cm/s2", "cm/s^2": "cm/s2", "cm/s/s": "cm/s2", "gal": "cm/s2",
            "m/s2": "m/s2", "m/s^2": "m/s2", "m/s/s": "m/s2"}
_MODEL = (0.564, 1.044, -0.944, -0.0044)
#: Median residual (ln units) above which accelerations are taken to be cm/s² (ln 980.665 = 6.9).
CM_S2_LEVEL = 4.0
#: Accepted median SA(T)/PGA of a file (same unit) for T <= 1 s; real spectra give about 0.02-4.
SA_PGA_RATIO_RANGE = (1e-2, 30.0)
_LN_G_CM = float(np.log(980.665))


def acc_factor(unit: str) -> float:
    """Factor that converts ``unit`` (``g``, ``cm/s2``/``gal``, ``m/s2``) to g."""
    key = _ALIASES.get(str(unit).strip().lower().replace(" ", ""))
    if key is None:
        msg = f"The 'acc_unit' parameter must be one of {sorted(ACC_UNITS)} (or gal, cm/s^2, m/s^2). Got {unit!r} instead."
        raise ValueError(msg)
    return ACC_UNITS[key]


def _distance(table: pd.DataFrame) -> np.ndarray | None:
    for name in ("rrup", "rjb", "rhypo", "repi"):
        if name in table:
            d = table[name].to_numpy(dtype=float)
            if np.isfinite(d).any():
                return d
    return None


def _residual_level(acc_g: np.ndarray, table: pd.DataFrame) -> float | None:
    """Median ln(acc / predicted PGA) over the records with magnitude, distance and a value."""
    dist = _distance(table)
    if dist is None or "mag" not in table:
        return None
    mag = table["mag"].to_numpy(dtype=float)
    ok = np.isfinite(acc_g) & (acc_g > 0) & np.isfinite(mag) & np.isfinite(dist)
    if not ok.any():
        return None
    r = np.sqrt(dist[ok] ** 2 + 36.0)
    a, b, c, d = _MODEL
    pred = a + b * (mag[ok] - 6.0) + c * np.log(r) + d * dist[ok]
    return float(np.median(np.log(acc_g[ok]) - pred))


def _first(arr: np.ndarray) -> int:
    idx = np.flatnonzero(np.isfinite(arr))
    return int(idx[0]) if idx.size else 0


def check_acceleration_units(linear: dict[str, np.ndarray], table: pd.DataFrame, raw: pd.DataFrame,
                             sources: dict[str, str], *, file: str, acc_unit: str = "g") -> None:
    """Refuse PGA/SA/PGV whose levels show a wrong unit, naming the likely unit and the fix.

    Parameters
    ----------
    linear
        IMT -> linear values after unit conversion (g; cm/s for PGV), shape (n_rows,).
    table
        The converted vocabulary columns (``mag`` and a distance).
    raw, sources
        The file as read and IMT -> source column, for the error message.
    acc_unit
        The acceleration unit the values were read in.

    Raises
    ------
    FlatfileError
        When the accelerations are about 981 times stronger (cm/s² read as g)
        or weaker (g read as cm/s²) than magnitude and distance allow, when an
        SA column's unit differs from PGA's, or when PGV/PGA shows that PGA
        (not PGV) is in cm/s².
    """
    accs = [i for i in linear if parse_imt(i).name in ("PGA", "SA")]
    if not accs:
        return
    ref = "PGA" if "PGA" in linear else min(accs, key=lambda i: parse_imt(i).period)
    level = _residual_level(linear[ref], table)
    src = sources.get(ref, ref)
    if level is not None and level > CM_S2_LEVEL:
        times = float(np.exp(level))
        likely = "cm/s² (gal)" if level > _LN_G_CM - 2.5 else "m/s²"
        fix = "cm/s2" if likely.startswith("cm") else "m/s2"
        msg = (f"{ref} and SA look like {likely}, not {acc_unit}: the median {ref} is {times:.0f} times what the "
               f"magnitudes and distances predict (cm/s² read as g gives about 981 times). Convert PGA and SA to g "
               f"(divide by {'980.665' if fix == 'cm/s2' else '9.80665'}) or pass acc_unit='{fix}' to the reader "
               f"(`gmlearn data ingest --acc-unit {fix}`).")
        pos = _first(linear[ref])
        raise FlatfileError(msg, file=file, column=src, row=pos + 1, value=raw[src].iloc[pos] if src in raw else None)
    if level is not None and level < -CM_S2_LEVEL and acc_unit != "g":
        msg = (f"{ref} looks like it is already in g, not {acc_unit}: after conversion the median {ref} is "
               f"{float(np.exp(-level)):.0f} times weaker than the magnitudes and distances predict. "
               "Read it with acc_unit='g'.")
        pos = _first(linear[ref])
        raise FlatfileError(msg, file=file, column=src, row=pos + 1, value=raw[src].iloc[pos] if src in raw else None)
    if "PGA" in linear:
        _check_sa_vs_pga(linear, raw, sources, file)
        _check_pgv_vs_pga(linear, raw, sources, file)


def _check_sa_vs_pga(linear: dict[str, np.ndarray], raw: pd.DataFrame, sources: dict[str, str], file: str) -> None:
    pga = linear["PGA"]
    lo, hi = SA_PGA_RATIO_RANGE
    for imt, sa in linear.items():
        if parse_imt(imt).name != "SA":
            continue
        ok = np.isfinite(sa) & np.isfinite(pga) & (sa > 0) & (pga > 0)
        if not ok.any():
            continue
        ratio = float(np.median(sa[ok] / pga[ok]))
        if lo <= ratio <= hi or (ratio < lo and parse_imt(imt).period > 1.0):
            continue
        src = sources.get(imt, imt)
        if ratio > hi:
            what = f"{imt} looks like cm/s² while PGA is in g" if ratio > 100 else f"{imt} looks like another unit than PGA"
        else:
            what = f"PGA looks like cm/s² while {imt} is in g" if ratio < 5e-3 else f"{imt} looks like another unit than PGA"
        msg = (f"{what}: the median {imt}/PGA is {ratio:.3g}; spectra in one unit give {lo:g}-{hi:g}. "
               "Give every acceleration column in the same unit (g).")
        pos = int(np.flatnonzero(ok)[0])
        raise FlatfileError(msg, file=file, column=src, row=pos + 1, value=raw[src].iloc[pos] if src in raw else None)


def _check_pgv_vs_pga(linear: dict[str, np.ndarray], raw: pd.DataFrame, sources: dict[str, str], file: str) -> None:
    """PGV [cm/s] / PGA [g] is 20-300 for real records; PGA in cm/s² gives about 0.02-0.3, PGV in m/s 0.2-3."""
    if "PGV" not in linear:
        return
    pgv, pga = linear["PGV"], linear["PGA"]
    ok = np.isfinite(pgv) & np.isfinite(pga) & (pgv > 0) & (pga > 0)
    if not ok.any():
        return
    ratio = float(np.median(pgv[ok] / pga[ok]))
    if ratio < 0.15:
        src = sources.get("PGA", "PGA")
        msg = (f"PGA looks like cm/s² (gal), not g: the median PGV/PGA ratio is {ratio:.3g} cm/s per g, about 981 "
               "times below the 20-300 of real records. Convert PGA and SA to g (divide by 980.665) or pass "
               "acc_unit='cm/s2' to the reader (`gmlearn data ingest --acc-unit cm/s2`); PGV is not the problem.")
        pos = int(np.flatnonzero(ok)[0])
        raise FlatfileError(msg, file=file, column=src, row=pos + 1, value=raw[src].iloc[pos] if src in raw else None)
