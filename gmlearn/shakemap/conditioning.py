"""Conditioning a ground-motion model on station observations (Engler et al., 2022).

The model gives, at stations (``D``) and target sites (``Y``), the ln mean
``mu``, between-event ``tau`` and within-event ``phi``. A residual is
``zeta = tau * H + W``: ``H`` is the normalised between-event residual, one
per IMT, correlated across IMTs, and ``W`` the within-event residual with
spatial and cross-IMT correlation (:class:`CorrelationModel`). Given the
observed residuals ``zeta_D`` (Engler et al. 2022, appendix B; the
equations of OpenQuake's ``conditioned_gmfs`` and ShakeMap 4):

- ``H | zeta_D ~ N(mu_H, cov_H)`` with
  ``cov_H = (R_B^-1 + T_D' S_DD^-1 T_D)^-1`` and ``mu_H = cov_H T_D' S_DD^-1 zeta_D``
  (the between-event bias and its uncertainty);
- conditioned mean ``mu_Y + tau_Y mu_H + S_YD S_DD^-1 (zeta_D - T_D mu_H)``;
- conditioned within-event variance ``phi_Y^2 - diag(S_YD S_DD^-1 S_DY)``;
- conditioned between-event variance ``diag(C cov_H C')``, ``C = tau_Y e - S_YD S_DD^-1 T_D``.

Only the diagonal of the conditional covariance is formed: one Cholesky
factor of the station matrix ``S_DD`` (n_obs x n_obs), then one triangular
solve per block of target sites, so memory is O(block x n_obs) and 100 000
sites never build a 100 000 x 100 000 matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from gmlearn.shakemap.correlation import CorrelationModel, great_circle_km
from gmlearn.shakemap.errors import ShakemapError

__all__ = ["Conditioner", "prepare", "condition", "nearest_correlation", "JITTER", "EIGEN_FLOOR"]

#: Relative nugget added to the station within-event variances (keeps co-located stations factorisable).
JITTER = 1e-6
#: Smallest eigenvalue, relative to the largest, kept in a multi-IMT station correlation matrix.
EIGEN_FLOOR = 1e-3


@dataclass(frozen=True)
class Conditioner:
    """Station-side factorisation, reused for any number of target sites.

    Attributes
    ----------
    imts
        All IMTs involved: the targets first, then observed IMTs not targeted.
    obs_lon, obs_lat, obs_imt, obs_tau, obs_phi, residual
        One entry per finite observation (station x IMT), shape (n_obs,);
        ``obs_imt`` indexes ``imts``; ``residual`` is ``ln(obs) - mu``.
    chol
        Lower Cholesky factor of the within-event station covariance, (n_obs, n_obs).
    g
        ``chol^-1 T_D``, shape (n_obs, n_imts).
    beta
        ``chol^-1 (zeta_D - T_D mu_H)``, shape (n_obs,).
    mu_h, cov_h
        Posterior mean (n_imts,) and covariance (n_imts, n_imts) of the
        normalised between-event residual.
    ranges, within_cross
        JB2009 ranges (km) and within-event cross-IMT correlation of ``imts``.
    """

    imts: tuple[str, ...]
    obs_lon: np.ndarray
    obs_lat: np.ndarray
    obs_imt: np.ndarray
    obs_tau: np.ndarray
    obs_phi: np.ndarray
    residual: np.ndarray
    chol: np.ndarray = field(repr=False)
    g: np.ndarray = field(repr=False)
    beta: np.ndarray = field(repr=False)
    mu_h: np.ndarray = field(repr=False)
    cov_h: np.ndarray = field(repr=False)
    ranges: np.ndarray = field(repr=False)
    within_cross: np.ndarray = field(repr=False)
    obs_noise: np.ndarray = field(repr=False)

    @property
    def n_obs(self) -> int:
        """Number of observations used (station x IMT pairs)."""
        return int(self.residual.size)

    def bias(self, tau: np.ndarray | None = None) -> dict[str, dict[str, float]]:
        """Between-event bias per IMT in ln units: ``{imt: {"mean", "sd", "normalised_mean", "normalised_sd"}}``.

        ``tau`` (n_imts,) scales the normalised residual; default: the mean
        ``tau`` of the observations of each IMT (NaN for an unobserved IMT).
        """
        out = {}
        for k, imt in enumerate(self.imts):
            sel = self.obs_imt == k
            t = float(tau[k]) if tau is not None else (float(self.obs_tau[sel].mean()) if sel.any() else float("nan"))
            sd = float(np.sqrt(max(self.cov_h[k, k], 0.0)))
            out[imt] = {"mean": t * float(self.mu_h[k]), "sd": t * sd,
                        "normalised_mean": float(self.mu_h[k]), "normalised_sd": sd}
        return out

    def _within_cov(self, h: np.ndarray, phi: np.ndarray, k: int) -> np.ndarray:
        """Within-event covariance of target sites (IMT ``imts[k]``, std ``phi``) with the observations, (m, n_obs).

        ``h`` holds the site-observation distances (km), shape (m, n_obs); it is overwritten.
        """
        b = np.maximum(self.ranges[k], self.ranges[self.obs_imt])
        coef = self.within_cross[k, self.obs_imt] * self.obs_phi
        h *= -3.0 / b
        np.exp(h, out=h)
        h *= coef
        h *= phi[:, None]
        return h


def nearest_correlation(cov: np.ndarray, floor: float = EIGEN_FLOOR) -> np.ndarray:
    """Covariance with the same variances whose correlation matrix has eigenvalues >= ``floor`` x the largest.

    The Markov-type cross-IMT product (``rho_W(a, b) exp(-3h / max(b_a, b_b))``)
    is not always positive definite, and a near-singular matrix makes the
    kriging weights explode; clipping the eigenvalues of the correlation
    matrix (as OpenQuake's ``corr_clipped`` does) and restoring a unit
    diagonal keeps the system well conditioned.
    """
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    w, v = np.linalg.eigh(corr)
    lo = floor * float(w.max())
    if w.min() >= lo:
        return cov
    corr = (v * np.maximum(w, lo)) @ v.T
    d = np.sqrt(np.diag(corr))
    corr /= np.outer(d, d)
    return corr * np.outer(sd, sd)


def _observations(stations_lon, stations_lat, observed, obs_imts, mean, tau, phi, imts):  # noqa: ANN001, ANN202
    rows = []
    for a, imt in enumerate(obs_imts):
        vals = observed[a]
        ok = np.isfinite(vals)
        k = imts.index(imt)
        idx = np.flatnonzero(ok)
        rows.append((idx, np.full(idx.size, k), vals[ok] - mean[a, ok], tau[a, ok], phi[a, ok]))
    sta = np.concatenate([r[0] for r in rows])
    return (np.asarray(stations_lon, float)[sta], np.asarray(stations_lat, float)[sta],
            np.concatenate([r[1] for r in rows]), np.concatenate([r[2] for r in rows]),
            np.concatenate([r[3] for r in rows]), np.concatenate([r[4] for r in rows]))


def prepare(
    station_lon: np.ndarray,
    station_lat: np.ndarray,
    observed: np.ndarray,
    observed_imts: Sequence[str],
    prior_mean: np.ndarray,
    prior_tau: np.ndarray,
    prior_phi: np.ndarray,
    target_imts: Sequence[str],
    *,
    correlation: CorrelationModel | None = None,
    obs_sigma: float = 0.0,
) -> Conditioner:
    """Factorise the station covariance and estimate the between-event bias.

    Parameters
    ----------
    station_lon, station_lat
        Station coordinates (degrees), shape (n_sta,).
    observed
        ln observations, shape (n_obs_imts, n_sta); NaN = not observed.
    observed_imts
        IMT of each row of ``observed``.
    prior_mean, prior_tau, prior_phi
        Model prediction at the stations for ``observed_imts``, each (n_obs_imts, n_sta).
    target_imts
        IMTs to be mapped.
    correlation
        Correlation model (default :class:`CorrelationModel()`).
    obs_sigma
        Extra standard deviation of each observation (ln units), e.g. for
        converted or noisy data; 0 for recorded values.

    Raises
    ------
    ShakemapError
        If there is no finite observation, or the predictions hold NaN or a
        non-positive ``phi`` at an observation.
    """
    corr = correlation or CorrelationModel()
    observed = np.atleast_2d(np.asarray(observed, dtype=float))
    obs_imts = list(observed_imts)
    imts = list(dict.fromkeys([*target_imts, *obs_imts]))
    lon, lat, k, zeta, tau, phi = _observations(station_lon, station_lat, observed, obs_imts,
                                               np.atleast_2d(prior_mean), np.atleast_2d(prior_tau),
                                               np.atleast_2d(prior_phi), imts)
    if zeta.size == 0:
        msg = "No finite station observation to condition on."
        raise ShakemapError(msg)
    if not (np.isfinite(zeta).all() and np.isfinite(tau).all() and (phi > 0).all()):
        msg = "The model gave NaN means or non-positive phi at stations; check the station inputs (vs30, distances)."
        raise ShakemapError(msg)
    if not (np.isfinite(obs_sigma) and obs_sigma >= 0):
        msg = f"The 'obs_sigma' parameter must be >= 0 (ln units). Got {obs_sigma!r} instead."
        raise ShakemapError(msg)
    from scipy.linalg import cho_solve, cholesky, solve_triangular

    ranges = corr.ranges(imts)
    wc = corr.within_cross(imts)
    h = great_circle_km(lon, lat, lon, lat)
    s_dd = phi[:, None] * phi[None, :] * wc[k[:, None], k[None, :]] * np.exp(
        -3.0 * h / np.maximum(ranges[k][:, None], ranges[k][None, :]))
    if len(set(k.tolist())) > 1:
        s_dd = nearest_correlation(s_dd)
    noise = obs_sigma**2 + JITTER * phi**2
    s_dd[np.diag_indices_from(s_dd)] += noise
    chol = cholesky(s_dd, lower=True, check_finite=False)
    t_d = np.zeros((zeta.size, len(imts)))
    t_d[np.arange(zeta.size), k] = tau
    g = solve_triangular(chol, t_d, lower=True, check_finite=False)
    z = solve_triangular(chol, zeta, lower=True, check_finite=False)
    r_b = corr.between_cross(imts)
    prec = np.linalg.pinv(r_b) + g.T @ g
    cf = cholesky(prec, lower=True, check_finite=False)
    cov_h = cho_solve((cf, True), np.eye(len(imts)), check_finite=False)
    mu_h = cov_h @ (g.T @ z)
    beta = z - g @ mu_h
    return Conditioner(tuple(imts), lon, lat, k, tau, phi, zeta, chol, g, beta, mu_h, cov_h, ranges, wc, np.sqrt(noise))


def condition(
    cond: Conditioner,
    site_lon: np.ndarray,
    site_lat: np.ndarray,
    prior_mean: np.ndarray,
    prior_tau: np.ndarray,
    prior_phi: np.ndarray,
    prior_sigma: np.ndarray | None = None,
    *,
    block: int = 4096,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Conditioned mean and standard deviations at target sites.

    Parameters
    ----------
    cond
        From :func:`prepare`.
    site_lon, site_lat
        Target sites (degrees), shape (n,).
    prior_mean, prior_tau, prior_phi, prior_sigma
        Unconditioned prediction for the target IMTs (``cond.imts[:n_target]``),
        each shape (n_target, n). Extra variance in ``prior_sigma`` beyond
        ``tau**2 + phi**2`` (e.g. epistemic) is kept as is.
    block
        Sites per block (memory is about ``block * n_obs * 16`` bytes).
    progress
        Called as ``progress(done_sites, n_sites)`` after each block.

    Returns
    -------
    dict
        ``mean, tau, phi, sigma``, each (n_target, n), ln units.
    """
    from scipy.linalg import solve_triangular

    mean0 = np.atleast_2d(np.asarray(prior_mean, dtype=float))
    tau0 = np.atleast_2d(np.asarray(prior_tau, dtype=float))
    phi0 = np.atleast_2d(np.asarray(prior_phi, dtype=float))
    extra = np.zeros_like(mean0) if prior_sigma is None else np.maximum(
        np.atleast_2d(prior_sigma) ** 2 - tau0**2 - phi0**2, 0.0)
    n_t, n = mean0.shape
    if n_t > len(cond.imts) or tau0.shape != mean0.shape or phi0.shape != mean0.shape:
        msg = f"Prior arrays must be shaped (n_target_imts, n_sites); got {mean0.shape}, {tau0.shape}, {phi0.shape}."
        raise ShakemapError(msg)
    lon = np.asarray(site_lon, dtype=float)
    lat = np.asarray(site_lat, dtype=float)
    out = {name: np.empty((n_t, n)) for name in ("mean", "tau", "phi", "sigma")}
    for start in range(0, n, block):
        sl = slice(start, min(start + block, n))
        h = great_circle_km(lon[sl], lat[sl], cond.obs_lon, cond.obs_lat)
        for c in range(n_t):
            k_w = cond._within_cov(h if c == n_t - 1 else h.copy(), phi0[c, sl], c)
            w = solve_triangular(cond.chol, k_w.T, lower=True, check_finite=False)  # (n_obs, m)
            del k_w
            phi2 = np.maximum(phi0[c, sl] ** 2 - np.einsum("ij,ij->j", w, w), 0.0)
            cm = -(w.T @ cond.g)
            cm[:, c] += tau0[c, sl]
            tau2 = np.maximum(np.einsum("ij,jk,ik->i", cm, cond.cov_h, cm), 0.0)
            out["mean"][c, sl] = mean0[c, sl] + tau0[c, sl] * cond.mu_h[c] + w.T @ cond.beta
            out["tau"][c, sl] = np.sqrt(tau2)
            out["phi"][c, sl] = np.sqrt(phi2)
            out["sigma"][c, sl] = np.sqrt(tau2 + phi2 + extra[c, sl])
        if progress is not None:
            progress(sl.stop, n)
    return out
