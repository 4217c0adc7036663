"""Magnitude of completeness Mc and completeness periods.

- :func:`mc_max_curvature` -- the most populated magnitude bin (Wiemer & Wyss
  2000), plus an optional correction (Woessner & Wiemer 2005 suggest +0.2);
- :func:`mc_goodness_of_fit` -- smallest Mc whose Gutenberg-Richter fit explains
  the binned counts at the 95 % (else 90 %) level (Wiemer & Wyss 2000);
- :func:`mc_b_stability` -- smallest Mc at which the b-value stops changing
  (Cao & Gao 2002; Woessner & Wiemer 2005);
- :func:`stepp_completeness` -- completeness periods per magnitude class (Stepp 1971),
  in :mod:`gmlearn.catalog.stepp`.

References
----------
Wiemer, S. & Wyss, M. (2000). BSSA 90(4), 859-869.
Cao, A. & Gao, S. S. (2002). GRL 29(9), 1334.
Woessner, J. & Wiemer, S. (2005). BSSA 95(2), 684-698.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from gmlearn.catalog.bvalue import aki_utsu, shi_bolt_sigma
from gmlearn.catalog.fmd import bin_magnitudes, check_delta_m, frequency_magnitude
from gmlearn.catalog.frame import magnitudes_of
from gmlearn.exceptions import SchemaError

__all__ = ["McResult", "MC_METHODS", "estimate_mc", "mc_max_curvature", "mc_goodness_of_fit", "mc_b_stability"]

_LOG10_E = float(np.log10(np.e))


@dataclass(frozen=True)
class McResult:
    """A completeness magnitude and how it was found.

    Attributes
    ----------
    mc
        Completeness magnitude (a bin centre), NaN when no candidate passed.
    method
        Method name.
    params
        Arguments used.
    details
        Per-candidate values (tested Mc, b-values, residuals, ...).
    """

    mc: float
    method: str
    params: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy."""
        return asdict(self)


def _binned(mags: np.ndarray | pd.DataFrame, delta_m: float, func: str) -> tuple[np.ndarray, float]:
    delta_m = check_delta_m(delta_m, func=func)
    return bin_magnitudes(magnitudes_of(mags), delta_m), delta_m


def mc_max_curvature(mags: np.ndarray | pd.DataFrame, delta_m: float = 0.1, correction: float = 0.0) -> McResult:
    """Maximum-curvature Mc: centre of the most populated bin plus ``correction``.

    Parameters
    ----------
    mags
        Magnitudes, or a catalogue (column ``mag``).
    delta_m
        Bin width of the frequency-magnitude distribution.
    correction
        Added to the mode (Woessner & Wiemer 2005 recommend +0.2).
    """
    fmd = frequency_magnitude(magnitudes_of(mags), check_delta_m(delta_m, func="mc_max_curvature"))
    mode = float(fmd["mag"].iloc[int(fmd["count"].to_numpy().argmax())])
    mc = float(bin_magnitudes(np.array([mode + correction]), delta_m)[0])
    return McResult(mc, "max_curvature", {"delta_m": delta_m, "correction": correction}, {"mode": mode})


def _candidates(m: np.ndarray, delta_m: float, mcs: Sequence[float] | None, top: float) -> np.ndarray:
    if mcs is not None:
        return bin_magnitudes(np.sort(np.unique(np.asarray(mcs, dtype=float))), delta_m)
    return bin_magnitudes(np.arange(m.min(), top + delta_m / 2.0, delta_m), delta_m)


def mc_goodness_of_fit(
    mags: np.ndarray | pd.DataFrame,
    delta_m: float = 0.1,
    *,
    levels: Sequence[float] = (95.0, 90.0),
    mcs: Sequence[float] | None = None,
    min_events: int = 50,
) -> McResult:
    """Goodness-of-fit Mc (Wiemer & Wyss 2000).

    For each candidate Mc the Aki-Utsu law fitted above it predicts the count
    of every bin from Mc up; ``R = 100 - 100 * sum|observed - predicted| / sum observed``.
    Mc is the smallest candidate reaching the first of ``levels`` that any
    candidate reaches; when none does, the maximum-curvature Mc is returned
    (``details["level"]`` is then None).

    Parameters
    ----------
    mags
        Magnitudes, or a catalogue.
    delta_m
        Bin width.
    levels
        Fit levels (%) tried in order.
    mcs
        Candidates (default: every bin with at least ``min_events`` events above).
    min_events
        Fewest events above a candidate.
    """
    m, delta_m = _binned(mags, delta_m, "mc_goodness_of_fit")
    above = np.sort(m)[::-1]
    top = above[min(min_events, above.size) - 1]
    tested, residual, b_values = [], [], []
    for mc in _candidates(m, delta_m, mcs, top):
        sel = m[m >= mc - 1e-9]
        if sel.size < max(min_events, 2):
            continue
        b = aki_utsu(sel, mc, delta_m).b
        k = np.rint((sel - mc) / delta_m).astype(np.int64)
        observed = np.bincount(k).astype(float)
        edges = np.arange(observed.size + 1) * delta_m
        predicted = sel.size * -np.diff(10.0 ** (-b * edges))
        tested.append(float(mc))
        residual.append(float(100.0 - 100.0 * np.abs(observed - predicted).sum() / observed.sum()))
        b_values.append(float(b))
    r = np.asarray(residual)
    params = {"delta_m": delta_m, "levels": list(levels), "min_events": min_events}
    details: dict[str, Any] = {"mcs_tested": tested, "fit_percent": residual, "b_values": b_values, "level": None}
    for level in levels:
        hit = np.flatnonzero(r >= level)
        if hit.size:
            details["level"] = float(level)
            return McResult(tested[int(hit[0])], "goodness_of_fit", params, details)
    details["fallback"] = "max_curvature"
    return McResult(mc_max_curvature(m, delta_m).mc, "goodness_of_fit", params, details)


def mc_b_stability(
    mags: np.ndarray | pd.DataFrame,
    delta_m: float = 0.1,
    *,
    stability_range: float = 0.5,
    mcs: Sequence[float] | None = None,
) -> McResult:
    """b-value-stability Mc (Cao & Gao 2002; Woessner & Wiemer 2005).

    For each candidate Mc, ``b_ave`` is the mean of the Aki-Utsu b-values at
    Mc, Mc + dM, ..., Mc + ``stability_range`` - dM (5 values for 0.5 / 0.1);
    Mc is the first candidate with ``|b_ave - b(Mc)| <= sigma_b(Mc)`` (Shi & Bolt).

    Parameters
    ----------
    mags
        Magnitudes, or a catalogue.
    delta_m
        Bin width.
    stability_range
        Magnitude range averaged over.
    mcs
        Candidates (default: every bin from the smallest magnitude while the
        whole range stays below the largest one).

    Returns
    -------
    McResult
        ``mc`` NaN when no candidate is stable.
    """
    m, delta_m = _binned(mags, delta_m, "mc_b_stability")
    steps = int(round(stability_range / delta_m))
    if steps < 1:
        msg = f"The 'stability_range' parameter of mc_b_stability must be >= delta_m={delta_m}. Got {stability_range!r} instead."
        raise SchemaError(msg)
    top = m.max() - (steps - 1) * delta_m
    candidates = _candidates(m, delta_m, mcs, top)
    candidates = candidates[candidates <= top + 1e-9]
    srt = np.sort(m)
    mc_of_bin = bin_magnitudes(np.arange(candidates.min() if candidates.size else 0, m.max() + delta_m / 2, delta_m), delta_m)
    b_of_bin = {float(c): _b_above(srt, c, delta_m) for c in mc_of_bin}
    tested, b_values, diffs = [], [], []
    for mc in candidates.tolist():
        b, sigma = b_of_bin.get(mc, (np.nan, np.nan))
        plus = [b_of_bin.get(float(v), (np.nan, np.nan))[0] for v in bin_magnitudes(mc + delta_m * np.arange(steps), delta_m)]
        b_ave = float(np.nanmean(plus)) if np.isfinite(plus).any() else np.nan
        diff = abs(b_ave - b) / sigma if sigma > 0 else np.inf
        tested.append(mc)
        b_values.append(b)
        diffs.append(float(diff))
        if diff <= 1.0:
            details = {"mcs_tested": tested, "b_values": b_values, "diff_over_sigma": diffs, "b_ave": b_ave}
            return McResult(float(mc), "b_stability", {"delta_m": delta_m, "stability_range": stability_range}, details)
    details = {"mcs_tested": tested, "b_values": b_values, "diff_over_sigma": diffs}
    return McResult(float("nan"), "b_stability", {"delta_m": delta_m, "stability_range": stability_range}, details)


def _b_above(sorted_mags: np.ndarray, mc: float, delta_m: float) -> tuple[float, float]:
    """Aki-Utsu b and Shi & Bolt sigma of the binned magnitudes >= mc (NaN if fewer than 2)."""
    sel = sorted_mags[np.searchsorted(sorted_mags, mc - 1e-9):]
    if sel.size < 2:
        return float("nan"), float("nan")
    excess = sel.mean() - (mc - delta_m / 2.0)
    if not excess > 0:
        return float("nan"), float("nan")
    b = _LOG10_E / excess
    return float(b), shi_bolt_sigma(sel, b)


#: Method name -> function.
MC_METHODS = {
    "max_curvature": mc_max_curvature,
    "goodness_of_fit": mc_goodness_of_fit,
    "b_stability": mc_b_stability,
}


def estimate_mc(mags: np.ndarray | pd.DataFrame, method: str = "max_curvature", **kwargs: Any) -> McResult:
    """Mc by a method named in :data:`MC_METHODS` (keyword arguments passed on)."""
    if method not in MC_METHODS:
        msg = f"The 'method' parameter of estimate_mc must be one of {list(MC_METHODS)}. Got {method!r} instead."
        raise SchemaError(msg)
    return MC_METHODS[method](mags, **kwargs)
