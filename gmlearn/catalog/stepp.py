"""Stepp (1971) completeness periods.

For each magnitude class, the mean annual rate ``lambda_T = N_T / T`` is computed
over windows of growing length ``T`` that end at the end of the catalogue.
While the class is completely recorded the rate is stationary and its
standard deviation ``sigma_T = sqrt(lambda_T / T)`` falls as ``T**-0.5``; once
``T`` reaches back into an incomplete period ``sigma_T`` falls faster.
Stepp judged the departure by eye; here it is the break point of a two-segment
fit to ``log10 sigma_T`` against ``log10 T`` whose first segment has slope
-1/2 and whose second segment is free (least squares, break point searched
over the window lengths). A class whose second slope is not steeper than -1/2
(by ``slope_tolerance``) is complete over the whole catalogue.

Reference: Stepp, J. C. (1971). An investigation of earthquake risk in the
Puget Sound area by use of the type I distribution of largest extremes. PhD
thesis, Pennsylvania State University (method also in Stepp 1972, Proc. Int.
Conf. Microzonation 2, 897-910).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from gmlearn.catalog.frame import validate_catalog
from gmlearn.exceptions import SchemaError

__all__ = ["stepp_completeness", "completeness_table"]

_DAYS_PER_YEAR = 365.25


def _sigma_curve(times_years: np.ndarray, end: float, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts and sigma_lambda over windows ending at ``end`` (years before end in ``windows``)."""
    age = end - times_years
    counts = np.searchsorted(np.sort(age), windows, side="right").astype(float)
    rate = counts / windows
    return counts, np.sqrt(rate / windows)


def _break_point(x: np.ndarray, y: np.ndarray) -> tuple[int, float]:
    """Index of the break point and the slope after it (NaN if no break fits)."""
    best, best_idx, best_slope = np.inf, x.size - 1, np.nan
    for k in range(1, x.size - 1):
        xb = x[k]
        lhs = y + 0.5 * np.minimum(x, xb)
        design = np.column_stack([np.ones_like(x), np.maximum(x - xb, 0.0)])
        coef, *_ = np.linalg.lstsq(design, lhs, rcond=None)
        sse = float(np.sum((design @ coef - lhs) ** 2))
        if sse < best:
            best, best_idx, best_slope = sse, k, float(coef[1])
    # a single segment of slope -1/2 over all windows
    sse_one = float(np.sum((y + 0.5 * x - np.mean(y + 0.5 * x)) ** 2))
    if sse_one <= best:
        return x.size - 1, np.nan
    return best_idx, best_slope


def stepp_completeness(
    catalog: pd.DataFrame,
    mag_bins: Sequence[float] | float = 0.5,
    time_bin_years: float = 1.0,
    *,
    min_events: int = 5,
    slope_tolerance: float = 0.1,
    increment_lock: bool = True,
) -> pd.DataFrame:
    """Completeness period of each magnitude class (Stepp 1971).

    Parameters
    ----------
    catalog
        Canonical catalogue (``time``, ``mag``).
    mag_bins
        Class edges, or a class width (classes from the floor of the smallest
        magnitude to the largest).
    time_bin_years
        Step of the window lengths ``T = k * time_bin_years``.
    min_events
        Windows holding fewer events of a class are left out of its fit, and
        classes with fewer events in all are reported with NaN periods.
    slope_tolerance
        A second slope must be below ``-0.5 - slope_tolerance`` to count as a departure.
    increment_lock
        Make periods non-decreasing with magnitude (as OpenQuake hmtk's
        ``increment_lock``): a class is complete for at least as long as the
        next smaller one. Start the classes at a plausible Mc, since classes
        below it look stationary (incomplete throughout) and would lengthen
        every period above them.

    Returns
    -------
    pandas.DataFrame
        One row per class: ``mag_min``, ``mag_max``, ``n_events``,
        ``complete_years`` (length of the complete period), ``start`` (UTC
        time since which the class is complete), ``slope_after`` (NaN when
        complete throughout).
    """
    validate_catalog(catalog, required=("time", "mag"))
    if not time_bin_years > 0:
        msg = f"The 'time_bin_years' parameter of stepp_completeness must be > 0. Got {time_bin_years!r} instead."
        raise SchemaError(msg)
    mags = catalog["mag"].to_numpy(dtype=float)
    time = pd.DatetimeIndex(catalog["time"])
    t0 = time.min()
    years = (time - t0) / pd.Timedelta(days=_DAYS_PER_YEAR)
    years = np.asarray(years, dtype=float)
    end = float(years.max())
    edges = _edges(mags, mag_bins)
    windows = np.arange(1, int(np.floor(end / time_bin_years)) + 1) * time_bin_years
    if windows.size < 3:
        msg = (
            f"stepp_completeness needs at least 3 windows; the catalogue spans {end:.2f} years and "
            f"time_bin_years={time_bin_years}. Use a shorter 'time_bin_years'."
        )
        raise SchemaError(msg)
    rows = [_class_row(years[(mags >= lo) & (mags < hi)], end, windows, lo, hi, min_events, slope_tolerance)
            for lo, hi in zip(edges[:-1], edges[1:])]
    out = pd.DataFrame(rows)
    if increment_lock:  # a class is complete for at least as long as the next smaller one (NaN skipped)
        out["complete_years"] = out["complete_years"].cummax()
    end_time = time.max()
    out["start"] = [(end_time - pd.Timedelta(days=y * _DAYS_PER_YEAR)).round("s") if np.isfinite(y) else pd.NaT
                    for y in out["complete_years"]]
    return out


def _edges(mags: np.ndarray, mag_bins: Sequence[float] | float) -> np.ndarray:
    if np.ndim(mag_bins) == 0:
        width = float(mag_bins)  # type: ignore[arg-type]
        if not width > 0:
            msg = f"The 'mag_bins' parameter of stepp_completeness must be a positive width or edges. Got {mag_bins!r} instead."
            raise SchemaError(msg)
        start = np.floor(mags.min() / width) * width
        return np.round(np.arange(start, mags.max() + width, width), 6)
    edges = np.asarray(mag_bins, dtype=float)
    if edges.size < 2 or np.any(np.diff(edges) <= 0):
        msg = f"The 'mag_bins' edges of stepp_completeness must increase and number at least 2. Got {list(edges)} instead."
        raise SchemaError(msg)
    return edges


def _class_row(years: np.ndarray, end: float, windows: np.ndarray, lo: float, hi: float, min_events: int,
               slope_tolerance: float) -> dict:
    row = {"mag_min": float(lo), "mag_max": float(hi), "n_events": int(years.size), "complete_years": np.nan,
           "slope_after": np.nan}
    if years.size < min_events:
        return row
    counts, sigma = _sigma_curve(years, end, windows)
    ok = counts >= max(min_events, 1)
    if ok.sum() < 3:
        return row
    x, y, w = np.log10(windows[ok]), np.log10(sigma[ok]), windows[ok]
    k, slope = _break_point(x, y)
    if np.isfinite(slope) and slope < -0.5 - slope_tolerance:
        row.update(complete_years=float(w[k]), slope_after=slope)
    else:
        row.update(complete_years=float(end))
    return row


def completeness_table(stepp: pd.DataFrame) -> list[tuple[pd.Timestamp, float]]:
    """``[(start, mc), ...]`` for :func:`~gmlearn.catalog.bvalue.weichert` from a Stepp result.

    Keeps the first class of each distinct start, so a row means "complete for
    M >= mc since start".
    """
    rows = stepp.dropna(subset=["start"])
    out: list[tuple[pd.Timestamp, float]] = []
    for start, mc in zip(rows["start"], rows["mag_min"]):
        if not out or start < out[-1][0]:
            out.append((pd.Timestamp(start), float(mc)))
    return out
