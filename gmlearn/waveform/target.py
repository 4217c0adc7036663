"""Spectra that follow a chosen ground-motion model: target draws, spectral matching, style of faulting.

- :func:`target_spectra` draws one RotD50 spectrum per record from a model's ln
  median, between-event ``tau`` and within-event ``phi``, each residual correlated
  across periods with Baker and Jayaram (2008) (OpenQuake's
  ``cross_correlation.BakerJayaram2008``). Records at the same scenario are
  moment-matched: the total standardised residuals of each period are replaced by
  normal scores of their ranks, rescaled to unit sample standard deviation (rank
  correlation kept, Iman and Conover 1982), so a set has the model's median and σ by
  construction.
- :func:`misfit`, :func:`band_correction` and :func:`tilt` measure how far records are
  from their targets, per period, per band of the realism layer, and between the very
  short and short periods (kappa); ``WaveformGenerator.generate(target=...)`` feeds them
  back into the realism layer (band gains, a re-fitted duration, a fitted kappa) so that
- :func:`spectral_match` only has to correct a little: it scales each record's Fourier
  spectrum, iteratively, by the ratio of target to current spectrum on periods 5 % apart,
  keeping the phases and so the time structure, and the kappa slope above
  :data:`FLAT_ABOVE`; with groups, each set's median stays on its targets' median;
  the baseline is corrected after every step. :func:`shorten` damps the coda of records
  that matching lengthened.
- :func:`faulting_factor`: style of faulting as the BSSA14 mechanism terms
  (normal or reverse minus strike-slip, per band), added to generator envelopes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from gmlearn.waveform.errors import WaveformModelError

__all__ = ["MATCH_PERIODS", "FLAT_ABOVE", "TILT_PERIODS", "bj08_matrix", "target_spectra", "misfit", "band_correction", "tilt",
           "dense_periods", "spectral_match", "shorten",
           "faulting_factor", "mechanism"]

#: Periods (s) at which records are matched to their target spectra (40, 15.4 % apart).
MATCH_PERIODS = np.geomspace(0.03, 8.0, 40)
#: Frequency (Hz) above which matching scales the Fourier spectrum by one factor (the kappa slope is kept):
#: the lower end of the 12-40 Hz band :func:`gmlearn.waveform.realism.kappa_from_fas` reads kappa from.
FLAT_ABOVE = 12.0


@lru_cache(maxsize=16)
def _bj08(periods: tuple[float, ...]) -> np.ndarray:
    from openquake.hazardlib.cross_correlation import BakerJayaram2008
    from openquake.hazardlib.imt import SA

    model = BakerJayaram2008()
    imts = [SA(t) for t in periods]
    return np.array([[model.get_correlation(a, b) for b in imts] for a in imts])


def bj08_matrix(periods: np.ndarray) -> np.ndarray:
    """Baker and Jayaram (2008) correlation of ln PSA residuals between ``periods`` (s), shape (T, T)."""
    return _bj08(tuple(float(t) for t in np.asarray(periods, dtype=float))).copy()


def _as_model(model: Any) -> Any:
    if isinstance(model, str):
        from gmlearn.gmpe.reference import OpenQuakeGMPE

        return OpenQuakeGMPE(model)
    if not hasattr(model, "predict"):
        raise WaveformModelError("The 'target' parameter must be a gmlearn ground-motion model (with predict) or an "
                                 f"OpenQuake GSIM name such as 'BooreEtAl2014'. Got {type(model).__name__} instead.")
    return model


def _normal_scores(z: np.ndarray) -> np.ndarray:
    """Per column: ranks -> standard normal quantiles, rescaled to unit sample standard deviation."""
    from scipy.stats import norm

    m = z.shape[0]
    ranks = np.argsort(np.argsort(z, axis=0, kind="stable"), axis=0)
    scores = norm.ppf((ranks + 0.5) / m)
    return scores / scores.std(axis=0, ddof=1, keepdims=True)


def target_spectra(model: Any, mag: np.ndarray, rrup: np.ndarray, vs30: np.ndarray, rake: np.ndarray,
                   periods: np.ndarray = MATCH_PERIODS, *, events: Any = None,
                   random_state: int | np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Draw one ln RotD50 spectrum (ln g) per record from ``model``.

    Returns ``{"ln_psa", "median", "tau", "phi", "sigma"}``, each shaped (n, n_periods)
    (``median`` is the ln median). ``events`` labels records of one event (shared
    between-event term); without it every record is its own event and records of one
    scenario are moment-matched.
    """
    from gmlearn.waveform.timing import scenario_table

    rng = np.random.default_rng(random_state)
    model = _as_model(model)
    periods = np.asarray(periods, dtype=float)
    table = scenario_table(mag, rrup, vs30, rake)
    pred = model.predict(table, [f"SA({t:g})" for t in periods])
    mean, tau, phi, sigma = (np.asarray(x, dtype=float).T for x in (pred.mean, pred.tau, pred.phi, pred.sigma))
    if not np.all(np.isfinite(tau)) or not np.all(np.isfinite(phi)) or np.all(tau == 0):
        tau, phi = np.zeros_like(sigma), sigma
    chol = np.linalg.cholesky(bj08_matrix(periods) + 1e-9 * np.eye(len(periods)))
    n = len(table)
    labels = np.arange(n) if events is None else np.broadcast_to(np.asarray(events), (n,))
    uniq, which = np.unique(labels, return_inverse=True)
    eta = (rng.standard_normal((len(uniq), len(periods))) @ chol.T)[which]
    eps = rng.standard_normal((n, len(periods))) @ chol.T
    total = np.sqrt(tau ** 2 + phi ** 2)
    z = (tau * eta + phi * eps) / np.maximum(total, 1e-12)
    if events is None:
        keys = np.round(np.column_stack([table["mag"], table["rrup"], table["vs30"], table["rake"]]), 6)
        _, group = np.unique(keys, axis=0, return_inverse=True)
        for g in np.unique(group):
            rows = np.flatnonzero(group.ravel() == g)
            if rows.size >= 3:
                z[rows] = _normal_scores(z[rows])
    return {"ln_psa": mean + total * z, "median": mean, "tau": tau, "phi": phi, "sigma": total}


def _ratio_on_freqs(ratio: np.ndarray, periods: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Ratios at ``periods`` (n, T) -> at frequencies ``f``, log-frequency interpolation, held beyond the ends."""
    fp = 1.0 / periods[::-1]
    lf = np.log(np.maximum(f, 1e-6))
    lr = np.log(ratio[:, ::-1])
    return np.exp(np.stack([np.interp(lf, np.log(fp), row) for row in lr]))


def dense_periods(periods: np.ndarray, spacing: float = 0.05) -> np.ndarray:
    """Periods from ``periods[0]`` to ``periods[-1]`` about ``spacing`` apart (relative), log-spaced, ends included."""
    periods = np.asarray(periods, dtype=float)
    n = int(np.ceil(np.log(periods[-1] / periods[0]) / np.log1p(spacing))) + 1
    return np.geomspace(periods[0], periods[-1], max(n, 2))


def spectral_match(acc: np.ndarray, dt: float, lengths: np.ndarray, target: np.ndarray,
                   periods: np.ndarray = MATCH_PERIODS, *, iterations: int = 8, n_angles: int = 20,
                   onsets: np.ndarray | None = None, flat_above: float | None = None,
                   limits: tuple[float, float] = (0.7, 1.4), spacing: float = 0.05,
                   groups: np.ndarray | None = None) -> np.ndarray:
    """Match records (n, 3, n_t) to target RotD50 spectra ``target`` (n, T) in g by iterative Fourier scaling.

    The ratio of RotD50 to the geometric mean of the horizontals is measured once
    (``n_angles`` angles, at ``periods``); the target divided by it is interpolated in
    ln T onto periods ``spacing`` apart (:func:`dense_periods`, 5 %: about the
    half-power bandwidth of a 5 %-damped oscillator, so the spectrum cannot bulge
    between matched periods). Each iteration then scales all three components by the
    ratio of that target to the current geometric-mean spectrum, limited to ``limits``
    per step and interpolated in log frequency (phases, hence the time structure, are
    kept); tapers the spread of the scaling away over the last 2 s of each record's
    ``lengths`` (s) and, with ``onsets`` (s), over 1 s before each record's P arrival;
    and re-applies :func:`gmlearn.waveform.realism.zero_baseline`. With ``flat_above``
    (Hz), frequencies above it are scaled by one factor, the geometric mean of the
    ratios at periods shorter than ``1 / flat_above`` (blended in over the 1.25 times
    lower frequencies), so the slope of the Fourier spectrum there, the record's
    kappa, is kept.

    ``groups`` labels records that form one set (for example one scenario). A record
    cannot always reach an extreme draw (a deep notch, or more short-period energy
    than its kappa allows), and such misses do not cancel in the set median. From the
    middle iteration on, the goals of a group of 3 or more records are therefore moved
    by the group's median miss at each period, so that the set's median spectrum is the
    median of its targets.
    """
    from gmlearn.waveform.metrics import psa, rotd
    from gmlearn.waveform.realism import zero_baseline

    acc = np.array(acc, dtype=float)
    periods = np.asarray(periods, dtype=float)
    n_t = acc.shape[-1]
    n_len = np.round(np.asarray(lengths, dtype=float) / dt).astype(int)
    t = np.arange(n_t)[None, :] * dt
    # cosine ramps, so that cutting the spread of the scaling leaks nothing to high frequencies:
    # 2 s ending at each record's end and, with onsets, 1 s ending 0.1 s before the P arrival
    x = np.clip((n_len[:, None] * dt - t) / 2.0, 0.0, 1.0)
    inside = 0.5 - 0.5 * np.cos(np.pi * x)
    if onsets is not None:
        x = np.clip((t - (np.asarray(onsets, dtype=float)[:, None] - 1.1)) / 1.0, 0.0, 1.0)
        inside *= 0.5 - 0.5 * np.cos(np.pi * x)
    gm = np.sqrt(psa(acc[:, 0], dt, periods) * psa(acc[:, 1], dt, periods))
    rot_over_gm = rotd(acc[:, 0], acc[:, 1], dt, periods, n_angles=n_angles) / np.maximum(gm, 1e-30)
    dense = dense_periods(periods, spacing)
    ln_goal = np.log(np.maximum(np.asarray(target, dtype=float) / rot_over_gm, 1e-30))
    goal = np.exp(np.stack([np.interp(np.log(dense), np.log(periods), row) for row in ln_goal]))
    f = np.fft.rfftfreq(n_t, dt)
    short = dense < 1.0 / flat_above if flat_above is not None else None
    members = _group_rows(groups, len(acc))
    offset = np.zeros_like(goal)
    for k in range(iterations):
        current = np.sqrt(psa(acc[:, 0], dt, dense) * psa(acc[:, 1], dt, dense))
        if members and k >= iterations // 2:
            miss = np.log(np.maximum(current, 1e-30) / goal)
            for rows in members:
                offset[rows] -= np.median(miss[rows], axis=0)
        ratio = np.clip(goal * np.exp(offset) / np.maximum(current, 1e-30), *limits)
        factor = _ratio_on_freqs(ratio, dense, f)
        if flat_above is not None and short.any():
            level = np.exp(np.log(ratio[:, short]).mean(axis=1))
            w = np.clip(np.log(np.maximum(f, 1e-12) / (flat_above / 1.25)) / np.log(1.25), 0.0, 1.0)
            factor = np.exp((1 - w) * np.log(factor) + w * np.log(level)[:, None])
        spec = np.fft.rfft(acc, axis=-1) * factor[:, None, :]
        acc = zero_baseline(np.fft.irfft(spec, n_t, axis=-1) * inside[:, None, :], dt, n_len)
    return acc


def shorten(acc: np.ndarray, dt: float, d595: np.ndarray, lengths: np.ndarray, tol: float = 0.1,
            steps: int = 12) -> np.ndarray:
    """Damp the coda of records whose horizontal D5-95 exceeds ``d595`` (s, (n,)) by more than ``tol`` (ln).

    After the 50 % Arias time ``t50`` of such a record, all three components are
    multiplied by ``exp(-λ (t - t50))``, ``λ`` (1/s, in [0, 2]) found by bisection so
    that the mean horizontal D5-95 equals ``d595``; the baseline is then corrected
    again (:func:`gmlearn.waveform.realism.zero_baseline`). Fourier matching lengthens
    near-field records of large events whose long periods it raises; this gives them
    back their drawn duration.
    """
    from gmlearn.waveform.metrics import significant_duration
    from gmlearn.waveform.realism import zero_baseline

    acc = np.array(acc, dtype=float)
    d = significant_duration(acc[:, :2], dt).mean(axis=1)
    rows = np.flatnonzero(np.log(np.maximum(d, dt) / np.asarray(d595, dtype=float)) > tol)
    if rows.size == 0:
        return acc
    sub = acc[rows]
    energy = (sub[:, :2] ** 2).sum(axis=1)
    cum = np.cumsum(energy, axis=-1)
    t = np.arange(acc.shape[-1]) * dt
    t50 = np.argmax(cum >= 0.5 * cum[:, -1:], axis=-1) * dt
    after = np.maximum(t[None, :] - t50[:, None], 0.0)

    def dur(lam: np.ndarray) -> np.ndarray:
        c = np.cumsum(energy * np.exp(-2.0 * lam[:, None] * after), axis=-1)
        c /= np.maximum(c[:, -1:], 1e-300)
        return (np.argmax(c >= 0.95, axis=-1) - np.argmax(c >= 0.05, axis=-1)) * dt

    lo, hi = np.zeros(rows.size), np.full(rows.size, 2.0)
    goal = np.asarray(d595, dtype=float)[rows]
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        too_long = dur(mid) > goal
        lo, hi = np.where(too_long, mid, lo), np.where(too_long, hi, mid)
    sub = sub * np.exp(-(0.5 * (lo + hi))[:, None] * after)[:, None, :]
    n_len = np.round(np.asarray(lengths, dtype=float)[rows] / dt).astype(int)
    acc[rows] = zero_baseline(sub, dt, n_len)
    return acc


def _group_rows(groups: np.ndarray | None, n: int) -> list[np.ndarray]:
    """Row indices of each group of 3 or more records (none without ``groups``)."""
    if groups is None:
        return []
    labels = np.asarray(groups)
    if labels.ndim > 1:
        _, labels = np.unique(labels, axis=0, return_inverse=True)
    labels = np.asarray(labels).ravel()
    return [rows for g in np.unique(labels) if (rows := np.flatnonzero(labels == g)).size >= 3]


def misfit(acc: np.ndarray, dt: float, ln_target: np.ndarray, periods: np.ndarray = MATCH_PERIODS) -> np.ndarray:
    """ln(target / current) at ``periods``, (n, T), clipped to ±2.5; current: geometric mean of the horizontal PSA."""
    from gmlearn.waveform.metrics import psa

    periods = np.asarray(periods, dtype=float)
    current = 0.5 * (np.log(np.maximum(psa(acc[:, 0], dt, periods), 1e-12))
                     + np.log(np.maximum(psa(acc[:, 1], dt, periods), 1e-12)))
    return np.clip(ln_target - current, -2.5, 2.5)


def band_correction(diff: np.ndarray, periods: np.ndarray = MATCH_PERIODS) -> np.ndarray:
    """Misfits ``diff`` (n, T) (:func:`misfit`) averaged over the periods of each output band of the realism layer, (n, 11).

    Each band of :data:`gmlearn.waveform.realism.OUT_EDGES` gets the mean ln ratio of
    the periods whose frequency lies in it; a band without a matching period takes the
    value of the nearest band that has one. Added to the ``gain`` of
    :func:`gmlearn.waveform.realism.restructure`, it raises or lowers whole bands, so
    the re-synthesised record keeps its arrivals and its duration is re-fitted.
    """
    from gmlearn.waveform.realism import OUT_EDGES

    periods = np.asarray(periods, dtype=float)
    band = np.searchsorted(OUT_EDGES, 1.0 / periods, side="right") - 1
    n_out = len(OUT_EDGES) - 1
    has = np.array([np.any(band == b) for b in range(n_out)])
    if not has.any():
        return np.zeros((len(diff), n_out))
    means = np.stack([diff[:, band == b].mean(axis=1) if has[b] else np.zeros(len(diff)) for b in range(n_out)], axis=1)
    filled = np.flatnonzero(has)
    nearest = filled[np.argmin(np.abs(np.arange(n_out)[:, None] - filled[None, :]), axis=1)]
    return means[:, nearest]


#: Period ranges (s) whose mean misfits are compared to fit kappa to a target: (shortest, longer).
TILT_PERIODS = ((0.0, 0.05), (0.06, 0.1))


def tilt(diff: np.ndarray, periods: np.ndarray = MATCH_PERIODS) -> np.ndarray | None:
    """Mean misfit at periods up to 0.05 s minus that at 0.06-0.1 s, (n,); None when ``periods`` miss either range.

    Positive: the target has more high-frequency motion relative to 10-15 Hz than the
    record, whose kappa is then too large.
    """
    periods = np.asarray(periods, dtype=float)
    (a0, a1), (b0, b1) = TILT_PERIODS
    hi, mid = (periods > a0) & (periods <= a1), (periods > b0) & (periods <= b1)
    if not hi.any() or not mid.any():
        return None
    return diff[:, hi].mean(axis=1) - diff[:, mid].mean(axis=1)


def mechanism(rake: np.ndarray) -> np.ndarray:
    """0 strike-slip, 1 normal (-150 < rake < -30), 2 reverse (30 < rake < 150), as OpenQuake's BSSA14."""
    rake = np.asarray(rake, dtype=float)
    return np.where((rake > -150) & (rake < -30), 1, np.where((rake > 30) & (rake < 150), 2, 0))


@lru_cache(maxsize=1)
def _mechanism_terms() -> np.ndarray:
    """ln PSA(normal, reverse) - ln PSA(strike-slip) of BSSA14 at the band centres, shape (3, N_BANDS)."""
    import warnings

    from gmlearn.gmpe.reference import OpenQuakeGMPE
    from gmlearn.waveform.representation import BAND_EDGES
    from gmlearn.waveform.timing import scenario_table

    periods = np.clip(1.0 / np.sqrt(BAND_EDGES[:-1] * BAND_EDGES[1:]), 0.01, 10.0)
    table = scenario_table(6.5, 20.0, 760.0, np.array([0.0, -90.0, 90.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mean = OpenQuakeGMPE("BooreEtAl2014").predict(table, [f"SA({t:.4g})" for t in periods]).mean  # (B, 3)
    return (mean - mean[:, :1]).T


def faulting_factor(rake: np.ndarray) -> np.ndarray:
    """Log-envelope offsets (n, 3 * N_BANDS, 1) for the style of faulting, relative to strike-slip (BSSA14)."""
    terms = _mechanism_terms()[mechanism(np.atleast_1d(rake))]  # (n, B)
    return np.tile(terms, (1, 3))[:, :, None]
