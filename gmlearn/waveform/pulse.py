"""Near-fault velocity pulses: the Mavroeidis and Papageorgiou (2003) pulse with Shahi and Baker's period and probability.

Forward rupture directivity puts a large, long-period, two-sided velocity pulse on the
fault-normal component of records close to a fault. This module adds one to generated
records (:meth:`gmlearn.waveform.generators.WaveformGenerator.generate` with ``pulse=``):

- **Shape.** The velocity pulse of Mavroeidis and Papageorgiou (2003, BSSA 93(3),
  1099-1131, their equation 2)::

      v(t) = A/2 [1 + cos(2π fp (t - t0) / γ)] cos(2π fp (t - t0) + ν),  |t - t0| <= γ / (2 fp)

  and 0 elsewhere; ``fp = 1 / Tp``, ``γ`` sets the number of half-cycles (oscillatory
  character), ``ν`` the phase, ``t0`` the time of the envelope's peak. Its acceleration
  (:func:`mp_acceleration`) is the analytic derivative; both vanish at the ends of the
  envelope, so the pulse starts and ends at rest.
- **Period.** ``ln Tp = -6.207 + 1.075 M``, σ = 0.61 (Shahi and Baker 2014, BSSA 104(5),
  2456-2466, for the NGA-West2 pulses; the same coefficients as Shahi's 2013 near-fault
  model, PEER 2013/15, implemented in OpenQuake's ``ShahiBakerNearFault2013``).
  Draws are truncated at ±2σ; the records of one scenario get normal scores
  (:func:`gmlearn.waveform.timing.scenario_normal_draws`), so a set has the model's
  median period.
- **Probability.** Shahi and Baker (2014), as implemented for the Dabaghi and Der
  Kiureghian near-fault simulator in NHERI SimCenter's ``smelt``
  (``src/dabaghi_der_kiureghian.cc``)::

      strike-slip:      P = 1 / (1 + exp(0.457 + 0.126 r - 0.244 sqrt(s) + 0.013 θ))
      non-strike-slip:  P = 1 / (1 + exp(0.304 + 0.072 r - 0.208 sqrt(d) + 0.021 φ))

  with ``r`` the rupture distance (km), ``s`` the distance along strike from the
  epicentre to the site (km), ``d`` the distance up dip from the hypocentre (km) and
  ``θ``/``φ`` the angle (degrees) between the strike (dip) direction and the path to the
  site. Strike-slip means ``|rake| < 30`` or ``> 150`` degrees (as in
  :func:`gmlearn.waveform.timing.scenario_table`).
- **Amplitude** (a rule of this project, not a published pulse-PGV model): the pulse's
  peak velocity is ``exp(B0)`` = 2.05 times the fault-normal PGV of the record without
  it, ``B0 = 0.72`` being the amplification at the pulse period of pulse-like over
  ordinary records in Shahi's (2013) near-fault model.
- **Placement.** H1 is the fault-normal component by convention. The pulse starts at
  the S arrival (``info["t_s"]``; ``t0 = t_s + γ Tp / 2``), ``γ`` is drawn uniformly
  in ``GAMMA_RANGE`` and ``ν`` in [0, 2π). A record too short for its pulse is lengthened
  (``info["length_s"]``) to hold it and a 3-s tail. H1 is then re-baselined with
  :func:`gmlearn.waveform.realism.zero_baseline`, so velocity and displacement still end
  at zero; H2 and V are left as they were.
- **Identification** (:func:`identify_period`): the period of the peak of the 5 %-damped
  pseudo-velocity spectrum divided by ``PSV_PEAK_FRACTION`` = 0.88, the ratio of that
  period to ``Tp`` for Mavroeidis-Papageorgiou pulses with ``γ`` in ``GAMMA_RANGE``
  (0.79-0.92 over random ``γ`` and ``ν``; close to the 0.83 of Shahi's spectral
  amplification peak, ``exp(b2)``, b2 = -0.19).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gmlearn.waveform.errors import WaveformModelError

__all__ = ["G_CM", "PERIOD_COEFFS", "PROBABILITY_COEFFS", "B0", "GAMMA_RANGE", "PSV_PEAK_FRACTION", "mp_velocity",
           "mp_acceleration", "pulse_period", "pulse_probability", "default_s_or_d", "is_strike_slip", "check_pulse",
           "add_pulses", "identify_period"]

#: Standard gravity (cm/s²): acceleration in g times G_CM is cm/s².
G_CM = 980.665
#: ln Tp = a + b M and its σ (Shahi and Baker 2014).
PERIOD_COEFFS = (-6.207, 1.075, 0.61)
#: (c0, c_r, c_sqrt, c_angle) of ``P = 1 / (1 + exp(c0 + c_r r - c_sqrt sqrt(s or d) + c_angle θ or φ))``.
PROBABILITY_COEFFS = {"strike_slip": (0.457, 0.126, 0.244, 0.013), "non_strike_slip": (0.304, 0.072, 0.208, 0.021)}
#: ln amplification of pulse-like records at the pulse period (Shahi 2013): pulse PGV = exp(B0) x record PGV.
B0 = 0.72
#: Range of the oscillatory parameter γ drawn for each pulse.
GAMMA_RANGE = (1.5, 2.5)
#: Truncation of the period draws (standard deviations).
TP_TRUNCATION = 2.0
#: Period of the PSV peak of a Mavroeidis-Papageorgiou pulse / its Tp (gamma in GAMMA_RANGE).
PSV_PEAK_FRACTION = 0.88
_TAIL = 3.0  # s kept after the end of the pulse
_MODES = "False, True, 'auto' or a probability in [0, 1]"


def _arr(x: Any) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def _phase(t: np.ndarray, tp: Any, gamma: Any, nu: Any, t0: Any) -> tuple[np.ndarray, ...]:
    """Broadcast (n, 1) parameters against times ``t`` (n_t,) or (n, n_t)."""
    tp, gamma, nu, t0 = (_arr(x)[:, None] for x in (tp, gamma, nu, t0))
    tau = np.asarray(t, dtype=float) - t0
    w = 2 * np.pi / tp
    inside = np.abs(tau) <= gamma * tp / 2
    return tau, w, w / gamma, nu, inside


def mp_velocity(t: np.ndarray, amplitude: Any, tp: Any, gamma: Any, nu: Any, t0: Any) -> np.ndarray:
    """Mavroeidis and Papageorgiou (2003) velocity pulse, shape (n, n_t), in the unit of ``amplitude``.

    Parameters
    ----------
    t
        Times (s), shape (n_t,) or (n, n_t).
    amplitude, tp, gamma, nu, t0
        Per pulse (scalars or (n,)): amplitude ``A``, period ``Tp`` (s), oscillatory
        parameter ``γ`` (> 1), phase ``ν`` (radians) and time of the envelope peak (s).
    """
    tau, w, om, nu, inside = _phase(t, tp, gamma, nu, t0)
    a = _arr(amplitude)[:, None]
    return np.where(inside, a / 2 * (1 + np.cos(om * tau)) * np.cos(w * tau + nu), 0.0)


def mp_acceleration(t: np.ndarray, amplitude: Any, tp: Any, gamma: Any, nu: Any, t0: Any) -> np.ndarray:
    """Time derivative of :func:`mp_velocity` (amplitude unit per second), shape (n, n_t)."""
    tau, w, om, nu, inside = _phase(t, tp, gamma, nu, t0)
    a = _arr(amplitude)[:, None]
    da = -a / 2 * (om * np.sin(om * tau) * np.cos(w * tau + nu) + w * (1 + np.cos(om * tau)) * np.sin(w * tau + nu))
    return np.where(inside, da, 0.0)


def pulse_period(mag: Any) -> tuple[np.ndarray, float]:
    """Median pulse period (s) for moment magnitude ``mag`` and the σ of ln Tp (Shahi and Baker 2014)."""
    a, b, sigma = PERIOD_COEFFS
    return np.exp(a + b * _arr(mag)), sigma


def is_strike_slip(rake: Any) -> np.ndarray:
    """Strike-slip (``|rake| < 30`` or ``> 150`` degrees) per rake."""
    r = np.abs(_arr(rake))
    return (r < 30) | (r > 150)


def default_s_or_d(mag: Any, rake: Any) -> np.ndarray:
    """Default directivity distance (km): half the Wells and Coppersmith (1994) rupture length or width.

    For strike-slip ruptures, ``s`` = half the subsurface rupture length
    ``10^(-2.44 + 0.59 M)`` (the average over hypocentres spread evenly along a rupture
    for a site beyond its end); otherwise ``d`` = half the down-dip width
    ``10^(-1.01 + 0.32 M)`` (all slip types).
    """
    m = _arr(mag)
    return np.where(is_strike_slip(rake), 0.5 * 10 ** (-2.44 + 0.59 * m), 0.5 * 10 ** (-1.01 + 0.32 * m))


def pulse_probability(rrup: Any, s_or_d: Any, rake: Any = 0.0, theta_or_phi: Any = 0.0) -> np.ndarray:
    """Probability of a directivity pulse (Shahi and Baker 2014), shape of the broadcast inputs.

    Parameters
    ----------
    rrup
        Rupture distance ``r`` (km).
    s_or_d
        ``s`` (strike-slip: distance along strike from the epicentre, km) or ``d``
        (others: distance up dip from the hypocentre, km).
    rake
        Rake (degrees): selects the strike-slip or the non-strike-slip model.
    theta_or_phi
        Angle ``θ`` or ``φ`` (degrees) between the strike (dip) direction and the path to the site.
    """
    r, s, rake, ang = np.broadcast_arrays(_arr(rrup), _arr(s_or_d), _arr(rake), _arr(theta_or_phi))
    for name, x, lo, hi in (("rrup", r, 0.0, np.inf), ("s_or_d", s, 0.0, np.inf), ("theta_or_phi", ang, 0.0, 90.0)):
        bad = ~np.isfinite(x) | (x < lo) | (x > hi)
        if bad.any():
            raise WaveformModelError(f"The '{name}' parameter of the pulse probability must be in [{lo:g}, {hi:g}]. "
                                     f"Got {float(x[bad][0])!r} instead.")
    ss = is_strike_slip(rake)
    coef = np.where(ss[:, None], PROBABILITY_COEFFS["strike_slip"], PROBABILITY_COEFFS["non_strike_slip"])
    z = coef[:, 0] + coef[:, 1] * r - coef[:, 2] * np.sqrt(s) + coef[:, 3] * ang
    return 1.0 / (1.0 + np.exp(z))


def check_pulse(pulse: Any) -> bool | str | float:
    """The ``pulse`` option as ``False``, ``True``, ``"auto"`` or a probability; raises for anything else."""
    if isinstance(pulse, (bool, np.bool_)):
        return bool(pulse)
    if isinstance(pulse, str):
        if pulse == "auto":
            return pulse
    elif isinstance(pulse, (int, float, np.integer, np.floating)) and np.isfinite(pulse) and 0.0 <= pulse <= 1.0:
        return float(pulse)
    raise WaveformModelError(f"The 'pulse' parameter of generate must be {_MODES}. Got {pulse!r} instead.")


def _flags(mode: bool | str | float, mag: np.ndarray, rrup: np.ndarray, rake: np.ndarray, s_or_d: Any,
           theta_or_phi: Any, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = mag.size
    if mode is True or mode is False:
        prob = np.full(n, float(mode))
    elif mode == "auto":
        dist = default_s_or_d(mag, rake) if s_or_d is None else np.broadcast_to(_arr(s_or_d), (n,))
        prob = np.broadcast_to(pulse_probability(rrup, dist, rake, theta_or_phi), (n,)).copy()
    else:
        prob = np.full(n, float(mode))
    draw = rng.random(n)
    return (draw < prob) if mode is not True else np.ones(n, bool), prob


def _draw_shapes(keys: np.ndarray, t_s: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Tp (normal scores per scenario, truncated), γ, ν and t0 of pulses starting at ``t_s``; keys (n, 4) of conditions."""
    from gmlearn.waveform.timing import scenario_normal_draws

    median, sigma = pulse_period(keys[:, 0])
    eps = np.clip(scenario_normal_draws(keys, rng), -TP_TRUNCATION, TP_TRUNCATION)
    tp = median * np.exp(sigma * eps)
    gamma = rng.uniform(*GAMMA_RANGE, len(keys))
    nu = rng.uniform(0.0, 2 * np.pi, len(keys))
    return tp, gamma, nu, t_s + gamma * tp / 2


def _velocity(acc_g: np.ndarray, dt: float) -> np.ndarray:
    """Trapezoidal velocity (cm/s) from rest of acceleration (g), same shape."""
    inc = 0.5 * (acc_g[..., 1:] + acc_g[..., :-1]) * dt * G_CM
    return np.concatenate([np.zeros(acc_g.shape[:-1] + (1,)), np.cumsum(inc, axis=-1)], axis=-1)


def add_pulses(acc: np.ndarray, info: dict, mag: Any, rrup: Any, vs30: Any, rake: Any, pulse: Any, *, dt: float,
               s_or_d: Any = None, theta_or_phi: Any = 0.0,
               random_state: int | np.random.Generator | None = None) -> tuple[np.ndarray, dict]:
    """Add Mavroeidis-Papageorgiou pulses to the fault-normal component (H1) of realistic records.

    Parameters
    ----------
    acc
        Records (g), shape (n, 3, n_t), zero-padded after ``info["length_s"]``.
    info
        The realism layer's info (``length_s``, ``t_s`` per record); not modified.
    mag, rrup, vs30, rake
        Conditions per record, shape (n,) (rrup in km, vs30 in m/s, rake in degrees).
    pulse
        ``True`` (every record), ``"auto"`` (each record with the Shahi and Baker 2014
        probability) or a probability in [0, 1]; ``False`` returns the inputs unchanged.
    dt
        Time step (s).
    s_or_d, theta_or_phi
        Directivity geometry of ``"auto"`` (km, degrees): scalars or (n,); default
        :func:`default_s_or_d` and 0 degrees.
    random_state
        Seed or generator of the pulse draws.

    Returns
    -------
    acc : numpy.ndarray, shape (n, 3, n_t')
        Records with pulses, ``n_t' >= n_t`` when a pulse needed a longer record.
    info : dict
        A copy of ``info`` with ``length_s`` updated and, per record, ``pulse`` (bool),
        ``pulse_probability``, ``pulse_period_s``, ``pulse_pgv_cm_s``, ``pulse_gamma``,
        ``pulse_nu`` (radians) and ``pulse_t0_s`` (NaN where there is no pulse).
    """
    from gmlearn.waveform.realism import zero_baseline

    mode = check_pulse(pulse)
    info = dict(info)
    if mode is False:
        return acc, info
    rng = np.random.default_rng(random_state)
    n = acc.shape[0]
    mag, rrup, vs30, rake = (np.broadcast_to(_arr(x), (n,)).astype(float) for x in (mag, rrup, vs30, rake))
    flags, prob = _flags(mode, mag, rrup, rake, s_or_d, theta_or_phi, rng)
    rows = np.flatnonzero(flags)
    nan = np.full(n, np.nan)
    out = {"pulse": flags, "pulse_probability": prob, "pulse_period_s": nan.copy(), "pulse_pgv_cm_s": nan.copy(),
           "pulse_gamma": nan.copy(), "pulse_nu": nan.copy(), "pulse_t0_s": nan.copy()}
    if rows.size:
        keys = np.column_stack([mag[rows], rrup[rows], vs30[rows], rake[rows]])
        t_s = np.asarray(info["t_s"], dtype=float)[rows]
        tp, gamma, nu, t0 = _draw_shapes(keys, t_s, rng)
        length = np.asarray(info["length_s"], dtype=float).copy()
        length[rows] = np.maximum(length[rows], np.ceil(t_s + gamma * tp + _TAIL))
        n_len = np.round(length / dt).astype(int)
        if n_len.max() > acc.shape[-1]:
            acc = np.concatenate([acc, np.zeros(acc.shape[:2] + (int(n_len.max()) - acc.shape[-1],))], axis=-1)
        else:
            acc = acc.copy()
        t = np.arange(acc.shape[-1]) * dt
        h1 = acc[rows, 0]
        vp = np.exp(B0) * np.abs(_velocity(h1, dt)).max(axis=-1)
        peak = np.abs(mp_velocity(t, 1.0, tp, gamma, nu, t0)).max(axis=-1)
        amp = vp / peak
        fn = h1 + mp_acceleration(t, amp, tp, gamma, nu, t0) / G_CM
        acc[rows, 0] = zero_baseline(fn[:, None], dt, n_len[rows])[:, 0]  # H2 and V stay as they were
        info["length_s"] = length
        for key, val in (("pulse_period_s", tp), ("pulse_pgv_cm_s", vp), ("pulse_gamma", gamma), ("pulse_nu", nu),
                         ("pulse_t0_s", t0)):
            out[key][rows] = val
    info.update(out)
    return acc, info


def identify_period(acc: np.ndarray, dt: float, periods: np.ndarray | None = None) -> np.ndarray:
    """Pulse period (s) of records ``acc`` (g, time last): PSV-peak period / ``PSV_PEAK_FRACTION``.

    ``periods`` (s) default to 200 periods from 0.2 to 30 s. Shape ``acc.shape[:-1]``.
    """
    from gmlearn.waveform.metrics import psa

    t = np.geomspace(0.2, 30.0, 200) if periods is None else np.asarray(periods, dtype=float)
    psv = psa(np.asarray(acc, dtype=float), dt, t) * t / (2 * np.pi)
    return t[np.argmax(psv, axis=-1)] / PSV_PEAK_FRACTION
