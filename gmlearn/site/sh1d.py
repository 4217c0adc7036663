"""Linear 1-D SH-wave transfer functions of layered soil profiles (Kramer 1996, section 7.2).

Vertically incident SH waves through horizontal layers over an elastic
half-space; each layer has thickness (m), shear-wave velocity (m/s), density
(kg/m3) and hysteretic damping ratio, entered as a complex shear modulus
``G* = G (sqrt(1 - 4 D^2) + 2 i D)`` (Dormieux & Canou 1990, pystrata's
default; ``"kramer"`` and ``"seed"`` forms are also available).

The up- and down-going amplitudes ``A``, ``B`` are carried from the free
surface (``A = B``) down through the layers with the impedance ratio
``alpha* = rho_m Vs*_m / (rho_{m+1} Vs*_{m+1})`` (Kramer eq. 7.34). The
surface / outcrop transfer function is ``(A_1 + B_1) / (2 A_n)`` and the
surface / within (borehole) one ``(A_1 + B_1) / (A_n + B_n)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from gmlearn.exceptions import GMLearnError

__all__ = ["Profile", "SiteResponseError", "transfer_function", "single_layer_transfer_function",
           "konno_ohmachi", "amplification_at_periods", "COMPLEX_MODULUS_MODELS"]

#: Complex shear-modulus factors ``G*/G`` accepted by the ``modulus`` arguments.
COMPLEX_MODULUS_MODELS: tuple[str, ...] = ("dormieux", "kramer", "seed")


class SiteResponseError(GMLearnError, ValueError):
    """A soil profile or a site-response argument is invalid."""


def _factor(damping: np.ndarray, modulus: str) -> np.ndarray:
    d = np.asarray(damping, dtype=float)
    if modulus == "dormieux":
        return np.sqrt(1 - 4 * d**2) + 2j * d
    if modulus == "kramer":
        return 1 - d**2 + 2j * d
    if modulus == "seed":
        return 1 + 2j * d
    msg = f"The 'modulus' parameter must be one of {list(COMPLEX_MODULUS_MODELS)}. Got {modulus!r} instead."
    raise SiteResponseError(msg)


@dataclass(frozen=True)
class Profile:
    """Layered profile; the last entry is the half-space (its thickness is ignored).

    Attributes
    ----------
    thickness
        Layer thicknesses (m), shape (n_layers,); the last value is unused.
    vs
        Shear-wave velocities (m/s).
    density
        Mass densities (kg/m3).
    damping
        Damping ratios (fraction, 0 <= D < 0.5).
    """

    thickness: np.ndarray
    vs: np.ndarray
    density: np.ndarray
    damping: np.ndarray

    def __post_init__(self) -> None:
        arrays = {}
        for name in ("thickness", "vs", "density", "damping"):
            arr = np.atleast_1d(np.asarray(getattr(self, name), dtype=float))
            object.__setattr__(self, name, arr)
            arrays[name] = arr
        n = arrays["vs"].size
        if n < 2:
            msg = f"A profile needs at least one layer over a half-space (>= 2 entries). Got {n}."
            raise SiteResponseError(msg)
        for name, arr in arrays.items():
            if arr.size != n:
                msg = f"Profile.{name} has {arr.size} values; vs has {n}. Every property needs one value per layer."
                raise SiteResponseError(msg)
        checks = {"thickness": arrays["thickness"][:-1] > 0, "vs": arrays["vs"] > 0, "density": arrays["density"] > 0,
                  "damping": (arrays["damping"] >= 0) & (arrays["damping"] < 0.5)}
        for name, ok in checks.items():
            ok = ok & np.isfinite(arrays[name][: ok.size])
            if not ok.all():
                i = int(np.flatnonzero(~ok)[0])
                allowed = "in [0, 0.5)" if name == "damping" else "> 0"
                msg = f"Profile.{name}[{i}] must be finite and {allowed}. Got {arrays[name][i]!r} instead."
                raise SiteResponseError(msg)

    @property
    def vs30(self) -> float:
        """Time-averaged shear-wave velocity of the top 30 m (m/s)."""
        depth, travel = 0.0, 0.0
        for h, v in zip(self.thickness[:-1], self.vs[:-1]):
            dz = min(h, 30.0 - depth)
            travel += dz / v
            depth += dz
            if depth >= 30.0:
                break
        if depth < 30.0:
            travel += (30.0 - depth) / self.vs[-1]
        return 30.0 / travel

    @property
    def fundamental_frequency(self) -> float:
        """Quarter-wavelength estimate ``1 / (4 sum(h / Vs))`` of the soil column (Hz)."""
        return 1.0 / (4.0 * float(np.sum(self.thickness[:-1] / self.vs[:-1])))

    @classmethod
    def from_layers(cls, layers: Sequence[Sequence[float]]) -> "Profile":
        """From rows ``(thickness_m, vs_mps, density_kgm3, damping)``; the last row is the half-space."""
        arr = np.asarray(layers, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != 4:
            msg = f"Layers must be rows of (thickness, vs, density, damping). Got shape {arr.shape}."
            raise SiteResponseError(msg)
        return cls(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])


def transfer_function(profile: Profile, freqs: np.ndarray, *, output: str = "outcrop",
                      modulus: str = "dormieux") -> np.ndarray:
    """Complex surface transfer function at ``freqs`` (Hz), shape (n_freqs,).

    Parameters
    ----------
    profile
        The layered profile.
    freqs
        Frequencies (Hz), >= 0.
    output
        ``"outcrop"``: surface / outcropping half-space (input at rock outcrop);
        ``"within"``: surface / motion within the half-space at the soil base.
    modulus
        Complex-modulus form (:data:`COMPLEX_MODULUS_MODELS`).
    """
    if output not in ("outcrop", "within"):
        msg = f"The 'output' parameter must be 'outcrop' or 'within'. Got {output!r} instead."
        raise SiteResponseError(msg)
    f = np.asarray(freqs, dtype=float)
    if (~np.isfinite(f) | (f < 0)).any():
        msg = "Frequencies must be finite and >= 0 Hz."
        raise SiteResponseError(msg)
    omega = 2.0 * np.pi * f
    g_star = profile.density * profile.vs**2 * _factor(profile.damping, modulus)
    vs_star = np.sqrt(g_star / profile.density)
    a = np.ones_like(omega, dtype=complex)
    b = np.ones_like(omega, dtype=complex)
    a_top, b_top = a.copy(), b.copy()
    for m in range(profile.vs.size - 1):
        k = omega / vs_star[m]
        alpha = profile.density[m] * vs_star[m] / (profile.density[m + 1] * vs_star[m + 1])
        e = np.exp(1j * k * profile.thickness[m])
        a, b = 0.5 * (a * (1 + alpha) * e + b * (1 - alpha) / e), 0.5 * (a * (1 - alpha) * e + b * (1 + alpha) / e)
    surface = a_top + b_top
    return surface / (2.0 * a) if output == "outcrop" else surface / (a + b)


def single_layer_transfer_function(freqs: np.ndarray, *, thickness: float, vs: float, density: float, damping: float,
                                   vs_rock: float, density_rock: float, damping_rock: float = 0.0,
                                   modulus: str = "dormieux") -> np.ndarray:
    """Closed form for one damped layer on an elastic half-space (Kramer 1996, eq. 7.36).

    ``H = 1 / (cos(k* H) + i alpha* sin(k* H))`` (surface / rock outcrop).
    """
    omega = 2.0 * np.pi * np.asarray(freqs, dtype=float)
    vs_s = vs * np.sqrt(_factor(np.array(damping), modulus))
    vs_r = vs_rock * np.sqrt(_factor(np.array(damping_rock), modulus))
    alpha = density * vs_s / (density_rock * vs_r)
    kh = omega * thickness / vs_s
    return 1.0 / (np.cos(kh) + 1j * alpha * np.sin(kh))


def konno_ohmachi(freqs: np.ndarray, values: np.ndarray, b: float = 40.0) -> np.ndarray:
    """Konno & Ohmachi (1998) smoothing of ``values`` (e.g. ``|H|``) on ``freqs`` (Hz), bandwidth ``b``."""
    f = np.asarray(freqs, dtype=float)
    v = np.asarray(values, dtype=float)
    out = np.empty_like(v)
    pos = f > 0
    for i, fc in enumerate(f):
        if fc <= 0:
            out[i] = v[i]
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            x = b * np.log10(f[pos] / fc)
            w = np.where(np.abs(x) < 1e-9, 1.0, (np.sin(x) / x) ** 4)
        out[i] = np.sum(w * v[pos]) / np.sum(w)
    return out


def amplification_at_periods(profile: Profile, periods: Sequence[float], *, b: float = 40.0,
                             modulus: str = "dormieux") -> np.ndarray:
    """ln amplification per period: ln of the Konno-Ohmachi smoothed ``|H|`` (outcrop) at ``f = 1/T``.

    A linear, first-order estimate of the spectral amplification used by
    :class:`gmlearn.site.term.LinearSHSiteTerm`; PGA (period 0) is taken at 100 Hz.
    """
    t = np.asarray(periods, dtype=float)
    targets = 1.0 / np.maximum(t, 0.01)
    freqs = np.geomspace(0.05, 150.0, 1024)
    smooth = konno_ohmachi(freqs, np.abs(transfer_function(profile, freqs, modulus=modulus)), b=b)
    return np.log(np.interp(np.log(targets), np.log(freqs), smooth))
