"""Accelerogram processing: baseline correction, taper, band-pass, resampling, alignment, windows.

:func:`prepare` chains the steps and turns :class:`~gmlearn.waveform.records.Record`
objects into the fixed-length, common-rate three-component arrays the generators are
trained on (``RATE`` Hz, ``LENGTH`` s, aligned on the 5 % Arias-intensity time).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from gmlearn.waveform.errors import RecordFormatError

__all__ = [
    "RATE",
    "LENGTH",
    "ONSET",
    "baseline_correct",
    "taper",
    "bandpass",
    "resample",
    "align",
    "window",
    "prepare",
]

#: Common sampling rate (Hz) of every training and generated waveform.
RATE = 50.0
#: Window length (s).
LENGTH = 40.0
#: Time (s) in the window at which the horizontal Arias intensity reaches 5 %.
ONSET = 5.0


def baseline_correct(acc: np.ndarray, dt: float, order: int = 1) -> np.ndarray:
    """Subtract a least-squares polynomial of ``order`` in time from every trace (last axis)."""
    acc = np.asarray(acc, dtype=float)
    t = np.arange(acc.shape[-1]) * dt
    basis = np.vander(t / max(t[-1], dt), order + 1)
    coef, *_ = np.linalg.lstsq(basis, acc.reshape(-1, acc.shape[-1]).T, rcond=None)
    return acc - (basis @ coef).T.reshape(acc.shape)


def taper(acc: np.ndarray, fraction: float = 0.05) -> np.ndarray:
    """Cosine (Tukey) taper over ``fraction`` of the trace at each end."""
    from scipy.signal.windows import tukey

    return np.asarray(acc, dtype=float) * tukey(acc.shape[-1], 2 * fraction)


def bandpass(acc: np.ndarray, dt: float, low: float = 0.1, high: float | None = None, order: int = 4) -> np.ndarray:
    """Acausal Butterworth band-pass (``low``–``high`` Hz); ``high`` defaults to 0.8 x Nyquist."""
    from scipy.signal import butter, sosfiltfilt

    nyq = 0.5 / dt
    high = 0.8 * nyq if high is None else high
    if not 0 < low < high < nyq:
        msg = f"bandpass corners must satisfy 0 < low < high < Nyquist ({nyq:g} Hz). Got low={low}, high={high} instead."
        raise ValueError(msg)
    sos = butter(order, [low, high], btype="bandpass", fs=1.0 / dt, output="sos")
    return sosfiltfilt(sos, acc, axis=-1)


def resample(acc: np.ndarray, dt: float, rate: float = RATE) -> np.ndarray:
    """Resample to ``rate`` Hz with a polyphase anti-alias filter (rational factor of the two rates)."""
    from scipy.signal import resample_poly

    ratio = Fraction(rate * dt).limit_denominator(1000)
    if ratio == 1:
        return np.asarray(acc, dtype=float)
    return resample_poly(acc, ratio.numerator, ratio.denominator, axis=-1)


def align(acc: np.ndarray, dt: float, onset: float = ONSET, level: float = 0.05) -> np.ndarray:
    """Shift three-component traces so that the horizontal Husid curve reaches ``level`` at ``onset`` s.

    Traces are padded with zeros in front or cut there; ``acc`` is shaped (..., 3, n).
    """
    from gmlearn.waveform.metrics import husid

    acc = np.asarray(acc, dtype=float)
    h = husid(np.nan_to_num(acc[..., :2, :]), dt).sum(axis=-2)
    h = h / np.maximum(h[..., -1:], np.finfo(float).tiny)
    start = np.argmax(h >= level, axis=-1)
    shift = int(round(onset / dt)) - np.atleast_1d(start)
    out = np.zeros_like(acc)
    flat_in = acc.reshape(-1, *acc.shape[-2:])
    flat_out = out.reshape(-1, *acc.shape[-2:])
    for i, s in enumerate(np.broadcast_to(shift, flat_in.shape[:1])):
        if s >= 0:
            flat_out[i, :, s:] = flat_in[i, :, : acc.shape[-1] - s]
        else:
            flat_out[i, :, : acc.shape[-1] + s] = flat_in[i, :, -s:]
    return out


def window(acc: np.ndarray, dt: float, length: float = LENGTH, end_taper: float = 2.0) -> np.ndarray:
    """Cut or zero-pad to ``length`` s; a cosine taper of ``end_taper`` s closes a cut trace."""
    n = int(round(length / dt))
    acc = np.asarray(acc, dtype=float)
    if acc.shape[-1] >= n:
        out = acc[..., :n].copy()
        m = int(round(end_taper / dt))
        if m > 0:
            out[..., -m:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, m))
        return out
    pad = np.zeros((*acc.shape[:-1], n - acc.shape[-1]))
    return np.concatenate([acc, pad], axis=-1)


def prepare(records: list, *, rate: float = RATE, length: float = LENGTH, low: float = 0.1,
            high: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Process records into aligned fixed-length windows.

    Steps per component: linear baseline correction, 5 % taper, band-pass
    ``low``–``high`` Hz (default 0.9 x the new Nyquist), resampling to ``rate`` Hz,
    then alignment on the 5 % horizontal Arias time and a ``length``-s window.

    Returns
    -------
    acc : numpy.ndarray, shape (n_records, 3, round(length * rate))
        Acceleration in g; a missing component is all zeros.
    present : numpy.ndarray of bool, shape (n_records, 3)
        Which components exist.

    Raises
    ------
    RecordFormatError
        If a record holds non-finite values in a present component or is shorter than 2 s.
    """
    high = 0.45 * rate if high is None else high
    n = int(round(length * rate))
    out = np.zeros((len(records), 3, n))
    present = np.zeros((len(records), 3), dtype=bool)
    for i, rec in enumerate(records):
        mask = rec.has_component
        acc = rec.acc[mask]
        if not np.all(np.isfinite(acc)) or rec.duration < 2.0:
            raise RecordFormatError("present components must be finite and at least 2 s long",
                                    file=str(rec.meta.get("files", rec.record_id)), value=rec.duration)
        acc = taper(baseline_correct(acc, rec.dt))
        acc = resample(bandpass(acc, rec.dt, low, min(high, 0.45 / rec.dt)), rec.dt, rate)
        full = np.zeros((3, acc.shape[-1]))
        full[mask] = acc
        out[i] = window(align(full, 1.0 / rate), 1.0 / rate, length)
        present[i] = mask
    return out, present
