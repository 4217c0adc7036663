"""Magnitude binning, frequency-magnitude distributions and synthetic Gutenberg-Richter samples."""

from __future__ import annotations

import decimal

import numpy as np
import pandas as pd

from gmlearn.catalog.frame import magnitudes_of
from gmlearn.exceptions import SchemaError

__all__ = ["bin_magnitudes", "frequency_magnitude", "simulate_gr", "check_delta_m"]


def check_delta_m(delta_m: float, *, allow_zero: bool = False, func: str = "") -> float:
    """Return ``delta_m`` as a float after checking it is a positive bin width (or 0 if allowed)."""
    value = float(delta_m)
    ok = value >= 0.0 if allow_zero else value > 0.0
    if not (ok and np.isfinite(value) and value <= 1.0):
        allowed = "in [0, 1]" if allow_zero else "in (0, 1]"
        msg = f"The 'delta_m' parameter{f' of {func}' if func else ''} must be {allowed} (magnitude units). Got {delta_m!r} instead."
        raise SchemaError(msg)
    return value


def _decimals(delta_m: float) -> int:
    exponent = decimal.Decimal(repr(float(delta_m))).normalize().as_tuple().exponent
    return max(0, -int(exponent)) if isinstance(exponent, int) else 6


def bin_magnitudes(mags: np.ndarray, delta_m: float) -> np.ndarray:
    """Round magnitudes to the nearest multiple of ``delta_m`` (halves up), without float noise.

    ``bin_magnitudes([2.25, 2.34], 0.1)`` gives ``[2.3, 2.3]``; already binned
    magnitudes are returned unchanged. ``delta_m = 0`` returns a copy.
    """
    mags = np.asarray(mags, dtype=float)
    delta_m = check_delta_m(delta_m, allow_zero=True, func="bin_magnitudes")
    if delta_m == 0.0:
        return mags.copy()
    k = np.floor(np.round(mags / delta_m, 6) + 0.5)
    return np.round(k * delta_m, _decimals(delta_m) + 1)


def frequency_magnitude(mags: np.ndarray | pd.DataFrame, delta_m: float = 0.1) -> pd.DataFrame:
    """Frequency-magnitude distribution.

    Parameters
    ----------
    mags
        Magnitudes, or a catalogue (column ``mag``).
    delta_m
        Bin width; magnitudes are rounded to its multiples.

    Returns
    -------
    pandas.DataFrame
        ``mag`` (bin centre), ``count`` (events in the bin), ``cumulative``
        (events at or above the bin), one row per bin from the smallest to the
        largest magnitude, empty bins included.
    """
    m = bin_magnitudes(magnitudes_of(mags), check_delta_m(delta_m, func="frequency_magnitude"))
    k = np.rint(m / delta_m).astype(np.int64)
    k0 = int(k.min())
    counts = np.bincount(k - k0)
    centres = np.round((np.arange(counts.size) + k0) * delta_m, _decimals(delta_m) + 1)
    return pd.DataFrame({"mag": centres, "count": counts, "cumulative": counts[::-1].cumsum()[::-1]})


def simulate_gr(
    n: int,
    b: float,
    mc: float,
    *,
    delta_m: float = 0.1,
    mmax: float | None = None,
    random_state: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Sample magnitudes from a (truncated) Gutenberg-Richter law.

    Continuous magnitudes are drawn from an exponential with
    ``beta = b ln 10`` above ``mc - delta_m / 2`` (below ``mmax + delta_m / 2``
    when given) and rounded to ``delta_m``, so the smallest bin is ``mc``.

    Parameters
    ----------
    n
        Number of events.
    b
        b-value (> 0).
    mc
        Completeness magnitude (smallest bin centre).
    delta_m
        Bin width (0 for continuous magnitudes from ``mc``).
    mmax
        Largest bin centre, or None for an untruncated law.
    random_state
        Seed or generator; the same seed gives the same sample.

    Returns
    -------
    numpy.ndarray
        Shape (n,).
    """
    if not b > 0:
        msg = f"The 'b' parameter of simulate_gr must be > 0. Got {b!r} instead."
        raise SchemaError(msg)
    delta_m = check_delta_m(delta_m, allow_zero=True, func="simulate_gr")
    rng = np.random.default_rng(random_state)
    beta = b * np.log(10.0)
    m0 = mc - delta_m / 2.0
    u = rng.random(int(n))
    span = 1.0 if mmax is None else 1.0 - np.exp(-beta * (mmax + delta_m / 2.0 - m0))
    mags = m0 - np.log(1.0 - u * span) / beta
    return bin_magnitudes(mags, delta_m) if delta_m > 0 else mags
