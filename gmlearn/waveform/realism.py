"""Realism layer shared by every generator: arrivals, duration, coda, kappa and a zero baseline.

:func:`restructure` turns the 40-s multi-band log envelope of any generator
(:mod:`gmlearn.waveform.representation`, shape (n, 36, 80)) into a record with the
time structure of a triggered accelerogram, then synthesises it at ``DT`` = 0.01 s:

1. **S phase and coda.** The generator's envelope from 1 s before its 5 % Arias
   time is placed at the S arrival. Its rise (up to the peak of the horizontal
   energy) is kept as generated; after the peak the envelope is stretched in time
   by a factor chosen (six fixed-point updates on the envelope) so that the
   horizontal D5-95 equals a draw from Afshari and Stewart (2016) (median and σ
   from OpenQuake; records of one scenario get normal scores, so a set has the
   model's median duration); where compressing cannot shorten it enough, the S phase
   and coda also decay as ``exp(-λ (t - t_peak))`` after the peak, ``λ`` by bisection.
   A coda bound ``A(t_c) (t_c - t_0)/(t - t_0) exp(-π f (t - t_c) / Qc(f))``,
   ``Qc = 150 f^0.7``, caps every band after its own peak time ``t_c`` (``t_0`` is the
   origin time), so stationary tails decay.
2. **P phase.** From the P arrival (``LEAD`` s into the record) to the S arrival,
   with S-P from distance (:func:`gmlearn.waveform.timing.sp_time`): band amplitudes
   ``ratio x`` the early S amplitude, ``ratio`` = 0.2 on the horizontals and 0.5 on
   the vertical, reduced below 3 Hz as ``(f/3)^0.5``, rising in 0.2 s and decaying
   over the S-P time.
3. **Kappa.** Above 10 Hz the band amplitudes follow ``exp(-π κ f)`` from the
   6.3-9.9 Hz band (a flat acceleration source spectrum times the kappa filter),
   with ``κ = κ0(vs30) + KAPPA_R rrup`` (:func:`gmlearn.waveform.timing.kappa_total`);
   two bands (25-40 and 40-50 Hz) extend the generator's 25-Hz content to Nyquist.
4. **Length.** Each record lasts :func:`gmlearn.waveform.timing.record_length`
   (lead + S-P + 2 D5-95 + 5 s), closed by a 3-s cosine taper; records of one
   batch are zero-padded to the longest.
5. **Synthesis and baseline.** Band-limited Gaussian noise of unit RMS is modulated
   by each band's envelope (linear between 0.25-s nodes) and summed;
   :func:`zero_baseline` then makes velocity and displacement end at zero.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from gmlearn.waveform.representation import BAND_EDGES, FLOOR, FRAME, N_BANDS, N_FRAMES
from gmlearn.waveform.timing import LEAD, duration_as16, kappa_total, record_length, scenario_normal_draws, travel_times

__all__ = ["DT", "NODE", "OUT_EDGES", "P_RATIO", "QC0", "restructure", "synthesise", "zero_baseline",
           "end_velocity_ratio", "pick_onsets", "kappa_from_fas"]

#: Output time step (s).
DT = 0.01
#: Spacing (s) of the output envelope nodes.
NODE = 0.25
#: Output band edges (Hz): the generator's bands to 9.9 Hz and one kappa-shaped band from 9.9 to 50 Hz.
OUT_EDGES = np.concatenate([BAND_EDGES[:11], [50.0]])
#: P-to-S amplitude ratios of the horizontal and vertical components.
P_RATIO = (0.2, 0.2, 0.5)
#: Coda quality factor Qc(f) = QC0 f^QC_ETA.
QC0, QC_ETA = 150.0, 0.7
_START = 4.0  # s: template start, 1 s before the generators' 5 % Arias time
_REF_BAND = 9  # 6.3-9.9 Hz: last band kept as generated
_N_OUT = len(OUT_EDGES) - 1
_CENTRES = np.sqrt(OUT_EDGES[:-1] * OUT_EDGES[1:])
#: Frequency (Hz) above which the kappa filter shapes the spectrum.
F_KAPPA = float(OUT_EDGES[_REF_BAND + 1])


def _band_scale(kappa: np.ndarray) -> np.ndarray:
    """RMS of the 9.9-50 Hz band relative to the 6.3-9.9 Hz band, shape (n,).

    The noise of that band carries the kappa filter ``exp(-π κ (f - F_KAPPA))``
    (:func:`synthesise`), continuing the reference band's flat spectral density, so its
    RMS is ``sqrt(∫ exp(-2π κ (f - F_KAPPA)) df / width_ref)`` times the reference's.
    """
    k = np.maximum(np.asarray(kappa, dtype=float), 1e-6)
    energy = (1.0 - np.exp(-2 * np.pi * k * (OUT_EDGES[-1] - F_KAPPA))) / (2 * np.pi * k)
    return np.sqrt(energy / (OUT_EDGES[_REF_BAND + 1] - OUT_EDGES[_REF_BAND]))


def _kappa_bands(amp: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """(n, 3, 12, F) generator amplitudes -> (n, 3, 11, F): bands to 9.9 Hz and the kappa band to 50 Hz."""
    high = amp[:, :, _REF_BAND:_REF_BAND + 1] * _band_scale(kappa)[:, None, None, None]
    return np.concatenate([amp[:, :, :_REF_BAND + 1], high], axis=2)


def _d595(energy: np.ndarray, node: float = NODE) -> np.ndarray:
    """D5-95 (s) of node energies (n, J) (the horizontal band energies summed)."""
    cum = np.cumsum(energy, axis=-1)
    cum /= np.maximum(cum[:, -1:], 1e-300)
    return (np.argmax(cum >= 0.95, axis=-1) - np.argmax(cum >= 0.05, axis=-1)) * node


#: Coda decay rate (1/s) of each output band, π f / Qc(f).
_CODA_RATE = np.pi * _CENTRES / (QC0 * _CENTRES ** QC_ETA)


def _layout(tmpl: np.ndarray, rise: np.ndarray, t: np.ndarray, ts: np.ndarray, t0: np.ndarray, tp: np.ndarray,
            length: np.ndarray) -> dict[str, Any]:
    """The parts of a chunk's node envelopes that do not depend on the stretch.

    ``tmpl`` (n, 3, B, F) templates, node times ``t`` (J,), per record (n,) the rise,
    S arrival ``ts``, origin ``t0``, P arrival ``tp`` and length (s). The coda bound
    ``A(t_c) (t_c - t_0)/(t - t_0) exp(-π f (t - t_c)/Qc)`` factors into
    ``A(t_c) (t_c - t_0) exp(r t_c)`` times ``decay = exp(-r t)/(t - t_0)`` (n, J, B),
    ``r = π f / Qc``; before ``t_c`` it exceeds the band's peak, so it binds only after.
    """
    frames = np.ascontiguousarray(tmpl.transpose(0, 3, 1, 2))  # (n, F, 3, B)
    decay = np.exp(-_CODA_RATE[None, None, :] * t[None, :, None]) / np.maximum(t[None, :] - t0[:, None], 1e-3)[..., None]
    # P phase: a fraction of the early S amplitude, richer in high frequencies
    early = tmpl[..., : max(1, int(round(2.0 / FRAME)))].max(axis=-1)  # (n, 3, B)
    ratio = np.asarray(P_RATIO)[None, :, None] * np.minimum(1.0, (_CENTRES / 3.0) ** 0.5)[None, None, :]
    p_level = ratio * early[:, :2].mean(axis=1)[:, None, :]
    dp = np.maximum(t[None, :] - tp[:, None], 0.0)
    sp = np.maximum(ts - tp, 1.0)
    p_shape = np.where(t[None, :] >= tp[:, None], (1 - np.exp(-dp / 0.2)) * np.exp(-dp / sp[:, None]), 0.0)
    p2 = (p_shape[:, :, None, None] * p_level[:, None]) ** 2  # (n, J, 3, B)
    end = np.clip((length[:, None] - t[None, :]) / 3.0, 0.0, 1.0)
    k_pk = np.argmax(tmpl, axis=-1)
    return {"frames": frames, "frames_h": np.ascontiguousarray(frames[:, :, :2]), "t": t, "ts": ts, "t0": t0,
            "rise": rise, "peak": np.take_along_axis(tmpl, k_pk[..., None], -1)[..., 0],
            "tau_pk": (k_pk + 0.5) * FRAME, "last": tmpl[..., -1], "decay": decay, "p2": p2,
            "p2_h": p2[:, :, :2].sum(axis=(2, 3)), "taper": 0.5 - 0.5 * np.cos(np.pi * end)}


def _s_phase(lay: dict[str, Any], stretch: np.ndarray, horizontal: bool = False,
             decay: np.ndarray | None = None) -> np.ndarray:
    """S-phase and coda node amplitudes (n, J, C, B) for ``stretch`` (n,); C = 2 with ``horizontal``.

    ``decay`` (n,) (1/s, default none) multiplies them by ``exp(-decay (t - t_peak))``
    after the peak of the horizontal energy.
    """
    frames = lay["frames_h"] if horizontal else lay["frames"]
    comps = slice(0, frames.shape[2])
    n, n_f = frames.shape[:2]
    t, ts, t0, rise = lay["t"], lay["ts"], lay["t0"], lay["rise"]
    delta = t[None, :] - ts[:, None]  # time after the S arrival
    squeeze = np.minimum(stretch, 1.0)  # the rise is compressed, never lengthened
    rise_out = rise * squeeze
    tau = (np.minimum(delta, rise_out[:, None]) / squeeze[:, None]
           + np.maximum(delta - rise_out[:, None], 0.0) / stretch[:, None])
    pos = np.clip(tau / FRAME, 0.0, n_f - 1.0)
    i0 = pos.astype(np.intp)
    w = (pos - i0)[..., None, None]
    rows = np.arange(n)[:, None]
    s_amp = frames[rows, i0] * (1 - w) + frames[rows, np.minimum(i0 + 1, n_f - 1)] * w
    s_amp *= (delta >= 0)[..., None, None]
    # coda bound of every band from its own peak
    tau_pk = lay["tau_pk"][:, comps]
    r1, sq, st, ro = (x[:, None, None] for x in (rise, squeeze, stretch, rise_out))
    t_pk = ts[:, None, None] + np.where(tau_pk <= r1, tau_pk * sq, ro + (tau_pk - r1) * st)
    level = lay["peak"][:, comps] * (t_pk - t0[:, None, None]) * np.exp(_CODA_RATE * t_pk)
    np.minimum(s_amp, level[:, None] * lay["decay"][:, :, None, :], out=s_amp)
    # beyond the end of the template: coda decay from its last frame
    t_end = ts + rise_out + (n_f * FRAME - rise) * stretch
    beyond = t[None, :] > t_end[:, None]
    if beyond.any():
        last = lay["last"][:, comps] * ((t_end - t0)[:, None, None] * np.exp(_CODA_RATE * t_end[:, None, None]))
        s_amp = np.where(beyond[..., None, None], last[:, None] * lay["decay"][:, :, None, :], s_amp)
    if decay is not None:
        after = np.maximum(delta - rise_out[:, None], 0.0)  # time after the horizontal energy peak
        s_amp = s_amp * np.exp(-decay[:, None] * after)[..., None, None]
    return s_amp


def _horizontal_energy(lay: dict[str, Any], stretch: np.ndarray, decay: np.ndarray | None = None) -> np.ndarray:
    """Horizontal node energy (n, J) summed over bands: what D5-95 is measured on."""
    s_amp = _s_phase(lay, stretch, horizontal=True, decay=decay)
    return ((s_amp * s_amp).sum(axis=(2, 3)) + lay["p2_h"]) * lay["taper"] ** 2


def _envelope(lay: dict[str, Any], stretch: np.ndarray, decay: np.ndarray | None = None) -> np.ndarray:
    """Node envelopes (n, 3, B, J): S phase and coda, P phase and the closing taper."""
    s_amp = _s_phase(lay, stretch, decay=decay)
    amp = np.sqrt(s_amp * s_amp + lay["p2"]) * lay["taper"][:, :, None, None]
    return amp.transpose(0, 2, 3, 1)


def _chunk_records(tmpl: np.ndarray, rise: np.ndarray, target_d: np.ndarray, ts: np.ndarray, t0: np.ndarray,
                   tp: np.ndarray, length: np.ndarray, kappa: np.ndarray, dt: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stretches (m,), post-peak decays (m,) and zero-baseline records (m, 3, n_t) of one chunk of ``m`` records.

    The stretch takes six fixed-point updates ``stretch x target / D5-95`` on the node
    envelopes; then :func:`_fit_decay`.
    """
    t = np.arange(0.0, float(length.max()) + NODE, NODE)
    lay = _layout(tmpl, rise, t, ts, t0, tp, length)
    stretch = np.ones(len(rise))
    for _ in range(6):
        d = _d595(_horizontal_energy(lay, stretch))
        stretch = np.clip(stretch * target_d / np.maximum(d, NODE), 0.25, 8.0)
    decay = _fit_decay(lay, stretch, target_d)
    n_len = np.round(length / dt).astype(int)
    noise = synthesise(_envelope(lay, stretch, decay), dt, int(n_len.max()), rng, kappa=kappa)
    return stretch, decay, zero_baseline(noise, dt, n_len)


def restructure(env: np.ndarray, mag: np.ndarray, rrup: np.ndarray, vs30: np.ndarray, rake: np.ndarray, *,
                kappa0: Any = None, depth: Any = None, random_state: int | np.random.Generator | None = None,
                dt: float = DT, chunk: int = 16, workers: int | None = None, gain: np.ndarray | None = None,
                fit_duration: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Accelerograms (g) with arrivals, AS16 duration, coda and kappa from generator envelopes.

    Parameters
    ----------
    env
        Log band envelopes, shape (n, 36, 80) (:func:`gmlearn.waveform.representation.encode`).
    mag, rrup, vs30, rake
        Conditions per record, shape (n,) (rrup in km, vs30 in m/s, rake in degrees).
    kappa0
        Site kappa (s), scalar or (n,); default from vs30 (Van Houtte et al. 2011).
    depth
        Hypocentral depth (km); default :data:`gmlearn.waveform.timing.DEPTH`.
    random_state
        Seed or generator of the duration draws and the noise.
    dt
        Output time step (s); at most 0.01 s so that the 40-50 Hz band exists.
    chunk
        Records synthesised together (in order of length, each chunk padded to its longest).
    gain
        ln amplitude factors of the output bands (:data:`OUT_EDGES`), shape (n, 11),
        applied to all three components before the duration fit (spectral matching
        uses them, :func:`gmlearn.waveform.target.band_correction`); default none.
    fit_duration
        D5-95 (s, (n,)) the envelopes are fitted to instead of the drawn ``d5_95_target``
        (the draws, the record lengths and the noise stay those of ``random_state``);
        spectral matching uses it to compensate the lengthening its filtering causes.
    workers
        Threads over which the chunks are shared (default one). Every chunk has its own
        noise stream (spawned from ``random_state``), so the records do not depend on it.

    Returns
    -------
    acc : numpy.ndarray, shape (n, 3, n_t)
        Acceleration (g), zero-padded after each record's length.
    info : dict
        Per record (n,): ``length_s``, ``t_p``, ``t_s`` (arrival times in the record, s),
        ``sp_time``, ``d5_95_target`` (s), ``kappa`` (s), ``stretch``, ``decay`` (1/s).
    """
    from gmlearn.waveform.timing import DEPTH

    rng = np.random.default_rng(random_state)
    env = np.asarray(env, dtype=float).reshape(-1, 3, N_BANDS, N_FRAMES)
    n = env.shape[0]
    depth = DEPTH if depth is None else depth
    t_p_origin, t_s_origin = (np.broadcast_to(x, (n,)) for x in travel_times(rrup, depth))
    sp = t_s_origin - t_p_origin
    ln_d, sig_d = duration_as16(mag, rrup, vs30, rake)
    keys = np.column_stack([np.broadcast_to(np.asarray(x, dtype=float), (n,)) for x in (mag, rrup, vs30, rake)])
    target_d = np.exp(ln_d + sig_d * scenario_normal_draws(keys, rng))
    fit_d = target_d if fit_duration is None else np.broadcast_to(np.asarray(fit_duration, dtype=float), (n,))
    kappa = np.broadcast_to(kappa_total(vs30, rrup, kappa0), (n,)).copy()
    length = record_length(sp, np.maximum(target_d, fit_d))
    tp = np.full(n, LEAD)
    ts = tp + sp
    t0 = tp - t_p_origin
    amp = _kappa_bands(np.maximum(np.exp(env) - FLOOR, 0.0), kappa)
    if gain is not None:
        amp = amp * np.exp(np.broadcast_to(np.asarray(gain, dtype=float), (n, _N_OUT)))[:, None, :, None]
    tmpl = amp[..., int(round(_START / FRAME)):]
    energy = (tmpl[:, :2] ** 2).sum(axis=(1, 2))
    padded = np.pad(energy, ((0, 0), (1, 1)))
    smooth = (padded[:, :-2] + padded[:, 1:-1] + padded[:, 2:]) / 3  # 3-frame running mean
    rise = np.argmax(smooth, axis=-1) * FRAME
    stretch = np.ones(n)
    decay = np.zeros(n)
    n_len = np.round(length / dt).astype(int)
    acc = np.zeros((n, 3, int(n_len.max())))
    order = np.argsort(n_len, kind="stable")
    parts = [order[start:start + chunk] for start in range(0, n, chunk)]
    streams = rng.spawn(len(parts))  # one noise stream per chunk: the same records on any number of threads

    def run(k: int) -> None:
        rows = parts[k]
        stretch[rows], decay[rows], rec = _chunk_records(tmpl[rows], rise[rows], fit_d[rows], ts[rows], t0[rows],
                                                         tp[rows], length[rows], kappa[rows], dt, streams[k])
        acc[rows, :, :rec.shape[-1]] = rec

    threads = 1 if workers is None else max(1, min(int(workers), len(parts)))
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, range(len(parts))))
    else:
        for k in range(len(parts)):
            run(k)
    info = {"length_s": length, "t_p": tp, "t_s": ts, "sp_time": sp, "d5_95_target": target_d, "kappa": kappa,
            "stretch": stretch, "decay": decay}
    return acc, info


def _fit_decay(lay: dict[str, Any], stretch: np.ndarray, target_d: np.ndarray, tol: float = 0.03,
               steps: int = 10) -> np.ndarray:
    """Post-peak decay rates (1/s) that bring the envelope D5-95 down to ``target_d`` where stretching could not.

    A template whose late energy sits in slowly decaying low-frequency coda (for example
    after its long-period bands were raised towards a target spectrum) keeps a D5-95
    above the target however much it is compressed. For those records (D5-95 more than
    ``tol`` above the target, in ln) the decay is found by bisection on [0, 2] 1/s;
    every other record gets 0.
    """
    decay = np.zeros(len(target_d))
    d = _d595(_horizontal_energy(lay, stretch))
    if not np.any(np.log(np.maximum(d, NODE) / target_d) > tol):
        return decay
    lo, hi = np.zeros(len(target_d)), np.full(len(target_d), 2.0)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        too_long = _d595(_horizontal_energy(lay, stretch, mid)) > target_d
        lo, hi = np.where(too_long, mid, lo), np.where(too_long, hi, mid)
    need = np.log(np.maximum(d, NODE) / target_d) > tol
    decay[need] = 0.5 * (lo + hi)[need]
    return decay


#: Bands synthesised together at a coarser step: (first band, last band + 1, decimation).
_GROUPS = ((0, 7, 10), (7, 10, 4), (10, 11, 1))


def _node_weights(n_g: int, dt_g: float, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Left node index and linear weight (float32) of ``n_g`` samples at step ``dt_g`` among ``j`` nodes."""
    pos = np.clip(np.arange(n_g) * dt_g / NODE, 0, j - 1)
    i0 = np.floor(pos).astype(np.intp)
    return i0, (pos - i0).astype(np.float32)


def _band_noise(rng: np.random.Generator, shape: tuple[int, ...], f: np.ndarray, band: int, n_g: int,
                kappa: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Unit-RMS spectrum (complex64) of one band's Gaussian noise on its own bins, and its first bin.

    The bins run from the band's lower edge to its upper edge (the top band to Nyquist,
    exclusive); the 9.9-50 Hz band carries ``exp(-π κ (f - F_KAPPA))``. The RMS of the
    ``n_g``-sample signal follows from Parseval (no zero-frequency or Nyquist bin).
    """
    top = band == len(OUT_EDGES) - 2
    k0 = int(np.searchsorted(f, OUT_EDGES[band], side="left"))
    nyq = (n_g + 1) // 2  # bins below Nyquist
    k1 = nyq if top else min(int(np.searchsorted(f, OUT_EDGES[band + 1], side="left")), nyq)
    k1 = max(k0, k1)
    z = rng.standard_normal((*shape, 2 * (k1 - k0)), dtype=np.float32).view(np.complex64)
    if band == _REF_BAND + 1 and kappa is not None:
        z *= np.exp(-np.pi * np.asarray(kappa, dtype=float)[:, None] * np.maximum(f[k0:k1] - F_KAPPA, 0.0)[None, :]
                    ).astype(np.float32)[:, None, :]
    power = 2.0 * (z.real ** 2 + z.imag ** 2).sum(axis=-1, keepdims=True) / float(n_g) ** 2
    z /= np.maximum(np.sqrt(power), 1e-30).astype(np.float32)
    return z, k0


def synthesise(nodes: np.ndarray, dt: float, n_t: int, random_state: int | np.random.Generator | None = None, *,
               kappa: np.ndarray | None = None, workers: int | None = None) -> np.ndarray:
    """Sum over bands of unit-RMS band-limited Gaussian noise x envelope: (n, 3, 11, J) nodes -> (n, 3, n_t) g.

    Bands below 2.5 Hz are synthesised at 10 x ``dt``, those from 2.5 to 9.9 Hz at 4 x ``dt``,
    then moved to the full step through their spectra; the 9.9-50 Hz band carries
    ``exp(-π κ (f - F_KAPPA))`` (``kappa`` (n,)). Each band's noise is drawn on its own
    frequency bins and transformed in single precision; ``workers`` is passed to
    :mod:`scipy.fft`.
    """
    from scipy import fft

    rng = np.random.default_rng(random_state)
    nodes = np.asarray(nodes)
    n, n_c, _, j = nodes.shape
    n_full = int(np.ceil(n_t / 20.0)) * 20
    low = np.zeros((n, n_c, n_full // 2 + 1), dtype=np.complex64)
    high = np.zeros((n, n_c, n_full), dtype=np.float32)
    for lo, hi, q in _GROUPS:
        n_g, dt_g = n_full // q, dt * q
        f = np.fft.rfftfreq(n_g, dt_g)
        i0, w = _node_weights(n_g, dt_g, j)
        i1 = np.minimum(i0 + 1, j - 1)
        x = high if q == 1 else np.zeros((n, n_c, n_g), dtype=np.float32)
        for band in range(lo, hi):
            z, k0 = _band_noise(rng, (n, n_c), f, band, n_g, kappa)
            spec = np.zeros((n, n_c, f.size), dtype=np.complex64)
            spec[..., k0:k0 + z.shape[-1]] = z
            noise = fft.irfft(spec, n_g, axis=-1, workers=workers)
            e = nodes[:, :, band].astype(np.float32)
            env = e[..., i0]
            env += (e[..., i1] - env) * w
            env *= noise
            x += env
        if q > 1:
            low[..., : n_g // 2] += q * fft.rfft(x, axis=-1, workers=workers)[..., : n_g // 2]
    sign = np.where(np.arange(n_full) % 2 == 0, 1.0, -1.0).astype(np.float32)
    high -= sign * ((high * sign).sum(axis=-1, keepdims=True) / n_full)  # no Nyquist term, as in the low groups
    out = fft.irfft(low, n_full, axis=-1, workers=workers)
    out += high
    return out[..., :n_t].astype(float)


def _integrals(acc: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoidal velocity and displacement (same leading shape), starting at rest."""
    vel = np.concatenate([np.zeros(acc.shape[:-1] + (1,)), np.cumsum(0.5 * (acc[..., 1:] + acc[..., :-1]), -1)], -1) * dt
    dis = np.concatenate([np.zeros(vel.shape[:-1] + (1,)), np.cumsum(0.5 * (vel[..., 1:] + vel[..., :-1]), -1)], -1) * dt
    return vel, dis


def _integral_adjoint(y: np.ndarray, dt: float) -> np.ndarray:
    """Adjoint of the trapezoidal integral from rest along the last axis: ``y · I(a) = I*(y) · a``."""
    tail = np.cumsum(y[..., ::-1], axis=-1)[..., ::-1]  # sum of y from each sample on
    out = dt * (tail - 0.5 * y)
    out[..., 0] = 0.5 * dt * tail[..., 1] if y.shape[-1] > 1 else 0.0
    return out


def _end_state(a: np.ndarray, lens: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoidal end velocity and end displacement of records ``a`` (n, C, n_t) zero after ``lens`` (n,)."""
    last = np.take_along_axis(a, (lens - 1)[:, None, None], -1)[..., 0]
    s0 = a.sum(axis=-1)
    s1 = a @ np.arange(a.shape[-1], dtype=float)
    length = lens[:, None].astype(float)
    vel = dt * (s0 - 0.5 * (a[..., 0] + last))
    dis = dt * dt * ((length - 1) * s0 - s1 - 0.5 * (length - 0.5) * a[..., 0] + 0.25 * last)
    return vel, dis


@functools.lru_cache(maxsize=64)
def _fit_weights(length: int, dt: float, order: int) -> np.ndarray:
    """Weights (P, length) giving the least-squares coefficients of ``x**(2..order)`` fitted to the displacement.

    ``coef = pinv(basis) @ dis`` with ``dis = I(I(a))`` (trapezoidal integrals), so
    ``coef = I*(I*(pinv(basis))) @ a``.
    """
    basis = np.linspace(0.0, 1.0, length)[:, None] ** np.arange(2, order + 1)[None, :]
    weights = _integral_adjoint(_integral_adjoint(np.linalg.pinv(basis), dt), dt)
    weights.flags.writeable = False
    return weights


def _fit_coefficients(a: np.ndarray, lens: np.ndarray, dt: float, order: int) -> np.ndarray:
    """Least-squares coefficients (n, C, order - 1) of the displacement polynomial of every record."""
    coef = np.zeros((*a.shape[:2], order - 1))
    for length in np.unique(lens):
        rows = np.flatnonzero(lens == length)
        pick = slice(rows[0], rows[-1] + 1) if rows[-1] - rows[0] + 1 == rows.size else rows
        coef[pick] = a[pick, :, :length] @ _fit_weights(int(length), float(dt), order).T
    return coef


def _polynomial_acceleration(coef: np.ndarray, span: np.ndarray, k: np.ndarray, dt: float) -> np.ndarray:
    """Second time derivative (n, C, n_t) of ``sum_p coef_p x**p``, ``x = k / span``, p = 2, 3, ... (Horner in k)."""
    powers = np.arange(2, coef.shape[-1] + 2)
    d = coef * (powers * (powers - 1)) / (span[..., None] ** powers * dt ** 2)  # coefficients of k**(p - 2)
    out = np.repeat(d[..., -1:], k.size, axis=-1)
    for j in range(d.shape[-1] - 2, -1, -1):
        out *= k
        out += d[..., j:j + 1]
    return out


def zero_baseline(acc: np.ndarray, dt: float, n_len: np.ndarray | None = None, order: int = 3) -> np.ndarray:
    """Baseline correction so that velocity and displacement (trapezoidal rule) end at zero.

    For each record (its first ``n_len`` samples; default all): the mean is removed, a
    polynomial of degrees 2..``order`` fitted to the displacement is removed through its
    second derivative (so the record still starts at rest), the first and last samples
    are set to zero, then two half-sine
    corrections ``sin(π t / T)`` and ``sin(2π t / T)`` make the end velocity and the end
    displacement exactly zero. Samples beyond ``n_len`` stay zero. Records of different
    lengths are corrected together: the fit coefficients and end states are weighted sums.
    """
    acc = np.array(acc, dtype=float)
    shape, n_t = acc.shape, acc.shape[-1]
    lens = np.full(shape[0], n_t) if n_len is None else np.asarray(n_len, dtype=int)
    a = acc.reshape(shape[0], -1, n_t)
    k = np.arange(n_t, dtype=float)
    inside = k[None, :] < lens[:, None]
    a *= inside[:, None, :]
    a -= a.sum(axis=-1, keepdims=True) / lens[:, None, None]
    span = np.maximum(lens - 1, 1)[:, None].astype(float)
    if order >= 2:
        a -= _polynomial_acceleration(_fit_coefficients(a, lens, dt, order), span, k, dt)
    a *= inside[:, None, :]
    rows = np.arange(shape[0])
    a[..., 0] = 0.0  # so trailing zero padding adds nothing to the integrals
    a[rows, :, lens - 1] = 0.0
    angle = (np.pi * np.minimum(k[None, :] / span, 1.0)).astype(np.float32)
    psi = (np.stack([np.sin(angle), np.sin(2 * angle)], axis=1) * inside[:, None, :]).astype(float)  # (n, 2, n_t)
    psi[..., 0] = 0.0
    psi[rows, :, lens - 1] = 0.0  # exactly, so the record still ends at zero
    v_psi, d_psi = _end_state(psi, lens, dt)
    v, d_end = _end_state(a, lens, dt)
    mat = np.stack([v_psi, d_psi], axis=1)  # (n, 2, 2): rows end velocity and displacement, columns the sines
    c = np.linalg.solve(mat[:, None], np.stack([v, d_end], axis=-1)[..., None])[..., 0]  # (n, C, 2)
    a -= c @ psi
    return acc


def end_velocity_ratio(acc: np.ndarray, dt: float) -> np.ndarray:
    """|velocity at the end| / PGV of each trace (trapezoidal integration from rest), shape acc.shape[:-1]."""
    vel, _ = _integrals(np.asarray(acc, dtype=float), dt)
    return np.abs(vel[..., -1]) / np.maximum(np.abs(vel).max(axis=-1), 1e-30)


def _aic_pick(x: np.ndarray, lo: int, hi: int) -> int:
    """Akaike-information-criterion onset (Maeda 1985) of trace ``x`` within samples [lo, hi)."""
    seg = x[lo:hi]
    m = seg.size
    if m < 10:
        return lo
    c1 = np.cumsum(seg ** 2)
    k = np.arange(5, m - 5)
    floor = 1e-8 * c1[-1] / m
    var1 = c1[k - 1] / k
    var2 = (c1[-1] - c1[k - 1]) / (m - k)
    aic = k * np.log(var1 + floor) + (m - k - 1) * np.log(var2 + floor)
    return lo + int(k[np.argmin(aic)])


def pick_onsets(acc: np.ndarray, dt: float) -> tuple[float, float]:
    """P and S onsets (s) of one three-component record (3, n_t) by AIC pickers.

    P: AIC on the vertical before the first time the vertical reaches 30 % of its
    peak absolute value. S: AIC on the horizontal energy between 0.5 s after the P pick
    and the time the horizontals reach 50 % of their peak.
    """
    acc = np.asarray(acc, dtype=float)
    v = acc[2]
    h = np.sqrt(acc[0] ** 2 + acc[1] ** 2)
    first_v = int(np.argmax(np.abs(v) >= 0.3 * np.abs(v).max()))
    p = _aic_pick(v, 0, max(first_v + 1, 20))
    start = p + int(round(0.5 / dt))
    peak_h = start + int(np.argmax(h[start:] >= 0.5 * h[start:].max()))
    s = _aic_pick(h, start, max(peak_h + 1, start + 20))
    return p * dt, s * dt


def kappa_from_fas(acc: np.ndarray, dt: float, f1: float = 12.0, f2: float = 40.0) -> np.ndarray:
    """Kappa (s) from the slope of ln FAS between ``f1`` and ``f2`` Hz (Anderson and Hough 1984), per trace."""
    spec = np.abs(np.fft.rfft(np.asarray(acc, dtype=float), axis=-1))
    f = np.fft.rfftfreq(acc.shape[-1], dt)
    sel = (f >= f1) & (f <= f2)
    y = np.log(np.maximum(spec[..., sel], 1e-300))
    x = f[sel] - f[sel].mean()
    slope = ((y - y.mean(axis=-1, keepdims=True)) * x).sum(axis=-1) / (x ** 2).sum()
    return -slope / np.pi
