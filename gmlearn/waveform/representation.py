"""Multi-band log-envelope representation of three-component accelerograms.

A 40-s, 50-Hz record (3 x 2000 samples) is split by an FFT filter bank into
``N_BANDS`` contiguous frequency bands (0.1-25 Hz, log-spaced; the masks sum to one,
so the bands add back to the band-limited record). Each band's RMS amplitude over
``FRAME``-s frames is stored as a natural log: an array of shape
(3 x N_BANDS, N_FRAMES) = (36, 80), the time-frequency envelope (an evolutionary
spectrum) that fixes the response spectrum, Arias intensity, durations and the
arrival structure of the record.

The generators learn this envelope. :func:`decode` turns it back into acceleration
by modulating band-limited Gaussian noise of unit RMS with the envelope in every
band, so the fine phase structure of a generated record is random (as in the
stochastic method) while its non-stationary spectral content is learned.
"""

from __future__ import annotations

import numpy as np

from gmlearn.waveform.processing import LENGTH, RATE

__all__ = ["N_BANDS", "FRAME", "N_FRAMES", "BAND_EDGES", "FLOOR", "encode", "decode"]

N_BANDS = 12
FRAME = 0.5
N_FRAMES = int(round(LENGTH / FRAME))
#: Band edges (Hz).
BAND_EDGES = np.geomspace(0.1, 25.0, N_BANDS + 1)
#: Amplitude floor (g) added before the log.
FLOOR = 1e-6
_N = int(round(LENGTH * RATE))
_PER_FRAME = int(round(FRAME * RATE))


def _masks(n: int = _N, dt: float = 1.0 / RATE) -> np.ndarray:
    f = np.fft.rfftfreq(n, dt)
    idx = np.clip(np.searchsorted(BAND_EDGES, f, side="right") - 1, 0, N_BANDS - 1)
    masks = np.zeros((N_BANDS, f.size))
    masks[idx, np.arange(f.size)] = 1.0
    masks[:, f < BAND_EDGES[0]] = 0.0
    return masks


_MASKS = _masks()


def _bands(acc: np.ndarray) -> np.ndarray:
    """Band-split (..., n) -> (..., N_BANDS, n)."""
    spec = np.fft.rfft(acc, axis=-1)
    return np.fft.irfft(spec[..., None, :] * _MASKS, _N, axis=-1)


def encode(acc: np.ndarray) -> np.ndarray:
    """Log band envelopes of acceleration (g) shaped (n, 3, 2000) -> (n, 3 * N_BANDS, N_FRAMES)."""
    acc = np.asarray(acc, dtype=float)
    if acc.shape[-2:] != (3, _N):
        msg = f"encode expects acceleration shaped (n, 3, {_N}) ({LENGTH:g} s at {RATE:g} Hz). Got {acc.shape} instead."
        raise ValueError(msg)
    b = _bands(acc)  # (n, 3, B, N)
    ms = (b ** 2).reshape(*b.shape[:-1], N_FRAMES, _PER_FRAME).mean(axis=-1)
    env = np.log(np.sqrt(ms) + FLOOR)
    return env.reshape(acc.shape[0], 3 * N_BANDS, N_FRAMES)


def _interpolation_matrix() -> np.ndarray:
    """(N_FRAMES, n_samples) weights of linear interpolation from frame centres to samples."""
    centres = (np.arange(N_FRAMES) + 0.5) * FRAME
    pos = np.clip((np.arange(_N) / RATE - centres[0]) / FRAME, 0, N_FRAMES - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, N_FRAMES - 1)
    w = pos - i0
    mat = np.zeros((N_FRAMES, _N), dtype=np.float32)
    np.add.at(mat, (i0, np.arange(_N)), 1 - w)
    np.add.at(mat, (i1, np.arange(_N)), w)
    return mat


_INTERP = _interpolation_matrix()


def decode(env: np.ndarray, random_state: int | np.random.Generator | None = None, *, chunk: int = 64) -> np.ndarray:
    """Acceleration (g), shape (n, 3, 2000), from log band envelopes shaped (n, 3 * N_BANDS, N_FRAMES).

    Each band carries Gaussian noise filtered to the band (random complex
    coefficients on the band's frequencies, scaled to unit RMS) multiplied by the
    band's RMS envelope, interpolated linearly from frame centres to samples.
    Computed in float32, ``chunk`` records at a time.
    """
    from scipy import fft

    rng = np.random.default_rng(random_state)
    env = np.asarray(env, dtype=np.float32).reshape(-1, 3 * N_BANDS, N_FRAMES)
    out = np.empty((env.shape[0], 3, _N), dtype=np.float32)
    masks = _MASKS.astype(bool)
    counts = np.maximum(masks.sum(axis=1), 1)
    band_of_bin = np.where(masks.any(axis=0), masks.argmax(axis=0), -1)
    for start in range(0, env.shape[0], chunk):
        e = env[start:start + chunk]
        n = e.shape[0]
        amp = np.maximum(np.exp(e) - FLOOR, 0.0) @ _INTERP  # (n, 36, N)
        spec = (rng.standard_normal((n, 3, N_BANDS, _MASKS.shape[1]), dtype=np.float32)
                + 1j * rng.standard_normal((n, 3, N_BANDS, _MASKS.shape[1]), dtype=np.float32)).astype(np.complex64)
        keep = band_of_bin[None, :] == np.arange(N_BANDS)[:, None]
        spec *= keep
        # unit mean square in time: Parseval for a real signal from its half spectrum
        scale = np.sqrt(2.0 * counts * 2.0) / _N
        spec /= scale[:, None].astype(np.float32)
        noise = fft.irfft(spec, _N, axis=-1).reshape(n, 3 * N_BANDS, _N)
        out[start:start + n] = (noise * amp).reshape(n, 3, N_BANDS, _N).sum(axis=2)
    return out.astype(float)
