"""Crossed random-effects decomposition of ground-motion residuals.

The total residual of record ``i`` (``ln obs - ln predicted``), recorded from
event ``e(i)`` at station ``s(i)``, is split as

.. math::

    r_i = c + \\delta B_{e(i)} + \\delta S2S_{s(i)} + \\delta WS_i,

with :math:`\\delta B_e \\sim N(0, \\tau^2)` (between-event),
:math:`\\delta S2S_s \\sim N(0, \\phi_{S2S}^2)` (site-to-site) and
:math:`\\delta WS_i \\sim N(0, \\phi_{SS}^2)` (single-station within-event),
all independent (Al Atik et al., 2010). The event and station effects are
*crossed*, not nested, so the variances are estimated jointly.

The fit maximises the profiled (restricted) likelihood in the relative
standard deviations ``tau / phi_ss`` and ``phi_s2s / phi_ss``; the bias ``c``
and ``phi_ss`` are profiled out in closed form, following the penalised
least-squares formulation of Bates et al. (2015). Each evaluation solves
Henderson's mixed-model equations; the event-station block is reduced to a
dense Schur complement of size ``min(n_events, n_stations)``, so data sets
with thousands of events and stations fit in seconds.

References
----------
Al Atik, L., Abrahamson, N., Bommer, J. J., Scherbaum, F., Cotton, F. and
Kuehn, N. (2010). The variability of ground-motion prediction models and its
components. Seismological Research Letters 81(5), 794-801.

Bates, D., Maechler, M., Bolker, B. and Walker, S. (2015). Fitting linear
mixed-effects models using lme4. Journal of Statistical Software 67(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, optimize, sparse

__all__ = ["MixedEffectsResult", "fit_mixed_effects"]

#: Allowed values of the ``method`` parameter.
METHODS: tuple[str, ...] = ("reml", "ml")

#: Upper bound of the relative standard deviations (tau / phi_ss, phi_s2s / phi_ss).
_MAX_RATIO = 1e3

#: Minimum number of finite residuals for a fit.
_MIN_RECORDS = 3


@dataclass(frozen=True)
class MixedEffectsResult:
    """Fitted residual decomposition (all values in natural-log units).

    Attributes
    ----------
    bias
        Fixed offset ``c`` (mean residual, weighted by the random-effects model).
    tau
        Between-event standard deviation (NaN if not identifiable, e.g. one event).
    phi_s2s
        Site-to-site standard deviation (0.0 without station effects, NaN if
        not identifiable, e.g. one record per station).
    phi_ss
        Single-station within-event standard deviation.
    phi
        Within-event standard deviation, ``sqrt(phi_s2s**2 + phi_ss**2)``.
    sigma
        Total standard deviation, ``sqrt(tau**2 + phi**2)``.
    event_terms
        Between-event terms ``dB_e`` (best linear unbiased predictors), indexed
        by event id.
    station_terms
        Site-to-site terms ``dS2S_s``, indexed by station id; empty without
        station effects.
    within
        Single-station within-event residuals ``dWS_i``, shape (n_rows,) in the
        order of the input; NaN where the input residual was NaN. Without
        station effects this is the within-event residual ``dW_i``.
    n_records
        Number of finite residuals used.
    n_events, n_stations
        Number of distinct events and stations among the used records.
    n_dropped
        Number of NaN residuals dropped.
    n_iter
        Optimiser iterations.
    converged
        Whether the optimiser reported convergence.
    loglik
        Maximised log-likelihood (restricted log-likelihood for ``"reml"``).
    method
        ``"reml"`` or ``"ml"``.
    """

    bias: float
    tau: float
    phi_s2s: float
    phi_ss: float
    phi: float
    sigma: float
    event_terms: pd.Series
    station_terms: pd.Series
    within: np.ndarray
    n_records: int
    n_events: int
    n_stations: int
    n_dropped: int
    n_iter: int
    converged: bool
    loglik: float
    method: str

    def between(self, event_ids: Any) -> np.ndarray:
        """Return the event term of each row, shape (n_rows,); NaN for unknown events."""
        return self.event_terms.reindex(np.asarray(event_ids, dtype=object)).to_numpy(dtype=float)

    def site(self, station_ids: Any) -> np.ndarray:
        """Return the station term of each row, shape (n_rows,); 0.0 without station effects."""
        if self.station_terms.empty:
            return np.zeros(len(station_ids))
        return self.station_terms.reindex(np.asarray(station_ids, dtype=object)).to_numpy(dtype=float)


@dataclass(frozen=True)
class _Solution:
    """Penalised least-squares solution at one value of the relative standard deviations."""

    deviance: float
    beta: float
    effects: tuple[np.ndarray, ...]  # random effects b_j (not spherical), one per factor
    r2: float  # penalised residual sum of squares


class _CrossedProblem:
    """Sufficient statistics of ``y = c + sum_j Z_j b_j + e`` with one or two factors.

    Factor 0 is the larger one when there are two: it is eliminated through its
    diagonal block, and the dense Schur complement is built on factor 1.
    """

    def __init__(self, y: np.ndarray, codes: list[np.ndarray], sizes: list[int], reml: bool) -> None:
        self.y = y
        self.n = y.size
        self.reml = reml
        self.codes = codes
        self.counts = [np.bincount(c, minlength=m).astype(float) for c, m in zip(codes, sizes, strict=True)]
        self.sums = [np.bincount(c, weights=y, minlength=m) for c, m in zip(codes, sizes, strict=True)]
        self.cross: sparse.csr_matrix | None = None
        if len(codes) == 2:
            ones = np.ones(self.n)
            self.cross = sparse.csr_matrix((ones, (codes[0], codes[1])), shape=(sizes[0], sizes[1]))

    def _solve(self, lam: np.ndarray, rhs: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
        """Solve ``(Lambda Z'Z Lambda + I) w = rhs``; return w (per factor) and log|A|."""
        if not rhs:
            return [], 0.0
        d = [lam[j] ** 2 * self.counts[j] + 1.0 for j in range(len(rhs))]
        logdet = float(np.log(d[0]).sum())  # log|A_00|; A = A_00 (+) Schur complement
        if self.cross is None:
            return [rhs[0] / d[0][:, None]], logdet
        c = self.cross
        scale = lam[0] * lam[1]
        schur = -(scale**2) * (c.T @ sparse.diags(1.0 / d[0]) @ c).toarray()
        schur[np.diag_indices_from(schur)] += d[1]
        factor = linalg.cho_factor(schur, lower=True, check_finite=False)
        logdet += 2.0 * float(np.log(np.diag(factor[0])).sum())
        w1 = linalg.cho_solve(factor, rhs[1] - scale * (c.T @ (rhs[0] / d[0][:, None])), check_finite=False)
        w0 = (rhs[0] - scale * (c @ w1)) / d[0][:, None]
        return [w0, w1], logdet

    def solve(self, lam: np.ndarray) -> _Solution:
        """Profile out the bias and the residual variance at relative std ``lam``."""
        n = self.n
        rhs = [np.column_stack([lam[j] * self.sums[j], lam[j] * self.counts[j]]) for j in range(len(lam))]
        w, logdet = self._solve(lam, rhs)
        q = np.zeros((2, 2))  # [[gy'wy, gy'wx], [gx'wy, gx'wx]]
        for g, wj in zip(rhs, w, strict=True):
            q += g.T @ wj
        rx2 = n - q[1, 1]
        beta = (self.y.sum() - q[1, 0]) / rx2
        u = [wj[:, 0] - beta * wj[:, 1] for wj in w]
        effects = tuple(lam[j] * u[j] for j in range(len(u)))
        resid = self.y - beta
        for b, c in zip(effects, self.codes, strict=True):
            resid = resid - b[c]
        r2 = float(resid @ resid + sum(float(uj @ uj) for uj in u))
        r2 = max(r2, np.finfo(float).tiny)
        dof = n - 1 if self.reml else n
        deviance = logdet + dof * (1.0 + np.log(2.0 * np.pi * r2 / dof))
        if self.reml:
            deviance += np.log(rx2)
        return _Solution(float(deviance), float(beta), effects, r2)

    def objective(self, lam: np.ndarray) -> float:
        """Deviance per record (O(1) scale, for the optimiser); inf where the system is singular."""
        try:
            return self.solve(np.asarray(lam, dtype=float)).deviance / self.n
        except (linalg.LinAlgError, FloatingPointError):
            return np.inf


def _as_ids(values: Any, n: int, name: str) -> np.ndarray:
    """Return ``values`` as an object array of length ``n`` or raise ValueError."""
    ids = np.asarray(values, dtype=object)
    if ids.ndim != 1 or ids.size != n:
        msg = f"The '{name}' parameter must be 1-D with one id per residual ({n}). Got shape {ids.shape} instead."
        raise ValueError(msg)
    return ids


def _encode(ids: np.ndarray, name: str, index_name: str) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and the index of distinct ids (sorted when the ids allow it)."""
    missing = pd.isna(ids)
    if missing.any():
        msg = f"'{name}' has {int(missing.sum())} missing ids among the finite residuals; every record needs one."
        raise ValueError(msg)
    try:
        codes, uniques = pd.factorize(ids, sort=True)
    except TypeError:  # ids of mixed, unorderable types
        codes, uniques = pd.factorize(ids, sort=False)
    return codes.astype(np.intp), pd.Index(uniques, name=index_name)


def _validate(
    residuals: Any, event_ids: Any, station_ids: Any, max_iter: int, tol: float, method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check the inputs of :func:`fit_mixed_effects`; return residuals and id arrays."""
    if method not in METHODS:
        msg = f"The 'method' parameter of fit_mixed_effects must be one of {METHODS}. Got {method!r} instead."
        raise ValueError(msg)
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        msg = f"The 'max_iter' parameter of fit_mixed_effects must be an int >= 1. Got {max_iter!r} instead."
        raise ValueError(msg)
    if not (np.isfinite(tol) and tol > 0):
        msg = f"The 'tol' parameter of fit_mixed_effects must be a float > 0. Got {tol!r} instead."
        raise ValueError(msg)
    r = np.asarray(residuals, dtype=float)
    if r.ndim != 1:
        msg = f"The 'residuals' parameter must be 1-D (one IMT at a time). Got shape {r.shape} instead."
        raise ValueError(msg)
    if np.isinf(r).any():
        msg = f"'residuals' has {int(np.isinf(r).sum())} infinite values; use NaN for missing residuals."
        raise ValueError(msg)
    n_ok = int(np.isfinite(r).sum())
    if n_ok < _MIN_RECORDS:
        what = "all residuals are NaN" if n_ok == 0 else f"only {n_ok} residuals are finite"
        msg = f"fit_mixed_effects needs at least {_MIN_RECORDS} finite residuals; {what} (of {r.size})."
        raise ValueError(msg)
    events = _as_ids(event_ids, r.size, "event_ids")
    stations = None if station_ids is None else _as_ids(station_ids, r.size, "station_ids")
    return r, events, stations


def fit_mixed_effects(
    residuals: np.ndarray,
    event_ids: Any,
    station_ids: Any | None = None,
    *,
    max_iter: int = 200,
    tol: float = 1e-6,
    method: str = "reml",
) -> MixedEffectsResult:
    """Split residuals into between-event, site-to-site and single-station parts.

    Fits ``r_i = c + dB_e(i) + dS2S_s(i) + dWS_i`` with independent normal
    random effects by maximum likelihood (``method="ml"``) or restricted
    maximum likelihood (``method="reml"``, the default, which accounts for the
    estimated bias ``c`` and gives the unbiased variance estimates of standard
    mixed-model software). The event and station terms are the conditional
    modes (BLUPs) at the fitted variances.

    Parameters
    ----------
    residuals
        Total residuals ``ln(obs) - ln(predicted)``, shape (n_rows,). NaN rows
        are dropped (their count is ``n_dropped``).
    event_ids
        Event id of each row, shape (n_rows,), any hashable values.
    station_ids
        Station id of each row, shape (n_rows,); None fits event terms only,
        giving ``phi_s2s = 0`` and ``phi = phi_ss``.
    max_iter
        Maximum number of optimiser iterations.
    tol
        Convergence tolerance: the optimiser stops when the profiled deviance
        per record changes by less than ``tol`` (relative to ``max(1, |value|)``)
        or its projected gradient falls below ``tol``.
    method
        ``"reml"`` or ``"ml"``.

    Returns
    -------
    MixedEffectsResult
        Bias, standard deviations, terms and diagnostics.

    Raises
    ------
    ValueError
        If the inputs differ in length, residuals are not 1-D or contain
        infinities, fewer than 3 residuals are finite, an id is missing, or a
        parameter is out of range.

    Notes
    -----
    Events or stations with a single record are allowed; their terms shrink
    towards zero as the likelihood dictates. A factor that cannot be told
    apart from the bias or the noise (a single event or station, or one
    record per event or per station) is left out of the fit: its standard
    deviation is NaN, its terms are 0.0 and its variance is absorbed in the
    bias or in ``phi_ss``; ``phi`` and ``sigma`` then sum the finite
    components only.

    Writing ``lambda`` for the relative standard deviations (``tau / phi_ss``,
    ``phi_s2s / phi_ss``), the profiled deviance (Bates et al., 2015, eqs. 34
    and 41) is minimised over ``0 <= lambda <= 1000`` with L-BFGS-B; ``c`` and
    ``phi_ss`` follow in closed form at each ``lambda``.
    """
    r, events, stations = _validate(residuals, event_ids, station_ids, max_iter, tol, method)
    keep = np.isfinite(r)
    y = r[keep]
    factors = [_encode(events[keep], "event_ids", "event_id")]
    if stations is not None:
        factors.append(_encode(stations[keep], "station_ids", "station_id"))
    # identifiable factors only; the larger goes first, eliminated through its diagonal block
    active = [j for j, (_, index) in enumerate(factors) if 1 < len(index) < y.size]
    order = sorted(active, key=lambda j: -len(factors[j][1]))
    problem = _CrossedProblem(
        y, [factors[j][0] for j in order], [len(factors[j][1]) for j in order], reml=method == "reml"
    )
    x, n_iter, converged = _optimise(problem, len(order), max_iter, tol)
    sol = problem.solve(x)
    lam = np.full(len(factors), np.nan)  # (events, stations) order; NaN for a factor left out
    effects = [np.zeros(len(index)) for _, index in factors]
    for k, j in enumerate(order):
        lam[j] = x[k]
        effects[j] = sol.effects[k]
    within = np.full(r.size, np.nan)
    within[keep] = y - sol.beta - sum(b[codes] for b, (codes, _) in zip(effects, factors, strict=True))
    return _assemble(
        sol,
        lam,
        effects,
        [index for _, index in factors],
        within,
        n_dropped=int(r.size - y.size),
        n_iter=n_iter,
        converged=converged,
        method=method,
    )


def _optimise(problem: _CrossedProblem, k: int, max_iter: int, tol: float) -> tuple[np.ndarray, int, bool]:
    """Minimise the profiled deviance over ``k`` relative standard deviations."""
    if k == 0:
        return np.zeros(0), 0, True
    res = optimize.minimize(
        problem.objective,
        x0=np.ones(k),
        method="L-BFGS-B",
        bounds=[(0.0, _MAX_RATIO)] * k,
        options={"maxiter": max_iter, "ftol": tol, "gtol": tol},
    )
    return np.asarray(res.x, dtype=float), int(res.nit), bool(res.success)


def _assemble(
    sol: _Solution,
    lam: np.ndarray,
    effects: list[np.ndarray],
    indexes: list[pd.Index],
    within: np.ndarray,
    *,
    n_dropped: int,
    n_iter: int,
    converged: bool,
    method: str,
) -> MixedEffectsResult:
    """Build the result from the solution at the optimum (factors in (events, stations) order)."""
    n = int(np.isfinite(within).sum())
    phi_ss = float(np.sqrt(sol.r2 / (n - 1 if method == "reml" else n)))
    tau = float(lam[0]) * phi_ss
    phi_s2s = float(lam[1]) * phi_ss if len(lam) == 2 else 0.0
    if len(indexes) == 2:
        station_terms = pd.Series(effects[1], index=indexes[1], name="dS2S")
    else:
        station_terms = pd.Series([], index=pd.Index([], name="station_id"), name="dS2S", dtype=float)
    phi = float(np.sqrt(np.nansum([phi_s2s**2, phi_ss**2])))
    return MixedEffectsResult(
        bias=sol.beta,
        tau=tau,
        phi_s2s=phi_s2s,
        phi_ss=phi_ss,
        phi=phi,
        sigma=float(np.sqrt(np.nansum([tau**2, phi**2]))),
        event_terms=pd.Series(effects[0], index=indexes[0], name="dB"),
        station_terms=station_terms,
        within=within,
        n_records=n,
        n_events=len(indexes[0]),
        n_stations=len(indexes[1]) if len(indexes) == 2 else 0,
        n_dropped=n_dropped,
        n_iter=n_iter,
        converged=converged,
        loglik=-0.5 * sol.deviance,
        method=method,
    )
