"""Scores of ground-motion predictions against observations, on plain arrays.

Every function takes 1-D arrays of natural-log observations and predicted
natural-log means and standard deviations, one element per record, and
ignores records where any input is NaN.

References
----------
Scherbaum, F., Delavaud, E. and Riggelsen, C. (2009). Model selection in
seismic hazard analysis: an information-theoretic perspective. Bulletin of
the Seismological Society of America 99(6), 3234-3247.

Kale, O. and Akkar, S. (2013). A new procedure for selecting and ranking
ground-motion prediction equations (GMPEs): the Euclidean distance-based
ranking (EDR) method. Bulletin of the Seismological Society of America
103(2A), 1069-1084.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special

__all__ = ["coverage", "edr", "folded_normal_mean", "llh", "rms"]


def _finite(*arrays: Any, names: Sequence[str]) -> list[np.ndarray]:
    """Return the arrays as 1-D floats of equal length, keeping rows finite in all of them."""
    out = [np.asarray(a, dtype=float) for a in arrays]
    for a, name in zip(out, names, strict=True):
        if a.ndim != 1:
            msg = f"The '{name}' parameter must be 1-D (one value per record). Got shape {a.shape} instead."
            raise ValueError(msg)
    sizes = {a.size for a in out}
    if len(sizes) > 1:
        given = ", ".join(f"{n}={a.size}" for a, n in zip(out, names, strict=True))
        msg = f"The inputs must have the same length; got {given}."
        raise ValueError(msg)
    keep = np.logical_and.reduce([np.isfinite(a) for a in out])
    return [a[keep] for a in out]


def _positive(sigma: np.ndarray) -> None:
    if (sigma <= 0).any():
        msg = f"'sigma' must be > 0 for every record; got {int((sigma <= 0).sum())} values <= 0 (min {sigma.min()})."
        raise ValueError(msg)


def rms(residuals: Any) -> float:
    """Root-mean-square of residuals, ignoring NaN.

    Parameters
    ----------
    residuals
        Natural-log residuals ``ln(obs) - ln(predicted)``, any shape.

    Returns
    -------
    float
        ``sqrt(mean(residuals**2))`` over finite values; NaN if there are none.
    """
    r = np.asarray(residuals, dtype=float)
    r = r[np.isfinite(r)]
    return float(np.sqrt(np.mean(r**2))) if r.size else float("nan")


def llh(obs: Any, mean: Any, sigma: Any) -> float:
    """Average negative log2-likelihood of the observations (Scherbaum et al., 2009).

    .. math::

        \\mathrm{LLH} = -\\frac{1}{N} \\sum_i \\log_2 f(x_i \\mid \\mu_i, \\sigma_i),

    with ``f`` the normal density of ln(IM). Lower is better; a model whose
    predictions equal the observations with ``sigma = 1`` scores
    ``log2(sqrt(2 pi)) = 1.3257``.

    Parameters
    ----------
    obs, mean, sigma
        Observed ln(IM), predicted ln mean and total standard deviation, each
        shape (n_records,).

    Returns
    -------
    float
        LLH in bits; NaN if no record is finite.
    """
    x, mu, s = _finite(obs, mean, sigma, names=("obs", "mean", "sigma"))
    if x.size == 0:
        return float("nan")
    _positive(s)
    z = (x - mu) / s
    log_pdf = -0.5 * np.log(2.0 * np.pi) - np.log(s) - 0.5 * z**2
    return float(-np.mean(log_pdf) / np.log(2.0))


def folded_normal_mean(loc: Any, scale: Any) -> np.ndarray:
    """Mean of ``|D|`` for ``D ~ N(loc, scale)`` (the folded-normal mean).

    .. math::

        E|D| = s \\sqrt{2/\\pi}\\, e^{-\\mu^2 / (2 s^2)} + \\mu\\, \\mathrm{erf}(\\mu / (s \\sqrt{2})).

    Parameters
    ----------
    loc, scale
        Mean and standard deviation of ``D``, broadcastable arrays.
    """
    mu = np.asarray(loc, dtype=float)
    s = np.asarray(scale, dtype=float)
    return s * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * (mu / s) ** 2) + mu * special.erf(mu / (s * np.sqrt(2.0)))


def edr(obs: Any, mean: Any, sigma: Any) -> tuple[float, float, float]:
    """Euclidean distance-based ranking of Kale & Akkar (2013).

    For record ``i`` the distance between observation and model is
    ``D_i = x_i - Y_i`` with ``Y_i ~ N(mu_i, sigma_i)``; its modified
    Euclidean distance is the expected absolute value, here in closed form
    (folded-normal mean, see :func:`folded_normal_mean`) rather than the
    paper's truncated numerical integration:

    .. math::

        \\mathrm{MDE}_i = E|D_i|, \\quad D_i \\sim N(x_i - \\mu_i, \\sigma_i).

    The trend correction regresses the predictions on the observations,
    ``mu_hat = b0 + b1 x``, corrects them as ``mu_c = mu - (mu_hat - x)`` and
    takes

    .. math::

        \\kappa = \\frac{\\sum_i (x_i - \\mu_i)^2}{\\sum_i (x_i - \\mu_{c,i})^2},\\quad
        \\mathrm{MDE_{norm}} = \\sqrt{\\tfrac{1}{N} \\sum_i \\mathrm{MDE}_i^2},\\quad
        \\mathrm{EDR} = \\sqrt{\\kappa}\\, \\mathrm{MDE_{norm}}.

    ``kappa >= 1``; it is 1.0 when the predictions equal the observations
    and infinite when the misfit is an exact linear function of ``x``.

    Parameters
    ----------
    obs, mean, sigma
        Observed ln(IM), predicted ln mean and total standard deviation, each
        shape (n_records,).

    Returns
    -------
    mde_norm, sqrt_kappa, edr
        Lower is better for all three; NaN if fewer than 2 records are finite.
    """
    x, mu, s = _finite(obs, mean, sigma, names=("obs", "mean", "sigma"))
    if x.size < 2:
        return float("nan"), float("nan"), float("nan")
    _positive(s)
    mde = folded_normal_mean(x - mu, s)
    mde_norm = float(np.sqrt(np.mean(mde**2)))
    kappa = _kappa(x, mu)
    return mde_norm, float(np.sqrt(kappa)), float(np.sqrt(kappa) * mde_norm)


def _kappa(x: np.ndarray, mu: np.ndarray) -> float:
    """Kale & Akkar's ratio of raw to trend-corrected squared distances."""
    num = float(np.sum((x - mu) ** 2))
    if num == 0.0:
        return 1.0
    if np.ptp(x) == 0.0:  # no spread in x: the trend is a constant offset only
        corrected = mu - (mu.mean() - x)
    else:
        b1, b0 = np.polyfit(x, mu, 1)
        corrected = mu - (b0 + b1 * x - x)
    den = float(np.sum((x - corrected) ** 2))
    return num / den if den > 0.0 else float("inf")


def coverage(obs: Any, mean: Any, sigma: Any, levels: Sequence[float] = (0.68, 0.95)) -> dict[float, float]:
    """Fraction of observations inside the model's central prediction intervals.

    Parameters
    ----------
    obs, mean, sigma
        Observed ln(IM), predicted ln mean and total standard deviation, each
        shape (n_records,).
    levels
        Probabilities of the central intervals ``mean +- z sigma`` with
        ``z = Phi^-1((1 + level) / 2)``; each in (0, 1).

    Returns
    -------
    dict
        ``{level: fraction}``; a well calibrated model gives ``fraction ~ level``.
        Fractions are NaN if no record is finite.
    """
    lv = np.asarray(levels, dtype=float)
    if lv.ndim != 1 or not ((lv > 0) & (lv < 1)).all():
        msg = f"The 'levels' parameter of coverage must be probabilities in (0, 1). Got {levels!r} instead."
        raise ValueError(msg)
    x, mu, s = _finite(obs, mean, sigma, names=("obs", "mean", "sigma"))
    if x.size == 0:
        return {float(level): float("nan") for level in lv}
    _positive(s)
    z = np.abs(x - mu) / s
    half_width = special.ndtri(0.5 * (1.0 + lv))
    return {float(level): float(np.mean(z <= w)) for level, w in zip(lv, half_width, strict=True)}
