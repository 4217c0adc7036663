"""Gutenberg-Richter b-value estimators.

- :func:`aki_utsu` -- maximum likelihood (Aki 1965) with Utsu's (1965) correction
  for binned magnitudes, ``b = log10(e) / (mean(M) - (Mc - dM/2))``, and the
  Shi & Bolt (1982) standard error :func:`shi_bolt_sigma`;
- :func:`weichert` -- Weichert (1980) maximum likelihood for magnitude bins
  observed over different completeness periods;
- :func:`b_positive` -- b-positive of van der Elst (2021), from positive
  differences of consecutive magnitudes, robust to short-term incompleteness.

References
----------
Aki, K. (1965). Bull. Earthq. Res. Inst. 43, 237-239.
Utsu, T. (1965). Geophys. Bull. Hokkaido Univ. 13, 99-103.
Shi, Y. & Bolt, B. A. (1982). BSSA 72(5), 1677-1687.
Weichert, D. H. (1980). BSSA 70(4), 1337-1346.
van der Elst, N. J. (2021). JGR Solid Earth 126, e2020JB021027.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from gmlearn.catalog.fmd import bin_magnitudes, check_delta_m
from gmlearn.catalog.frame import magnitudes_of, validate_catalog
from gmlearn.exceptions import SchemaError

__all__ = ["GRFit", "aki_utsu", "shi_bolt_sigma", "weichert", "b_positive", "completeness_starts"]

_LOG10_E = float(np.log10(np.e))
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class GRFit:
    """A fitted Gutenberg-Richter law ``log10 N(>= M) = a - b M``.

    Attributes
    ----------
    method
        ``"aki_utsu"``, ``"weichert"`` or ``"b_positive"``.
    b, sigma_b
        b-value and its standard error.
    a
        a-value: log10 of the number of events with M >= 0 in the catalogue
        (``aki_utsu`` without a duration), or per year (``weichert``, or
        ``aki_utsu`` given ``duration_years``); NaN for ``b_positive``.
    mc
        Completeness magnitude used (smallest bin centre).
    delta_m
        Magnitude bin width.
    n
        Events (or magnitude differences) used.
    annual
        Whether ``a`` is per year.
    details
        Method-specific values (iterations, bins, ...).
    """

    method: str
    b: float
    sigma_b: float
    a: float
    mc: float
    delta_m: float
    n: int
    annual: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def rate(self, mag: float | np.ndarray) -> np.ndarray:
        """Number (per year when ``annual``) of events with magnitude >= ``mag``."""
        return 10.0 ** (self.a - self.b * np.asarray(mag, dtype=float))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy."""
        return asdict(self)


def shi_bolt_sigma(mags: np.ndarray, b: float) -> float:
    """Shi & Bolt (1982) standard error of a b-value: ``2.30 b^2 sqrt(sum (M - mean)^2 / (n (n - 1)))``."""
    mags = np.asarray(mags, dtype=float)
    n = mags.size
    if n < 2:
        return float("nan")
    return float(np.log(10.0) * b**2 * np.sqrt(np.sum((mags - mags.mean()) ** 2) / (n * (n - 1))))


def _too_few(n: int, minimum: int, func: str, what: str) -> None:
    if n < minimum:
        msg = f"{func} needs at least {minimum} {what}; got {n}. Lower 'mc' or use more data."
        raise SchemaError(msg)


def aki_utsu(
    mags: np.ndarray | pd.DataFrame,
    mc: float,
    delta_m: float = 0.1,
    *,
    duration_years: float | None = None,
) -> GRFit:
    """Aki-Utsu maximum-likelihood b-value with Shi & Bolt uncertainty.

    Parameters
    ----------
    mags
        Magnitudes, or a catalogue (column ``mag``).
    mc
        Completeness magnitude: events with binned magnitude >= ``mc`` are used.
    delta_m
        Bin width the magnitudes are rounded to (0: continuous, no correction).
    duration_years
        Catalogue duration; when given ``a`` is per year.

    Returns
    -------
    GRFit
        ``b = log10(e) / (mean(M) - (mc - delta_m / 2))``.
    """
    delta_m = check_delta_m(delta_m, allow_zero=True, func="aki_utsu")
    m = bin_magnitudes(magnitudes_of(mags), delta_m)
    m = m[m >= mc - 1e-9] if delta_m > 0 else m[m >= mc]
    _too_few(m.size, 2, "aki_utsu", f"magnitudes >= mc={mc}")
    m_low = mc - delta_m / 2.0
    excess = float(m.mean() - m_low)
    if not excess > 0:
        msg = f"aki_utsu: mean magnitude {m.mean():.3f} is not above mc - delta_m/2 = {m_low:.3f}; check 'mc' and 'delta_m'."
        raise SchemaError(msg)
    b = _LOG10_E / excess
    a = np.log10(m.size) + b * m_low
    if duration_years is not None:
        a -= np.log10(float(duration_years))
    return GRFit("aki_utsu", float(b), shi_bolt_sigma(m, b), float(a), float(mc), delta_m, int(m.size),
                 annual=duration_years is not None, details={"mean_mag": float(m.mean())})


def _to_timestamp(value: Any) -> pd.Timestamp:
    """A time as a UTC Timestamp; numbers are decimal years (2024.0 is 1 January 2024)."""
    if isinstance(value, (int, float, np.integer, np.floating)):
        year = int(np.floor(value))
        start = pd.Timestamp(year=year, month=1, day=1, tz="UTC")
        return start + (pd.Timestamp(year=year + 1, month=1, day=1, tz="UTC") - start) * (float(value) - year)
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def completeness_starts(completeness: Sequence[tuple[Any, float]] | np.ndarray) -> list[tuple[pd.Timestamp, float]]:
    """Normalise a completeness table to ``[(start time, mc), ...]`` sorted by mc.

    Each row says the catalogue is complete for ``M >= mc`` since ``start``
    (a time, a date string or a decimal year). Larger ``mc`` must have earlier
    (or equal) starts.
    """
    rows = [(_to_timestamp(start), float(mc)) for start, mc in np.asarray(completeness, dtype=object).reshape(-1, 2)]
    if not rows:
        raise SchemaError("The 'completeness' table is empty; give rows of (start time, mc).")
    rows.sort(key=lambda r: r[1])
    for (s0, m0), (s1, m1) in zip(rows[:-1], rows[1:]):
        if s1 > s0:
            msg = (
                f"Completeness table: mc={m1} starts {s1.date()} after mc={m0} ({s0.date()}); "
                "larger magnitudes must be complete for at least as long."
            )
            raise SchemaError(msg)
    return rows


def _weichert_bins(catalog: pd.DataFrame, rows: list[tuple[pd.Timestamp, float]], delta_m: float,
                   end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin centres, years observed and counts, from the lowest mc to the largest event."""
    mags = bin_magnitudes(catalog["mag"].to_numpy(dtype=float), delta_m)
    times = pd.DatetimeIndex(catalog["time"])
    mcs = np.array([r[1] for r in rows])
    top = mags.max() if mags.size else mcs[0]
    centres = bin_magnitudes(np.arange(mcs[0], max(top, mcs[0]) + delta_m / 2.0, delta_m), delta_m)
    row_of = np.searchsorted(mcs - 1e-9, centres, side="right") - 1
    starts = [rows[k][0] for k in row_of]
    years = np.array([(end - s) / pd.Timedelta(days=_DAYS_PER_YEAR) for s in starts])
    idx = np.rint((mags - mcs[0]) / delta_m).astype(np.int64)
    inside = (idx >= 0) & (idx < centres.size) & (times <= end)
    inside[inside] &= times[inside] >= pd.DatetimeIndex([starts[k] for k in idx[inside]])
    counts = np.bincount(idx[inside], minlength=centres.size).astype(float)
    last = int(np.flatnonzero(counts)[-1]) + 1 if counts.any() else 0
    return centres[:last], years[:last], counts[:last]


def weichert(
    catalog: pd.DataFrame,
    completeness: Sequence[tuple[Any, float]] | np.ndarray,
    delta_m: float = 0.1,
    *,
    end_time: Any = None,
    b0: float = 1.0,
    tol: float = 1e-6,
    max_iter: int = 100,
) -> GRFit:
    """Weichert (1980) b-value and annual rate for mixed completeness periods.

    Parameters
    ----------
    catalog
        Canonical catalogue (``time``, ``mag``).
    completeness
        Rows ``(start, mc)``: complete for magnitudes >= ``mc`` since
        ``start`` (Timestamp, date string or decimal year).
    delta_m
        Bin width (> 0); magnitudes are rounded to it and bin ``m`` counts
        events of ``m`` observed over ``end_time - start(m)``.
    end_time
        End of the observation period (default: last event). OpenQuake hmtk
        counts whole calendar years, i.e. ``end_time`` = 1 January after the
        last event's year.
    b0, tol, max_iter
        Start value, convergence tolerance on beta and iteration limit of Newton's method.

    Returns
    -------
    GRFit
        ``annual=True``; ``a`` is log10 of the annual number of events with
        M >= 0, ``mc`` the lowest completeness magnitude.
    """
    validate_catalog(catalog, required=("time", "mag"))
    delta_m = check_delta_m(delta_m, func="weichert")
    rows = completeness_starts(completeness)
    end = _to_timestamp(end_time) if end_time is not None else pd.Timestamp(catalog["time"].max())
    centres, years, counts = _weichert_bins(catalog, rows, delta_m, end)
    _too_few(int(counts.sum()), 2, "weichert", "events in complete periods")
    if np.any(years <= 0):
        raise SchemaError("weichert: a completeness start is not before the end of the catalogue; check the table.")
    beta, var_m, iterations = _weichert_newton(centres, years, counts, b0 * np.log(10.0), tol, max_iter)
    n = counts.sum()
    weights = years * np.exp(-beta * centres)
    rate_low = n * np.exp(-beta * centres).sum() / weights.sum()
    m_low = centres[0] - delta_m / 2.0
    b = beta / np.log(10.0)
    details = {"iterations": iterations, "bins": centres.tolist(), "years": years.tolist(),
               "counts": counts.astype(int).tolist(), "annual_rate_above_mc": float(rate_low),
               "end_time": str(end)}
    return GRFit("weichert", float(b), float(1.0 / np.sqrt(n * var_m) / np.log(10.0)),
                 float(np.log10(rate_low) + b * m_low), float(centres[0]), delta_m, int(n), annual=True,
                 details=details)


def _weichert_newton(m: np.ndarray, t: np.ndarray, n: np.ndarray, beta: float, tol: float,
                     max_iter: int) -> tuple[float, float, int]:
    """Newton iterations on the Weichert score; returns (beta, weighted variance of m, iterations)."""
    mean_obs = float((n * m).sum() / n.sum())
    for iteration in range(1, int(max_iter) + 1):
        w = t * np.exp(-beta * (m - m[0]))
        w /= w.sum()
        mean_w = float((w * m).sum())
        var_w = float((w * (m - mean_w) ** 2).sum())
        if not var_w > 0:
            raise SchemaError("weichert: all events fall in one magnitude bin; the b-value is undefined.")
        step = (mean_w - mean_obs) / var_w
        beta += step
        if abs(step) <= tol:
            return beta, var_w, iteration
    msg = f"weichert did not converge in {max_iter} iterations (last step {step:.3g}); raise 'max_iter'."
    raise SchemaError(msg)


def b_positive(
    catalog: pd.DataFrame | np.ndarray,
    delta_m: float = 0.1,
    *,
    dmc: float | None = None,
    mc: float | None = None,
) -> GRFit:
    """b-positive (van der Elst 2021) from positive magnitude differences.

    Parameters
    ----------
    catalog
        Catalogue (sorted by time here) or magnitudes already in time order.
    delta_m
        Bin width the magnitudes are rounded to.
    dmc
        Smallest difference used (default ``delta_m``); differences
        ``d >= dmc`` follow an exponential law with the same b.
    mc
        Optional magnitude floor applied before differencing.

    Returns
    -------
    GRFit
        ``b = log10(e) / (mean(d) - (dmc - delta_m / 2))`` with the Shi & Bolt
        error of the differences; ``a`` is NaN.
    """
    delta_m = check_delta_m(delta_m, func="b_positive")
    if isinstance(catalog, pd.DataFrame):
        validate_catalog(catalog, required=("time", "mag"))
        mags = catalog.sort_values("time", kind="stable")["mag"].to_numpy(dtype=float)
    else:
        mags = magnitudes_of(catalog)
    m = bin_magnitudes(mags, delta_m)
    if mc is not None:
        m = m[m >= mc - 1e-9]
    dmc = delta_m if dmc is None else float(dmc)
    d = np.round(np.diff(m), 6)
    d = d[d >= dmc - 1e-9]
    _too_few(d.size, 2, "b_positive", f"positive differences >= dmc={dmc}")
    b = _LOG10_E / (d.mean() - (dmc - delta_m / 2.0))
    return GRFit("b_positive", float(b), shi_bolt_sigma(d, b), float("nan"), float("nan") if mc is None else float(mc),
                 delta_m, int(d.size), details={"dmc": dmc, "mean_difference": float(d.mean())})
