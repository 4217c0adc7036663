"""Realism layer shared by every generator: arrivals, duration, coda, kappa and a zero baseline.

:func:`restructure` turns the 40-s multi-band log envelope of any generator
(:mod:`gmlearn.waveform.representation`, shape (n, 36, 80)) into a record with the
time structure of a triggered accelerogram, then synthesises it at ``DT`` = 0.01 s:

1. **S phase and coda.** The generator's envelope from 1 s before its 5 % Arias
   time is placed at the S arrival. Its rise (up to the peak of the horizontal
   energy) is kept as generated; after the peak the envelope is stretched in time
   by a factor chosen (three fixed-point updates on the envelope) so that the
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


def _gather(tmpl: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``tmpl`` (n, 3, B, F) at fractional frame positions ``pos`` (n, J)."""
    f = tmpl.shape[-1]
    pos = np.clip(pos, 0.0, f - 1.0)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, f - 1)
    w = (pos - i0)[:, None, None, :]
    idx0 = np.broadcast_to(i0[:, None, None, :], (*tmpl.shape[:3], pos.shape[-1]))
    idx1 = np.broadcast_to(i1[:, None, None, :], idx0.shape)
    return np.take_along_axis(tmpl, idx0, -1) * (1 - w) + np.take_along_axis(tmpl, idx1, -1) * w


def _d595(amp: np.ndarray, node: float = NODE) -> np.ndarray:
    """Horizontal D5-95 (s) of node envelopes (n, 3, B, J)."""
    e = (amp[:, :2] ** 2).sum(axis=(1, 2))
    cum = np.cumsum(e, axis=-1)
    cum /= np.maximum(cum[:, -1:], 1e-300)
    return (np.argmax(cum >= 0.95, axis=-1) - np.argmax(cum >= 0.05, axis=-1)) * node


def _coda(level: np.ndarray, tc: np.ndarray, t: np.ndarray, t0: np.ndarray) -> np.ndarray:
    """Coda decay from ``level`` at time ``tc`` (both (n, 3, B, 1) or broadcastable, ``t0`` (n,)):

    ``level (tc - t0)/(t - t0) exp(-π f (t - tc) / Qc(f))`` after ``tc``, ``level`` before.
    """
    tt = t[None, None, None, :]
    origin = t0[:, None, None, None]
    geo = np.minimum((tc - origin) / np.maximum(tt - origin, 1e-3), 1.0)
    qc = QC0 * _CENTRES ** QC_ETA
    decay = np.exp(-np.pi * (_CENTRES / qc)[None, None, :, None] * np.maximum(tt - tc, 0.0))
    return level * geo * decay


def _envelope(tmpl: np.ndarray, rise: np.ndarray, stretch: np.ndarray, t: np.ndarray, ts: np.ndarray,
              t0: np.ndarray, tp: np.ndarray, length: np.ndarray, decay: np.ndarray | None = None) -> np.ndarray:
    """Node envelopes (n, 3, B, J) for template ``tmpl`` (n, 3, B, F) on node times ``t`` (J,).

    ``decay`` (n,) (1/s, default 0) multiplies the S phase and coda after the peak of
    the horizontal energy by ``exp(-decay (t - t_peak))``.
    """
    delta = t[None, :] - ts[:, None]  # time after the S arrival
    squeeze = np.minimum(stretch, 1.0)[:, None]  # the rise is compressed, never lengthened
    rise_out = rise[:, None] * squeeze
    tau = np.minimum(delta, rise_out) / squeeze + np.maximum(delta - rise_out, 0.0) / stretch[:, None]
    s_amp = _gather(tmpl, tau / FRAME) * (delta >= 0)[:, None, None, :]
    # coda bound of every band from its own peak
    k_pk = np.argmax(tmpl, axis=-1)[..., None]  # (n, 3, B, 1)
    tau_pk = (k_pk + 0.5) * FRAME
    sq, st, rs, ro = (x[:, None, None, None] for x in (np.minimum(stretch, 1.0), stretch, rise, rise_out[:, 0]))
    t_pk = ts[:, None, None, None] + np.where(tau_pk <= rs, tau_pk * sq, ro + (tau_pk - rs) * st)
    s_amp = np.minimum(s_amp, _coda(np.take_along_axis(tmpl, k_pk, -1), t_pk, t, t0))
    # beyond the end of the template: coda decay from its last frame
    t_end = (ts + rise_out[:, 0] + (tmpl.shape[-1] * FRAME - rise) * stretch)[:, None, None, None]
    beyond = t[None, None, None, :] > t_end
    s_amp = np.where(beyond, _coda(tmpl[..., -1:], t_end, t, t0), s_amp)
    if decay is not None:
        after = np.maximum(delta - rise_out, 0.0)  # time after the horizontal energy peak
        s_amp = s_amp * np.exp(-np.asarray(decay, dtype=float)[:, None] * after)[:, None, None, :]
    # P phase: a fraction of the early S amplitude, richer in high frequencies
    early = tmpl[..., : max(1, int(round(2.0 / FRAME)))].max(axis=-1).copy()  # (n, 3, B)
    h_early = early[:, :2].mean(axis=1)
    ratio = np.asarray(P_RATIO)[None, :, None] * np.minimum(1.0, (_CENTRES / 3.0) ** 0.5)[None, None, :]
    p_level = ratio[..., None] * h_early[:, None, :, None]
    dp = t[None, :] - tp[:, None]
    sp = np.maximum(ts - tp, 1.0)
    p_shape = np.where(dp >= 0, (1 - np.exp(-np.maximum(dp, 0) / 0.2)) * np.exp(-np.maximum(dp, 0) / sp[:, None]), 0.0)
    amp = np.sqrt(s_amp ** 2 + (p_level * p_shape[:, None, None, :]) ** 2)
    end = np.clip((length[:, None] - t[None, :]) / 3.0, 0.0, 1.0)
    return amp * (0.5 - 0.5 * np.cos(np.pi * end))[:, None, None, :]


def restructure(env: np.ndarray, mag: np.ndarray, rrup: np.ndarray, vs30: np.ndarray, rake: np.ndarray, *,
                kappa0: Any = None, depth: Any = None, random_state: int | np.random.Generator | None = None,
                dt: float = DT, chunk: int = 32, gain: np.ndarray | None = None,
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
    smooth = np.apply_along_axis(lambda x: np.convolve(x, np.ones(3) / 3, mode="same"), -1, energy)
    rise = np.argmax(smooth, axis=-1) * FRAME
    stretch = np.ones(n)
    decay = np.zeros(n)
    n_len = np.round(length / dt).astype(int)
    acc = np.zeros((n, 3, int(n_len.max())))
    order = np.argsort(n_len, kind="stable")
    for start in range(0, n, chunk):
        rows = order[start:start + chunk]
        t = np.arange(0.0, float(length[rows].max()) + NODE, NODE)
        args = (ts[rows], t0[rows], tp[rows], length[rows])
        for _ in range(6):
            d = _d595(_envelope(tmpl[rows], rise[rows], stretch[rows], t, *args))
            stretch[rows] = np.clip(stretch[rows] * fit_d[rows] / np.maximum(d, NODE), 0.25, 8.0)
        decay[rows] = _fit_decay(tmpl[rows], rise[rows], stretch[rows], t, args, fit_d[rows])
        nodes = _envelope(tmpl[rows], rise[rows], stretch[rows], t, *args, decay=decay[rows])
        m = int(n_len[rows].max())
        acc[rows, :, :m] = zero_baseline(synthesise(nodes, dt, m, rng, kappa=kappa[rows]), dt, n_len[rows])
    info = {"length_s": length, "t_p": tp, "t_s": ts, "sp_time": sp, "d5_95_target": target_d, "kappa": kappa,
            "stretch": stretch, "decay": decay}
    return acc, info


def _fit_decay(tmpl: np.ndarray, rise: np.ndarray, stretch: np.ndarray, t: np.ndarray, args: tuple,
               target_d: np.ndarray, tol: float = 0.03, steps: int = 10) -> np.ndarray:
    """Post-peak decay rates (1/s) that bring the envelope D5-95 down to ``target_d`` where stretching could not.

    A template whose late energy sits in slowly decaying low-frequency coda (for example
    after its long-period bands were raised towards a target spectrum) keeps a D5-95
    above the target however much it is compressed. For those records (D5-95 more than
    ``tol`` above the target, in ln) the decay is found by bisection on [0, 2] 1/s;
    every other record gets 0.
    """
    decay = np.zeros(len(target_d))
    d = _d595(_envelope(tmpl, rise, stretch, t, *args))
    rows = np.flatnonzero(np.log(np.maximum(d, NODE) / target_d) > tol)
    if rows.size == 0:
        return decay
    sub = (tmpl[rows], rise[rows], stretch[rows], t, *(a[rows] for a in args))
    lo, hi = np.zeros(rows.size), np.full(rows.size, 2.0)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        too_long = _d595(_envelope(*sub, decay=mid)) > target_d[rows]
        lo, hi = np.where(too_long, mid, lo), np.where(too_long, hi, mid)
    decay[rows] = 0.5 * (lo + hi)
    return decay


#: Bands synthesised together at a coarser step: (first band, last band + 1, decimation).
_GROUPS = ((0, 7, 10), (7, 10, 4), (10, 11, 1))


def synthesise(nodes: np.ndarray, dt: float, n_t: int, random_state: int | np.random.Generator | None = None, *,
               kappa: np.ndarray | None = None) -> np.ndarray:
    """Sum over bands of unit-RMS band-limited Gaussian noise x envelope: (n, 3, 11, J) nodes -> (n, 3, n_t) g.

    Bands below 2.5 Hz are synthesised at 10 x ``dt``, those from 2.5 to 9.9 Hz at 4 x ``dt``,
    then moved to the full step through their spectra; the 9.9-50 Hz band carries
    ``exp(-π κ (f - F_KAPPA))`` (``kappa`` (n,)).
    """
    from scipy import fft

    rng = np.random.default_rng(random_state)
    n, _, _, j = nodes.shape
    n_full = int(np.ceil(n_t / 20.0)) * 20
    total = np.zeros((n, 3, n_full // 2 + 1), dtype=complex)
    for lo, hi, q in _GROUPS:
        n_g, dt_g = n_full // q, dt * q
        f = np.fft.rfftfreq(n_g, dt_g)
        edges = OUT_EDGES[lo:hi + 1]
        band = np.searchsorted(edges, f, side="right") - 1
        if hi == len(OUT_EDGES) - 1:
            band[f >= edges[-1]] = hi - lo - 1  # the top band runs to Nyquist
        keep = (band[None, :] == np.arange(hi - lo)[:, None]) & (f >= edges[0])[None, :] & (f < 0.5 / dt_g)[None, :]
        spec = (rng.standard_normal((n, 3, hi - lo, f.size)) + 1j * rng.standard_normal((n, 3, hi - lo, f.size))) * keep
        if lo <= _REF_BAND + 1 < hi and kappa is not None:
            tilt = np.exp(-np.pi * np.asarray(kappa)[:, None] * np.maximum(f - F_KAPPA, 0.0)[None, :])
            spec[:, :, _REF_BAND + 1 - lo] *= tilt[:, None, :]
        noise = fft.irfft(spec, n_g, axis=-1)
        noise /= np.maximum(np.sqrt(np.mean(noise ** 2, axis=-1, keepdims=True)), 1e-30)
        pos = np.clip(np.arange(n_g) * dt_g / NODE, 0, j - 1)
        i0 = np.floor(pos).astype(int)
        i1 = np.minimum(i0 + 1, j - 1)
        w = pos - i0
        e = nodes[:, :, lo:hi]
        x = (noise * (e[..., i0] * (1 - w) + e[..., i1] * w)).sum(axis=2)
        total[..., : n_g // 2] += q * fft.rfft(x, axis=-1)[..., : n_g // 2]
    return fft.irfft(total, n_full, axis=-1)[..., :n_t]


def _integrals(acc: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoidal velocity and displacement (same leading shape), starting at rest."""
    vel = np.concatenate([np.zeros(acc.shape[:-1] + (1,)), np.cumsum(0.5 * (acc[..., 1:] + acc[..., :-1]), -1)], -1) * dt
    dis = np.concatenate([np.zeros(vel.shape[:-1] + (1,)), np.cumsum(0.5 * (vel[..., 1:] + vel[..., :-1]), -1)], -1) * dt
    return vel, dis


def zero_baseline(acc: np.ndarray, dt: float, n_len: np.ndarray | None = None, order: int = 3) -> np.ndarray:
    """Baseline correction so that velocity and displacement (trapezoidal rule) end at zero.

    For each record (its first ``n_len`` samples; default all): the mean is removed, a
    polynomial of degrees 2..``order`` fitted to the displacement is removed through its
    second derivative (so the record still starts at rest), the first and last samples
    are set to zero, then two half-sine
    corrections ``sin(π t / T)`` and ``sin(2π t / T)`` make the end velocity and the end
    displacement exactly zero. Samples beyond ``n_len`` stay zero.
    """
    acc = np.array(acc, dtype=float)
    n_t = acc.shape[-1]
    lens = np.full(acc.shape[0], n_t) if n_len is None else np.asarray(n_len, dtype=int)
    for length in np.unique(lens):
        rows = np.flatnonzero(lens == length)
        a = acc[rows, ..., :length]
        a = a - a.mean(axis=-1, keepdims=True)
        x = np.linspace(0.0, 1.0, length)
        tt = x * (length - 1) * dt
        powers = np.arange(2, order + 1)
        basis = x[:, None] ** powers[None, :]
        _, dis = _integrals(a, dt)
        coef, *_ = np.linalg.lstsq(basis, dis.reshape(-1, length).T, rcond=None)
        second = (powers * (powers - 1))[None, :] * x[:, None] ** np.maximum(powers - 2, 0)[None, :]
        second /= ((length - 1) * dt) ** 2
        a = a - (second @ coef).T.reshape(a.shape)
        a[..., 0] = a[..., -1] = 0.0  # so trailing zero padding adds nothing to the integrals
        span = max(tt[-1], dt)
        psi = np.stack([np.sin(np.pi * tt / span), np.sin(2 * np.pi * tt / span)])  # (2, length)
        v_psi, d_psi = _integrals(psi, dt)
        mat = np.array([[v_psi[0, -1], v_psi[1, -1]], [d_psi[0, -1], d_psi[1, -1]]])
        v, d = _integrals(a, dt)
        rhs = np.stack([v[..., -1], d[..., -1]], axis=-1)
        c = np.linalg.solve(mat, rhs.reshape(-1, 2).T).T.reshape(rhs.shape)
        a = a - c[..., 0:1] * psi[0] - c[..., 1:2] * psi[1]
        acc[rows, ..., :length] = a
        acc[rows, ..., length:] = 0.0
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
