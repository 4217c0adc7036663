"""Geodetic moment rates and the seismicity rates they imply.

The scalar moment rate of a deforming area ``A`` with horizontal principal
strain rates ``e1, e2`` (Kostrov 1974; Savage & Simpson 1997, BSSA 87,
1345-1353) is ::

    M0_dot = 2 μ H A max(|e1|, |e2|, |e1 + e2|)

with rigidity ``μ`` and seismogenic thickness ``H`` (the largest of the three
is the moment of the most efficient faulting style for that tensor). A
fraction ``coupling`` of it is released in earthquakes, distributed as a
truncated Gutenberg-Richter law between ``m_min`` and ``m_max``; moment
``M0 = 10**(1.5 Mw + 9.1)`` N·m (Hanks & Kanamori 1979).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gmlearn.exceptions import MissingColumnError, SchemaError

__all__ = [
    "MOMENT_CONSTANT",
    "seismic_moment",
    "moment_magnitude",
    "geodetic_moment_rate",
    "moment_rate_table",
    "regional_moment_rate",
    "TruncatedGR",
    "gr_from_moment_rate",
    "compare_with_catalog",
    "scale_rates_to_moment",
]

#: ``log10 M0 = 1.5 Mw + MOMENT_CONSTANT`` with M0 in N·m (Hanks & Kanamori 1979).
MOMENT_CONSTANT: float = 9.1


def seismic_moment(mw: np.ndarray | float) -> np.ndarray:
    """Scalar moment (N·m) of moment magnitude ``mw``."""
    return 10.0 ** (1.5 * np.asarray(mw, dtype=float) + MOMENT_CONSTANT)


def moment_magnitude(m0: np.ndarray | float) -> np.ndarray:
    """Moment magnitude of scalar moment ``m0`` (N·m)."""
    return (np.log10(np.asarray(m0, dtype=float)) - MOMENT_CONSTANT) / 1.5


def _positive(name: str, value: float) -> None:
    if not np.isfinite(value) or value <= 0:
        msg = f"The {name!r} parameter must be a positive number. Got {value!r} instead."
        raise SchemaError(msg)


def geodetic_moment_rate(
    e1: np.ndarray | float,
    e2: np.ndarray | float,
    area_m2: np.ndarray | float,
    *,
    mu: float = 3.0e10,
    thickness_km: float = 15.0,
) -> np.ndarray:
    """Kostrov / Savage & Simpson (1997) moment rate ``2 μ H A max(|e1|, |e2|, |e1+e2|)``.

    Parameters
    ----------
    e1, e2
        Principal horizontal strain rates, 1/yr.
    area_m2
        Area, m².
    mu
        Rigidity, Pa (default 3e10).
    thickness_km
        Seismogenic thickness H, km (default 15).

    Returns
    -------
    numpy.ndarray
        Moment rate, N·m/yr.
    """
    _positive("mu", mu)
    _positive("thickness_km", thickness_km)
    e1, e2, area = (np.asarray(a, dtype=float) for a in (e1, e2, area_m2))
    emax = np.maximum(np.maximum(np.abs(e1), np.abs(e2)), np.abs(e1 + e2))
    return 2.0 * mu * thickness_km * 1000.0 * area * emax


def moment_rate_table(strain: pd.DataFrame, *, mu: float = 3.0e10, thickness_km: float = 15.0) -> pd.DataFrame:
    """Copy of a strain table (1/yr, with ``area_m2``) with a ``moment_rate`` column (N·m/yr; 0 where invalid)."""
    missing = [c for c in ("e1", "e2", "area_m2") if c not in strain]
    if missing:
        msg = f"strain table lacks column(s) {missing}; given {list(strain.columns)}."
        raise MissingColumnError(msg)
    if strain.attrs.get("units") not in (None, "1/yr"):
        msg = f"strain rates must be in 1/yr (got {strain.attrs.get('units')!r}); do not pass a to_nanostrain() table."
        raise SchemaError(msg)
    out = strain.copy()
    m0 = geodetic_moment_rate(out["e1"], out["e2"], out["area_m2"], mu=mu, thickness_km=thickness_km)
    out["moment_rate"] = np.where(np.isfinite(m0), m0, 0.0)
    return out


def regional_moment_rate(
    strain: pd.DataFrame,
    region: tuple[float, float, float, float] | None = None,
    *,
    mu: float = 3.0e10,
    thickness_km: float = 15.0,
) -> dict[str, float]:
    """Total geodetic moment rate of the cells (or triangles) whose centres lie in ``region``.

    Parameters
    ----------
    strain
        Output of :func:`~gmlearn.geodesy.strain_grid.strain_grid` or
        :func:`~gmlearn.geodesy.strain.strain_triangles` (1/yr).
    region
        ``(lon_min, lon_max, lat_min, lat_max)``; None takes every row.

    Returns
    -------
    dict
        ``moment_rate`` (N·m/yr, sum over cells), ``area_m2`` (cells with a
        valid estimate), ``n_cells``, ``moment_rate_mean_tensor`` (the formula
        applied once to the area-weighted mean tensor, a lower bound since
        opposite strains cancel), and ``mw_per_year`` (magnitude of one
        earthquake a year releasing the total).
    """
    tab = moment_rate_table(strain, mu=mu, thickness_km=thickness_km)
    sel = np.isfinite(tab["e1"].to_numpy(float)) & np.isfinite(tab["area_m2"].to_numpy(float))
    if region is not None:
        lon_min, lon_max, lat_min, lat_max = region
        sel &= tab["lon"].between(lon_min, lon_max).to_numpy() & tab["lat"].between(lat_min, lat_max).to_numpy()
    sub = tab[sel]
    area = float(sub["area_m2"].sum())
    total = float(sub["moment_rate"].sum())
    out: dict[str, Any] = {"moment_rate": total, "area_m2": area, "n_cells": int(len(sub)), "mu": mu,
                           "thickness_km": thickness_km}  # fmt: skip
    if area > 0:
        from gmlearn.geodesy.strain import strain_invariants

        mean = {c: float(np.average(sub[c], weights=sub["area_m2"])) for c in ("exx", "eyy", "exy")}
        inv = strain_invariants(mean["exx"], mean["eyy"], mean["exy"])
        out["moment_rate_mean_tensor"] = float(geodetic_moment_rate(inv["e1"], inv["e2"], area, mu=mu, thickness_km=thickness_km))
    out["mw_per_year"] = float(moment_magnitude(total)) if total > 0 else float("nan")
    return out


@dataclass(frozen=True)
class TruncatedGR:
    """Truncated Gutenberg-Richter law: ``N(>=m) = rate_min (10^-b(m-m_min) - 10^-b(m_max-m_min)) / (1 - 10^-b(m_max-m_min))``.

    Attributes
    ----------
    rate_min
        Annual rate of events with ``m >= m_min``.
    b, m_min, m_max
        b-value and magnitude bounds (moment magnitude).
    """

    rate_min: float
    b: float
    m_min: float
    m_max: float

    @property
    def a_value(self) -> float:
        """``log10`` of the unbounded law's rate at m >= 0: ``log10 rate_min + b m_min``."""
        return float(np.log10(self.rate_min) + self.b * self.m_min)

    @property
    def openquake_a_value(self) -> float:
        """``a_val`` of OpenQuake's ``TruncatedGRMFD`` with the same rates (N(>=m) = 10^(a-bm) - 10^(a-b m_max))."""
        return float(np.log10(self.rate_min / (10 ** (-self.b * self.m_min) - 10 ** (-self.b * self.m_max))))

    def cumulative_rate(self, m: np.ndarray | float) -> np.ndarray:
        """Annual rate of events with magnitude >= ``m`` (0 above ``m_max``)."""
        m = np.clip(np.asarray(m, dtype=float), self.m_min, None)
        top = 10 ** (-self.b * (self.m_max - self.m_min))
        n = self.rate_min * (10 ** (-self.b * (m - self.m_min)) - top) / (1 - top)
        return np.clip(n, 0.0, None)

    def incremental_rates(self, bin_width: float = 0.1) -> pd.DataFrame:
        """Rates in magnitude bins from ``m_min`` to ``m_max``: columns ``mag`` (bin centre), ``rate``."""
        edges = np.arange(self.m_min, self.m_max + bin_width / 2, bin_width)
        edges[-1] = self.m_max
        rates = self.cumulative_rate(edges[:-1]) - self.cumulative_rate(edges[1:])
        return pd.DataFrame({"mag": 0.5 * (edges[:-1] + edges[1:]), "rate": rates})

    def moment_rate(self) -> float:
        """Moment rate (N·m/yr) of the continuous distribution, ``∫ M0(m) n(m) dm``."""
        return self.rate_min * _moment_per_event(self.b, self.m_min, self.m_max)

    def to_openquake(self, bin_width: float = 0.1) -> Any:
        """The same law as an ``openquake.hazardlib.mfd.TruncatedGRMFD`` (imports OpenQuake)."""
        from openquake.hazardlib.mfd import TruncatedGRMFD

        return TruncatedGRMFD(self.m_min, self.m_max, bin_width, self.openquake_a_value, self.b)


def _moment_per_event(b: float, m_min: float, m_max: float) -> float:
    """Mean moment (N·m) of one event of the truncated G-R density on [m_min, m_max]."""
    beta = b * np.log(10.0)
    gamma = 1.5 * np.log(10.0)
    span = m_max - m_min
    norm = beta / (1.0 - np.exp(-beta * span))
    k = gamma - beta
    integral = span if abs(k) < 1e-12 else (np.exp(k * span) - 1.0) / k
    return float(norm * 10 ** (1.5 * m_min + MOMENT_CONSTANT) * integral)


def gr_from_moment_rate(
    moment_rate: float, *, b: float = 1.0, m_min: float = 5.0, m_max: float = 8.0, coupling: float = 1.0
) -> TruncatedGR:
    """Truncated G-R law whose moment rate is ``coupling × moment_rate``.

    Parameters
    ----------
    moment_rate
        Geodetic moment rate, N·m/yr.
    b
        b-value (> 0).
    m_min, m_max
        Magnitude range (m_min < m_max).
    coupling
        Seismic coupling coefficient in (0, 1]: the fraction of the geodetic
        moment rate released in earthquakes.

    Returns
    -------
    TruncatedGR
    """
    _positive("moment_rate", moment_rate)
    _positive("b", b)
    if not 0 < coupling <= 1:
        msg = f"The 'coupling' parameter must lie in (0, 1]. Got {coupling!r} instead."
        raise SchemaError(msg)
    if not m_min < m_max:
        msg = f"The 'm_min' parameter ({m_min!r}) must be smaller than 'm_max' ({m_max!r})."
        raise SchemaError(msg)
    rate = coupling * moment_rate / _moment_per_event(b, m_min, m_max)
    return TruncatedGR(rate_min=float(rate), b=b, m_min=m_min, m_max=m_max)


def compare_with_catalog(
    gr: TruncatedGR, magnitudes: np.ndarray, duration_yr: float, thresholds: np.ndarray | None = None
) -> pd.DataFrame:
    """Observed vs predicted annual rates of ``m >= threshold``.

    Parameters
    ----------
    gr
        Predicted law.
    magnitudes
        Catalogue magnitudes (moment magnitude, declustered and complete above the thresholds).
    duration_yr
        Catalogue duration, years.
    thresholds
        Magnitudes to compare at (default every 0.5 from ``gr.m_min``).

    Returns
    -------
    pandas.DataFrame
        ``mag, n_observed, observed_rate, predicted_rate, ratio`` (observed / predicted),
        ``p_value`` (two-sided Poisson probability of a count this far from the prediction).
    """
    from scipy.stats import poisson

    _positive("duration_yr", duration_yr)
    mags = np.asarray(magnitudes, dtype=float)
    if thresholds is None:
        thresholds = np.arange(gr.m_min, gr.m_max, 0.5)
    thresholds = np.asarray(thresholds, dtype=float)
    n_obs = np.array([(mags >= t).sum() for t in thresholds])
    pred = gr.cumulative_rate(thresholds)
    mean = pred * duration_yr
    p = np.minimum(1.0, 2 * np.minimum(poisson.cdf(n_obs, mean), poisson.sf(n_obs - 1, mean)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = n_obs / duration_yr / pred
    return pd.DataFrame({"mag": thresholds, "n_observed": n_obs, "observed_rate": n_obs / duration_yr,
                         "predicted_rate": pred, "ratio": ratio, "p_value": p})  # fmt: skip


def scale_rates_to_moment(
    magnitudes: np.ndarray, rates: np.ndarray, target_moment_rate: float
) -> tuple[np.ndarray, float]:
    """Scale source occurrence rates so that their moment rate equals ``target_moment_rate``.

    Parameters
    ----------
    magnitudes, rates
        Magnitude-bin centres and annual rates of a source (e.g. an OpenQuake MFD).
    target_moment_rate
        N·m/yr, e.g. ``coupling × geodetic moment rate`` of the source's area.

    Returns
    -------
    scaled_rates, factor
        ``rates × factor`` and the factor.
    """
    _positive("target_moment_rate", target_moment_rate)
    rates = np.asarray(rates, dtype=float)
    current = float((rates * seismic_moment(magnitudes)).sum())
    _positive("source moment rate", current)
    factor = target_moment_rate / current
    return rates * factor, factor
