"""Ensembles of spatially correlated ground-motion fields, unconditioned or conditioned on stations.

Conditioned fields follow Engler et al. (2022): the conditioned mean, plus a
between-event part ``C h`` with ``h ~ N(0, cov_H)`` (``C = tau_Y e - S_YD S_DD^-1 T_D``),
plus a conditioned within-event part drawn by *conditioning by kriging*:
an unconditional within-event field ``W`` on sites and stations jointly, then
``W_Y - S_YD S_DD^-1 W_D``, whose covariance is exactly
``S_YY - S_YD S_DD^-1 S_DY``. Realisations are drawn in chunks (``chunk``
fields at a time); the joint site covariance needs one Cholesky factor, so
the number of sites x IMTs is limited to :data:`MAX_UNKNOWNS`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gmlearn.gmpe.base import as_imts, imt_seed
from gmlearn.shakemap.conditioning import JITTER, condition, prepare
from gmlearn.shakemap.correlation import CorrelationModel, great_circle_km
from gmlearn.shakemap.errors import ShakemapError

__all__ = ["simulate_fields", "MAX_UNKNOWNS"]

#: Largest (sites x IMTs) + observations for which fields are simulated (one dense Cholesky factor).
MAX_UNKNOWNS = 12_000


def _joint_within_cov(lon: np.ndarray, lat: np.ndarray, imt_idx: np.ndarray, phi: np.ndarray,
                      ranges: np.ndarray, cross: np.ndarray) -> np.ndarray:
    h = great_circle_km(lon, lat, lon, lat)
    b = np.maximum(ranges[imt_idx][:, None], ranges[imt_idx][None, :])
    cov = np.exp(-3.0 * h / b)
    cov *= cross[imt_idx[:, None], imt_idx[None, :]]
    cov *= phi[:, None] * phi[None, :]
    return cov


def _factor(cov: np.ndarray) -> np.ndarray:
    """Cholesky factor; eigenvalues are clipped when the Markov cross-IMT product is not positive definite."""
    from scipy.linalg import cholesky

    scale = float(np.mean(np.diag(cov)))
    cov = cov.copy()
    cov[np.diag_indices_from(cov)] += JITTER * scale
    try:
        return cholesky(cov, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(cov)
        return v * np.sqrt(np.maximum(w, JITTER * scale))


def _normals(base_seed: int, start: int, m: int, n_w: int, n_h: int, n_n: int) -> tuple[np.ndarray, ...]:
    """Standard normals of fields ``start .. start + m``: field ``j`` has its own stream, so chunking changes nothing."""
    z_w, z_h, z_n = np.empty((n_w, m)), np.empty((n_h, m)), np.empty((n_n, m))
    for col in range(m):
        rng = np.random.default_rng([base_seed, start + col])
        z_w[:, col] = rng.standard_normal(n_w)
        z_h[:, col] = rng.standard_normal(n_h)
        z_n[:, col] = rng.standard_normal(n_n)
    return z_w, z_h, z_n


def simulate_fields(
    rupture: Any,
    sites: Any,
    model: Any,
    imts: str | Sequence[str],
    n_fields: int,
    stations: Any = None,
    *,
    seed: int = 0,
    correlation: CorrelationModel | None = None,
    chunk: int = 100,
    obs_sigma: float = 0.0,
    tectonic_region: str = "crustal",
) -> Any:
    """Draw ``n_fields`` correlated ground-motion fields (ln units) at the sites.

    Parameters
    ----------
    rupture, sites, model, imts
        As for :func:`gmlearn.shakemap.compute_shakemap`.
    n_fields
        Number of realisations.
    stations
        Station table to condition on (all observed IMTs jointly), or None.
    seed
        Random seed; the same seed gives the same fields, whatever ``chunk`` (field ``j`` has its own random stream).
    correlation
        :class:`CorrelationModel`.
    chunk
        Realisations drawn per batch (memory ``chunk x sites x IMTs``).

    Returns
    -------
    xarray.DataArray
        ``ln_gm`` with dims ``(field, imt, site)`` and coords ``lon``, ``lat``
        per site; attrs give the seed and whether it is conditioned.

    Raises
    ------
    ShakemapError
        If sites x IMTs (+ observations) exceed :data:`MAX_UNKNOWNS`, or ``n_fields < 1``.
    """
    import xarray as xr

    from gmlearn.shakemap.scenario import _context, _station_inputs, predict_sites

    names = as_imts(imts)
    if int(n_fields) < 1:
        msg = f"The 'n_fields' parameter must be >= 1. Got {n_fields!r} instead."
        raise ShakemapError(msg)
    corr = correlation or CorrelationModel()
    sta = _station_inputs(stations, sites, "use", names) if stations is not None else None
    n_obs = 0 if sta is None else int(np.isfinite(sta[sta.attrs["imts"]].to_numpy(float)).sum())
    n_unknown = len(sites) * len(names) + n_obs
    if n_unknown > MAX_UNKNOWNS:
        msg = (f"{len(sites)} sites x {len(names)} IMTs + {n_obs} observations = {n_unknown} unknowns; simulated "
               f"fields are limited to {MAX_UNKNOWNS}. Use a coarser grid or fewer IMTs.")
        raise ShakemapError(msg)
    prior = predict_sites(model, _context(rupture, sites.frame, tectonic_region), names)
    lon, lat = sites.frame["lon"].to_numpy(float), sites.frame["lat"].to_numpy(float)
    n, n_t = len(lon), len(names) * len(lon)
    idx_t = np.repeat(np.arange(len(names)), n)
    cond = None
    if sta is not None:
        obs = sta.attrs["imts"]
        sta_pred = predict_sites(model, _context(rupture, sta, tectonic_region), obs)
        cond = prepare(sta["lon"].to_numpy(), sta["lat"].to_numpy(), sta[obs].to_numpy(float).T, obs,
                       sta_pred.mean, sta_pred.tau, sta_pred.phi, names, correlation=corr, obs_sigma=obs_sigma)
    # joint within-event covariance of (sites x IMTs) and, when conditioning, the observations
    if cond is None:
        mean, imts_all = prior.mean, list(names)
        ranges, cross, cov_h = corr.ranges(names), corr.within_cross(names), corr.between_cross(names)
        lon_all, lat_all, idx_all, phi_all = np.tile(lon, len(names)), np.tile(lat, len(names)), idx_t, prior.phi.ravel()
    else:
        mean = condition(cond, lon, lat, prior.mean, prior.tau, prior.phi)["mean"]
        imts_all, ranges, cross, cov_h = list(cond.imts), cond.ranges, cond.within_cross, cond.cov_h
        lon_all = np.concatenate([np.tile(lon, len(names)), cond.obs_lon])
        lat_all = np.concatenate([np.tile(lat, len(names)), cond.obs_lat])
        idx_all = np.concatenate([idx_t, cond.obs_imt])
        phi_all = np.concatenate([prior.phi.ravel(), cond.obs_phi])
    cov_w = _joint_within_cov(lon_all, lat_all, idx_all, phi_all, ranges, cross)
    chol_w, chol_h = _factor(cov_w), _factor(cov_h)
    cm = np.zeros((n_t, len(imts_all)))  # between-event scaling C: tau_Y e, less A T_D when conditioned
    cm[np.arange(n_t), idx_t] = prior.tau.ravel()
    a = None
    if cond is not None:
        from scipy.linalg import solve_triangular

        # kriging weights A = S_YD S_DD^-1, shape (n_t, n_obs)
        a = solve_triangular(cond.chol, solve_triangular(cond.chol, cov_w[:n_t, n_t:].T, lower=True), lower=True,
                             trans="T").T
        t_d = np.zeros((cond.n_obs, len(imts_all)))
        t_d[np.arange(cond.n_obs), cond.obs_imt] = cond.obs_tau
        cm -= a @ t_d
    base_seed = imt_seed(seed, "|".join(names))
    fields = np.empty((int(n_fields), len(names), n))
    for start in range(0, int(n_fields), max(int(chunk), 1)):
        m = min(max(int(chunk), 1), int(n_fields) - start)
        z_w, z_h, z_n = _normals(base_seed, start, m, chol_w.shape[1], chol_h.shape[1], 0 if cond is None else cond.n_obs)
        w = chol_w @ z_w  # (n_t [+ n_obs], m)
        within = w[:n_t]
        if cond is not None:
            within = within - a @ (w[n_t:] + cond.obs_noise[:, None] * z_n)
        fields[start:start + m] = (mean.reshape(-1, 1) + cm @ (chol_h @ z_h) + within).T.reshape(m, len(names), n)
    return xr.DataArray(fields, dims=("field", "imt", "site"), name="ln_gm",
                        coords={"imt": names, "lon": ("site", lon), "lat": ("site", lat)},
                        attrs={"seed": int(seed), "conditioned": int(cond is not None),
                               "units": "ln(g) for PGA/SA, ln(cm/s) for PGV"})
