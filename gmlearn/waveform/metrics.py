"""Ground-motion intensity measures of acceleration time series, vectorised over records.

All functions take acceleration in g with time along the last axis (any leading
shape: records, components) and a time step ``dt`` in s.

The response spectrum uses the exact solution of the damped oscillator under a
piecewise-linear excitation (Nigam and Jennings 1969) written as a second-order
recursive filter, one :func:`scipy.signal.lfilter` call per period over all records
at once. It reproduces the PEER NGA-West2 spectra shipped with the records to better
than 1 % (``tests/waveform/test_metrics.py``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "G",
    "DEFAULT_PERIODS",
    "sdof_filter",
    "oscillator_response",
    "psa",
    "rotd",
    "fas",
    "arias",
    "husid",
    "significant_duration",
    "pga",
    "pgv",
    "summary",
]

#: Standard gravity (m/s²).
G = 9.80665
#: Periods (s) used by default: 0.05-5 s, log-spaced, including 0.1, 0.3, 1 and 3 s.
DEFAULT_PERIODS = np.array([0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0])


@lru_cache(maxsize=4096)
def sdof_filter(period: float, dt: float, damping: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Recursive-filter coefficients ``(b, a)`` of the relative displacement of a damped oscillator.

    Exact for ground acceleration varying linearly within each step: the state
    transition comes from the matrix exponential of the oscillator equations
    augmented with the input and its slope.
    """
    from scipy.linalg import expm

    w = 2.0 * np.pi / period
    m = np.zeros((4, 4))
    m[0, 1] = 1.0
    m[1, 0], m[1, 1], m[1, 2] = -w * w, -2.0 * damping * w, -1.0
    m[2, 3] = 1.0
    e = expm(m * dt)
    phi, g0, g1 = e[:2, :2], e[:2, 2], e[:2, 3]
    b_now, b_next = g0 - g1 / dt, g1 / dt
    a11, a12, a21, a22 = phi[0, 0], phi[0, 1], phi[1, 0], phi[1, 1]
    b = np.array([b_next[0], b_now[0] - a22 * b_next[0] + a12 * b_next[1], -a22 * b_now[0] + a12 * b_now[1]])
    a = np.array([1.0, -(a11 + a22), a11 * a22 - a12 * a21])
    return b, a


def oscillator_response(acc: np.ndarray, dt: float, periods: np.ndarray, damping: float = 0.05) -> np.ndarray:
    """Relative displacement (m if ``acc`` in m/s², else in the same unit x s²) of each oscillator.

    Returns an array shaped (n_periods, *acc.shape).
    """
    acc = np.asarray(acc, dtype=float)
    out = np.empty((len(periods), *acc.shape))
    for i, period in enumerate(np.asarray(periods, dtype=float)):
        out[i] = _filter(acc, float(period), float(dt), float(damping))
    return out


@lru_cache(maxsize=4096)
def _start_state(period: float, dt: float, damping: float = 0.05) -> tuple[float, float]:
    """Coefficients ``(c0, c1)`` of the transposed-direct-form state ``zi = (c0, c1) x[0]`` of :func:`sdof_filter`
    that starts the oscillator at rest at the first sample (not at rest one step earlier).

    With it the first outputs are ``y[0] = 0`` and ``y[1] = b_now x[0] + b_next x[1]``
    (the exact step from rest), as in the PEER spectra of records that start mid-motion.
    """
    b, _ = sdof_filter(period, dt, damping)
    from scipy.linalg import expm

    w = 2.0 * np.pi / period
    m = np.zeros((4, 4))
    m[0, 1] = 1.0
    m[1, 0], m[1, 1], m[1, 2] = -w * w, -2.0 * damping * w, -1.0
    m[2, 3] = 1.0
    e = expm(m * dt)
    g0, g1 = e[0, 2], e[0, 3]
    b_now = g0 - g1 / dt
    return -float(b[0]), float(b_now - b[1])


def _filter(acc: np.ndarray, period: float, dt: float, damping: float) -> np.ndarray:
    """Relative displacement from rest at the first sample (recursive filter with a matched initial state)."""
    from scipy.signal import lfilter

    b, a = sdof_filter(float(period), float(dt), float(damping))
    c0, c1 = _start_state(float(period), float(dt), float(damping))
    x0 = acc[..., :1]
    zi = np.concatenate([c0 * x0, c1 * x0], axis=-1)
    return lfilter(b, a, acc, axis=-1, zi=zi)[0]


def _refined(acc: np.ndarray, dt: float, period: float, oversample: int) -> tuple[np.ndarray, float]:
    """``acc`` linearly interpolated onto a grid fine enough for ``period`` (at least ``oversample`` steps per period)."""
    factor = max(1, int(np.ceil(oversample * dt / period)))
    if factor == 1:
        return acc, dt
    frac = np.arange(factor) / factor
    fine = (acc[..., :-1, None] * (1 - frac) + acc[..., 1:, None] * frac).reshape(*acc.shape[:-1], -1)
    return fine, dt / factor


def _response(acc: np.ndarray, dt: float, period: float, damping: float, oversample: int) -> np.ndarray:
    """Relative displacement history of one oscillator; short periods on a refined grid."""
    fine, step = _refined(acc, dt, period, oversample)
    return _filter(fine, float(period), float(step), float(damping))


def _peak_response(acc: np.ndarray, dt: float, period: float, damping: float, oversample: int) -> np.ndarray:
    """Peak |relative displacement| over time."""
    return np.max(np.abs(_response(acc, dt, period, damping, oversample)), axis=-1)


def psa(acc: np.ndarray, dt: float, periods: np.ndarray | None = None, damping: float = 0.05,
        oversample: int = 10) -> np.ndarray:
    """5 %-damped pseudo-spectral acceleration (same unit as ``acc``), shape (*acc.shape[:-1], n_periods).

    Parameters
    ----------
    acc
        Acceleration, time along the last axis.
    dt
        Time step (s).
    periods
        Oscillator periods (s); default :data:`DEFAULT_PERIODS`.
    damping
        Fraction of critical damping.
    oversample
        Periods shorter than ``oversample * dt`` are evaluated on a grid refined by
        linear interpolation so that the peak between samples is not missed (as in
        the PEER spectra).
    """
    periods = DEFAULT_PERIODS if periods is None else np.asarray(periods, dtype=float)
    acc = np.asarray(acc, dtype=float)
    peak = np.stack([_peak_response(acc, dt, float(t), damping, oversample) for t in periods], axis=-1)
    return peak * (2.0 * np.pi / periods) ** 2


def rotd(acc_h1: np.ndarray, acc_h2: np.ndarray, dt: float, periods: np.ndarray | None = None,
         percentile: float = 50.0, n_angles: int = 180, damping: float = 0.05, oversample: int = 10) -> np.ndarray:
    """RotD``percentile`` PSA of two horizontal components (Boore 2010), shape (*acc_h1.shape[:-1], n_periods).

    The oscillator responses of both components are rotated through ``n_angles``
    angles in [0°, 180°); the peak over time at each angle is taken and the
    percentile over angles returned.
    """
    periods = DEFAULT_PERIODS if periods is None else np.asarray(periods, dtype=float)
    theta = np.linspace(0.0, np.pi, n_angles, endpoint=False)
    cos, sin = np.cos(theta), np.sin(theta)
    out = []
    w2 = (2.0 * np.pi / periods) ** 2
    for i, period in enumerate(periods):
        u = _response(np.stack([acc_h1, acc_h2]), dt, float(period), damping, oversample)
        rot = np.abs(cos[:, None] * u[0][..., None, :] + sin[:, None] * u[1][..., None, :]).max(axis=-1)
        out.append(np.percentile(rot, percentile, axis=-1) * w2[i])
    return np.stack(out, axis=-1)


def fas(acc: np.ndarray, dt: float, *, smooth: float | None = None,
        freqs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fourier amplitude spectrum |A(f)|·dt (g·s), optionally log-smoothed.

    Returns ``(freqs, amplitude)``; with ``freqs`` given, the spectrum is averaged
    in ``smooth``-decade windows (default 0.1) around each frequency.
    """
    acc = np.asarray(acc, dtype=float)
    spec = np.abs(np.fft.rfft(acc, axis=-1)) * dt
    f = np.fft.rfftfreq(acc.shape[-1], dt)
    if freqs is None:
        return f, spec
    half = (0.1 if smooth is None else smooth) / 2.0
    out = np.empty((*spec.shape[:-1], len(freqs)))
    for i, fc in enumerate(np.asarray(freqs, dtype=float)):
        sel = (f >= fc * 10 ** -half) & (f <= fc * 10 ** half)
        out[..., i] = spec[..., sel].mean(axis=-1) if sel.any() else np.nan
    return np.asarray(freqs, dtype=float), out


def husid(acc: np.ndarray, dt: float) -> np.ndarray:
    """Cumulative Arias intensity (m/s) along the last axis (trapezoidal rule)."""
    a2 = (np.asarray(acc, dtype=float) * G) ** 2
    cum = np.concatenate([np.zeros(a2.shape[:-1] + (1,)), np.cumsum(0.5 * (a2[..., 1:] + a2[..., :-1]), axis=-1)],
                         axis=-1)
    return cum * dt * np.pi / (2.0 * G)


def arias(acc: np.ndarray, dt: float) -> np.ndarray:
    """Arias intensity (m/s) of acceleration in g."""
    return husid(acc, dt)[..., -1]


def significant_duration(acc: np.ndarray, dt: float, start: float = 0.05, end: float = 0.95) -> np.ndarray:
    """Time (s) between ``start`` and ``end`` fractions of the Arias intensity (D5-95 by default, D5-75 with end=0.75)."""
    h = husid(acc, dt)
    norm = h / np.maximum(h[..., -1:], np.finfo(float).tiny)
    t1 = np.argmax(norm >= start, axis=-1)
    t2 = np.argmax(norm >= end, axis=-1)
    return (t2 - t1) * dt


def pga(acc: np.ndarray) -> np.ndarray:
    """Peak ground acceleration (same unit as ``acc``)."""
    return np.max(np.abs(acc), axis=-1)


def pgv(acc: np.ndarray, dt: float, *, highpass: float = 0.1) -> np.ndarray:
    """Peak ground velocity (cm/s) of acceleration in g, integrated in the frequency domain.

    Frequencies below ``highpass`` Hz are tapered out (cosine) so that baseline
    drift does not dominate the integral.
    """
    acc = np.asarray(acc, dtype=float)
    n = acc.shape[-1]
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    spec = np.fft.rfft(acc * G * 100.0, nfft, axis=-1)
    f = np.fft.rfftfreq(nfft, dt)
    w = 2j * np.pi * f
    w[0] = 1.0
    taper = np.clip((f - 0.5 * highpass) / (0.5 * highpass), 0.0, 1.0)
    taper = 0.5 - 0.5 * np.cos(np.pi * taper)
    vel = np.fft.irfft(spec * taper / w, nfft, axis=-1)[..., :n]
    return np.max(np.abs(vel), axis=-1)


def summary(acc: np.ndarray, dt: float, periods: np.ndarray | None = None, *, rotd50: bool = True,
            n_angles: int = 60) -> dict[str, np.ndarray]:
    """Scalar intensity measures of three-component records ``acc`` shaped (..., 3, n).

    Horizontal measures combine H1 and H2: PSA as RotD50 (``rotd50=True``, as in
    NGA-West2 and the GMPEs) or geometric mean; PGA and PGV as RotD50 of the peak
    is approximated by the geometric mean; Arias intensity as the mean of H1 and H2
    (m/s); durations (s) from the summed horizontal Husid curves.

    Returns a dict of arrays shaped ``acc.shape[:-2]`` (``psa``: plus n_periods), in g,
    cm/s, m/s and s.
    """
    acc = np.asarray(acc, dtype=float)
    h1, h2 = acc[..., 0, :], acc[..., 1, :]
    if rotd50:
        spec = rotd(h1, h2, dt, periods, n_angles=n_angles)
    else:
        spec = np.sqrt(psa(h1, dt, periods) * psa(h2, dt, periods))
    both = acc[..., :2, :]
    ia = arias(both, dt)
    h = husid(both, dt).sum(axis=-2)
    norm = h / np.maximum(h[..., -1:], np.finfo(float).tiny)
    t5, t75, t95 = (np.argmax(norm >= q, axis=-1) for q in (0.05, 0.75, 0.95))
    return {
        "psa": spec,
        "pga": np.sqrt(np.prod(pga(both), axis=-1)),
        "pgv": np.sqrt(np.prod(pgv(both, dt), axis=-1)),
        "arias": ia.mean(axis=-1),
        "d5_75": (t75 - t5) * dt,
        "d5_95": (t95 - t5) * dt,
    }
