"""Stochastic point-source simulation of three-component accelerograms (Boore 2003).

Windowed Gaussian noise is shaped to a target Fourier amplitude spectrum built from
small, named terms:

- source: the two-corner model of Atkinson and Silva (2000) for California (default)
  or the Brune omega-squared spectrum (Boore 2003, eq. 4-6) with corner frequency
  ``fc = 4.906e6 beta (stress / M0)^(1/3)``;
- path: piecewise geometric spreading (1/R to 40 km, R^-0.5 beyond; Atkinson and
  Silva 2000), anelastic ``Q(f) = 250 f^0.45`` and an effective distance
  ``sqrt(rrup^2 + h(M)^2)`` with the near-source saturation term of Yenier and
  Atkinson (2015);
- site: the Boore and Joyner (1997) generic-rock amplification (Vs30 620 m/s),
  scaled to ``vs30`` with the linear site coefficients ``c(T)`` of Boore et al.
  (2014), and the kappa filter ``exp(-pi kappa0 f)`` (kappa0 = 0.03 s);
- duration: ``0.5 / fc + 0.2 R + 4 s`` with a Saragoni-Hart window (Boore 2003,
  eq. 13); Boore's ``1/fc + 0.05 R`` gave D5-95 about half of the Afshari and
  Stewart (2016) values, so the path and site terms were lengthened.

Q0, kappa0 and the duration terms were adjusted once against BSSA14 and Afshari and
Stewart (2016) medians on six scenarios (M 5.5-7.5, 10-80 km), so the simulator's
agreement with those GMPEs is a calibration, not an independent check.

Aleatory variability comes from the random phase and from per-sample draws of
stress drop, kappa, duration and an overall amplitude term (log-normal, :data:`VARIABILITY`),
calibrated so that the spread of ln PSA is of the order of GMPE sigmas. Everything is
vectorised over samples in NumPy.
"""

from __future__ import annotations

import warnings

import numpy as np

from gmlearn.exceptions import OutOfRangeWarning
from gmlearn.waveform.errors import WaveformModelError

__all__ = ["PARAMETERS", "VARIABILITY", "RANGES", "fourier_spectrum", "simulate", "check_conditions"]

#: Median model parameters (units in comments).
PARAMETERS: dict[str, float] = {
    "stress": 80.0,  # bar, Brune stress parameter (with "as2000": reference of the stress draws)
    "beta": 3.5,  # km/s, shear-wave velocity at the source
    "rho": 2.8,  # g/cm3, density at the source
    "kappa0": 0.03,  # s, site kappa at the reference (generic rock)
    "q0": 250.0,  # Q(f) = q0 f^eta
    "eta": 0.45,
    "r_cross": 40.0,  # km, end of 1/R spreading
    "vh_ratio": 0.65,  # vertical / horizontal Fourier amplitude
    "dur_source": 0.5,  # duration = dur_source / fc + dur_path * R + dur_site (s)
    "dur_path": 0.2,  # s/km
    "dur_site": 4.0,  # s
    "spread_far": 0.5,  # geometric spreading exponent beyond r_cross
    "source": "as2000",  # "as2000" (two corners) or "brune" (single corner)
}
#: Log-normal standard deviations (ln units) of the per-sample draws.
VARIABILITY: dict[str, float] = {"stress": 0.5, "kappa": 0.3, "amplitude": 0.5, "duration": 0.35}
#: Applicability ranges of the conditions (outside: :class:`~gmlearn.exceptions.OutOfRangeWarning`).
RANGES: dict[str, tuple[float, float]] = {"mag": (4.0, 8.0), "rrup": (0.0, 300.0), "vs30": (150.0, 1500.0)}

# Boore and Joyner (1997) generic rock (Vs30 = 620 m/s): frequency (Hz), amplification.
_BJ97_F = np.array([0.01, 0.09, 0.16, 0.51, 0.84, 1.14, 2.26, 3.17, 6.05, 16.6, 61.2])
_BJ97_A = np.array([1.00, 1.10, 1.18, 1.42, 1.58, 1.74, 2.06, 2.25, 2.58, 3.13, 4.00])
# Boore et al. (2014) linear site coefficient c at period T (s) (OpenQuake BooreEtAl2014 table).
_BSSA_T = np.array([0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0,
                    3.0, 4.0, 5.0, 7.5, 10.0])
_BSSA_C = np.array([-0.60372, -0.57388, -0.53414, -0.45795, -0.44411, -0.48724, -0.57962, -0.68762, -0.77177,
                    -0.84165, -0.91092, -0.9693, -1.0154, -1.05, -1.0454, -1.0392, -1.0112, -0.96938, -0.91954,
                    -0.77665, -0.65575])


def check_conditions(mag: np.ndarray, rrup: np.ndarray, vs30: np.ndarray, ranges: dict | None = None,
                     model: str = "stochastic") -> None:
    """Raise for impossible conditions, warn (:class:`OutOfRangeWarning`) outside ``ranges``."""
    ranges = RANGES if ranges is None else ranges
    for name, values, low in (("mag", mag, -np.inf), ("rrup", rrup, 0.0), ("vs30", vs30, 1e-9)):
        values = np.asarray(values, dtype=float)
        bad = ~np.isfinite(values) | (values < low)
        if bad.any():
            msg = (f"The {name!r} condition of {model} must be finite{' and >= 0' if low == 0 else ''}"
                   f"{' and > 0' if low > 0 else ''}. Got {float(values[bad][0])!r} instead.")
            raise WaveformModelError(msg)
        lo, hi = ranges[name]
        out = (values < lo) | (values > hi)
        if out.any():
            warnings.warn(f"{model}: {name}={values[out][0]:g} is outside the range [{lo:g}, {hi:g}]; "
                          "results there are extrapolated.", OutOfRangeWarning, stacklevel=3)


def _corner_frequency(m0: np.ndarray, stress: np.ndarray, beta: float) -> np.ndarray:
    """Brune corner frequency (Hz) from moment (dyne-cm) and stress (bar) (Boore 2003, eq. 4)."""
    return 4.906e6 * beta * (stress / m0) ** (1.0 / 3.0)


def _source_shape(f: np.ndarray, mag: np.ndarray, m0: np.ndarray, stress: np.ndarray, p: dict) -> np.ndarray:
    """Displacement source shape, shape (n, n_freq).

    ``p["source"] == "brune"``: single corner ``1 / (1 + (f/fc)^2)`` (Boore 2003, eq. 5);
    ``"as2000"``: the two-corner model of Atkinson and Silva (2000) for California,
    ``fa = 10^(2.181 - 0.496 M)``, ``fb = 10^(2.41 - 0.408 M)``, ``eps = 10^(0.605 - 0.255 M)``,
    with both corners scaled by ``(stress / PARAMETERS["stress"])^(1/3)`` so that the
    stress draws still carry the between-event variability.
    """
    ff = f[None, :]
    if p.get("source", "as2000") == "brune":
        fc = _corner_frequency(m0, stress, p["beta"])
        return 1.0 / (1 + (ff / fc[:, None]) ** 2)
    scale = (stress / p["stress"]) ** (1.0 / 3.0)
    fa = (10.0 ** (2.181 - 0.496 * mag) * scale)[:, None]
    fb = (10.0 ** (2.41 - 0.408 * mag) * scale)[:, None]
    eps = (10.0 ** (0.605 - 0.255 * mag))[:, None]
    return (1 - eps) / (1 + (ff / fa) ** 2) + eps / (1 + (ff / fb) ** 2)


def _geometric_spreading(r: np.ndarray, r_cross: float, far: float = 0.5) -> np.ndarray:
    """1/R to ``r_cross`` km, then R^-far (Atkinson and Silva 2000: far = 0.5)."""
    return np.where(r <= r_cross, 1.0 / r, (1.0 / r_cross) * (r_cross / r) ** far)


def _site_amplification(f: np.ndarray, vs30: np.ndarray) -> np.ndarray:
    """Generic rock amplification x (vs30 / 620)^c(1/f), shape (n, n_freq)."""
    fr = np.clip(f, _BJ97_F[0], _BJ97_F[-1])
    rock = np.interp(np.log(fr), np.log(_BJ97_F), _BJ97_A)
    period = np.clip(1.0 / np.maximum(f, 1e-3), _BSSA_T[0], _BSSA_T[-1])
    c = np.interp(np.log(period), np.log(_BSSA_T), _BSSA_C)
    return rock[None, :] * (np.asarray(vs30, dtype=float)[:, None] / 620.0) ** c[None, :]


def fourier_spectrum(f: np.ndarray, mag: np.ndarray, rrup: np.ndarray, vs30: np.ndarray,
                     stress: np.ndarray | None = None, kappa: np.ndarray | None = None,
                     params: dict | None = None) -> np.ndarray:
    """Median Fourier acceleration amplitude (g·s) at frequencies ``f`` (Hz), shape (n, n_freq).

    Parameters are per sample (shape (n,)): moment magnitude, rupture distance (km),
    vs30 (m/s), stress (bar) and kappa (s).
    """
    p = {**PARAMETERS, **(params or {})}
    mag, rrup, vs30 = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (mag, rrup, vs30))
    stress = np.full_like(mag, p["stress"]) if stress is None else np.asarray(stress, dtype=float)
    kappa = np.full_like(mag, p["kappa0"]) if kappa is None else np.asarray(kappa, dtype=float)
    m0 = 10.0 ** (1.5 * mag + 16.05)
    const = 0.55 * (1 / np.sqrt(2)) * 2.0 / (4 * np.pi * p["rho"] * p["beta"] ** 3 * 1e20)
    shape = _source_shape(f, mag, m0, stress, p)
    source = const * m0[:, None] * (2 * np.pi * f[None, :]) ** 2 * shape
    h = 10.0 ** (-0.405 + 0.235 * mag)
    r = np.sqrt(rrup ** 2 + h ** 2)
    q = p["q0"] * np.maximum(f, 1e-3) ** p["eta"]
    path = _geometric_spreading(r, p["r_cross"], p["spread_far"])[:, None] * np.exp(-np.pi * f[None, :] * r[:, None] / (q * p["beta"]))
    site = _site_amplification(f, vs30) * np.exp(-np.pi * kappa[:, None] * f[None, :])
    return source * path * site / 981.0  # cm/s -> g·s


def _window(n_t: int, dt: float, duration: np.ndarray, start: float, eps: float = 0.2, eta: float = 0.05) -> np.ndarray:
    """Saragoni-Hart window of total length 2 x ``duration`` s starting at ``start`` s, shape (n, n_t)."""
    tw = 2.0 * duration[:, None]
    b = -eps * np.log(eta) / (1 + eps * (np.log(eps) - 1))
    c = b / eps
    a = (np.e / eps) ** b
    t = (np.arange(n_t) * dt - start)[None, :] / tw
    w = np.where((t > 0) & (t <= 1), a * np.clip(t, 1e-12, None) ** b * np.exp(-c * t), 0.0)
    return w


def simulate(mag: float | np.ndarray, rrup: float | np.ndarray, vs30: float | np.ndarray, n: int | None = None, *,
             dt: float = 0.02, length: float = 40.0, random_state: int | np.random.Generator | None = None,
             variability: bool = True, params: dict | None = None, align: bool = True) -> np.ndarray:
    """Simulate three-component accelerograms (g), shape (n, 3, round(length / dt)).

    Parameters
    ----------
    mag, rrup, vs30
        Scalars (with ``n`` samples) or arrays of one condition per sample.
    n
        Number of samples when the conditions are scalars.
    dt, length
        Time step and window length (s).
    random_state
        Seed or generator; the same seed gives the same records.
    variability
        Draw stress, kappa, duration and amplitude per sample (:data:`VARIABILITY`); ``False``
        keeps only the random phase.
    params
        Overrides of :data:`PARAMETERS`.
    align
        Align the traces on the 5 % horizontal Arias time (as the processed real records).
    """
    from gmlearn.waveform.processing import ONSET
    from gmlearn.waveform.processing import align as align_traces

    p = {**PARAMETERS, **(params or {})}
    rng = np.random.default_rng(random_state)
    mag, rrup, vs30 = np.broadcast_arrays(*(np.atleast_1d(np.asarray(x, dtype=float)) for x in (mag, rrup, vs30)))
    if n is not None and mag.size == 1:
        mag, rrup, vs30 = (np.repeat(x, n) for x in (mag, rrup, vs30))
    check_conditions(mag, rrup, vs30)
    k = mag.size
    sd = VARIABILITY if variability else {key: 0.0 for key in VARIABILITY}
    stress = p["stress"] * np.exp(sd["stress"] * rng.standard_normal(k))
    kappa = p["kappa0"] * np.exp(sd["kappa"] * rng.standard_normal(k))
    amp = np.exp(sd["amplitude"] * rng.standard_normal(k))
    n_out = int(round(length / dt))
    n_t = int(round((length + 30.0) / dt))
    m0 = 10.0 ** (1.5 * mag + 16.05)
    fc = _corner_frequency(m0, stress, p["beta"])
    r_eff = np.sqrt(rrup ** 2 + (10.0 ** (-0.405 + 0.235 * mag)) ** 2)
    duration = (p["dur_source"] / fc + p["dur_path"] * r_eff + p["dur_site"]) * np.exp(
        sd["duration"] * rng.standard_normal(k))
    win = _window(n_t, dt, duration, start=1.0)
    noise = rng.standard_normal((k, 3, n_t)) * win[:, None, :]
    spec = np.fft.rfft(noise, axis=-1)
    f = np.fft.rfftfreq(n_t, dt)
    unit = spec / np.maximum(np.sqrt(np.mean(np.abs(spec) ** 2, axis=-1, keepdims=True)), 1e-30)
    target = fourier_spectrum(f, mag, rrup, vs30, stress, kappa, p) * amp[:, None]
    comp = np.array([1.0, 1.0, p["vh_ratio"]])
    acc = np.fft.irfft(unit * target[:, None, :] * comp[None, :, None] / dt, n_t, axis=-1)
    if align:
        acc = align_traces(acc, dt, ONSET)
    return acc[..., :n_out]
