"""Regional transfer: adapt a model pretrained on a source region to a target region.

With a few recorded target events, :func:`fit_region_terms` estimates region
terms for each IMT,

.. math::

    \\ln y_{ij} - \\mu_{ij} = \\beta_0 + \\beta_1 \\frac{R_{ij} - R_{ref}}{100} +
    \\beta_2 \\ln\\frac{V_{S30,j}}{760} + \\eta_i + \\epsilon_{ij},

a constant, an anelastic-attenuation adjustment and a vs30-scaling adjustment on
top of the source model's mean ``μ``, with the source model's between-event
(``η ~ N(0, τ²)``) and within-event (``ε ~ N(0, φ²)``) variability. The
coefficients have zero-mean normal priors (:data:`PRIOR_SD`): with one or three
events the posterior stays close to the source model, and it moves towards
what the target data say as events accumulate (Bayesian shrinkage towards the
source, the analytic normal-normal posterior; no sampling). The event terms
are integrated out, so one well-recorded event cannot pass for a regional
offset.

:class:`AdaptedModel` wraps any gmlearn model (learned or an OpenQuake GMPE)
with the posterior-mean terms; its sigma adds the posterior standard deviation
of the adjustment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gmlearn.exceptions import ModelError
from gmlearn.gmpe.base import GroundMotionModel, as_imts
from gmlearn.gmpe.prediction import Prediction

__all__ = ["PRIOR_SD", "TERMS", "REFERENCE_DISTANCE_KM", "fit_region_terms", "region_design", "AdaptedModel", "adapt"]

#: Region terms and the prior standard deviation of each coefficient (ln units;
#: per 100 km for the anelastic term; per ln unit of vs30/760 for the site term):
#: the size of the regional adjustments published GMPEs carry (NGA-West2 regional
#: constants and anelastic terms of a few tenths of a ln unit).
PRIOR_SD: dict[str, float] = {"constant": 0.3, "anelastic": 0.2, "vs30": 0.2}
TERMS: tuple[str, ...] = tuple(PRIOR_SD)
#: Distance at which the anelastic adjustment is zero (km).
REFERENCE_DISTANCE_KM = 50.0


def region_design(table: pd.DataFrame) -> np.ndarray:
    """Design matrix of the region terms, shape (n_rows, 3): constant, (R - 50 km)/100, ln(vs30/760).

    ``R`` is ``rrup`` when the table has it, else ``rjb``.
    """
    dist_col = "rrup" if "rrup" in table else "rjb"
    if dist_col not in table or "vs30" not in table:
        msg = f"Region terms need 'vs30' and 'rrup' (or 'rjb'); the table has {list(map(str, table.columns))}."
        raise ModelError(msg)
    r = pd.to_numeric(table[dist_col]).to_numpy(dtype=float)
    vs30 = pd.to_numeric(table["vs30"]).to_numpy(dtype=float)
    return np.column_stack([np.ones(len(table)), (r - REFERENCE_DISTANCE_KM) / 100.0, np.log(vs30 / 760.0)])


def fit_region_terms(residuals: np.ndarray, events: Sequence[Any], design: np.ndarray, tau: float, phi: float,
                     prior_sd: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and covariance of the region coefficients.

    Parameters
    ----------
    residuals
        ``ln obs - ln source mean``, shape (n,); NaN rows are dropped.
    events
        Event id per row, shape (n,).
    design
        :func:`region_design` rows, shape (n, p).
    tau, phi
        Between- and within-event standard deviations of the source model.
    prior_sd
        Prior standard deviation per coefficient, shape (p,).

    Returns
    -------
    mean, cov
        Shapes (p,) and (p, p).
    """
    r = np.asarray(residuals, dtype=float)
    x = np.asarray(design, dtype=float)
    ev = np.asarray(events, dtype=object)
    ok = np.isfinite(r) & np.all(np.isfinite(x), axis=1)
    r, x, ev = r[ok], x[ok], ev[ok]
    prior = np.asarray(prior_sd, dtype=float)
    precision = np.diag(1.0 / prior**2)
    rhs = np.zeros(x.shape[1])
    phi2, tau2 = max(float(phi), 1e-3) ** 2, max(float(tau), 0.0) ** 2
    for e in pd.unique(ev):
        rows = ev == e
        xe, re = x[rows], r[rows]
        n = int(rows.sum())
        shrink = tau2 / (phi2 + n * tau2)  # V_e^-1 = (I - shrink 11') / phi^2
        sx, sr = xe.sum(axis=0), re.sum()
        precision += (xe.T @ xe - shrink * np.outer(sx, sx)) / phi2
        rhs += (xe.T @ re - shrink * sx * sr) / phi2
    cov = np.linalg.inv(precision)
    return cov @ rhs, cov


class AdaptedModel(GroundMotionModel):
    """A source model plus region terms fitted on target-region records (:func:`adapt`).

    Attributes
    ----------
    source
        The wrapped model.
    terms_
        IMT -> ``{"mean": [...], "cov": [[...]], "n_events": int, "n_records": int}``.
    """

    def __init__(self, source: Any, prior_sd: Mapping[str, float] | None = None) -> None:
        self.source = source
        self.prior_sd = prior_sd

    @property
    def required_features(self) -> tuple[str, ...]:  # type: ignore[override]
        """The source model's columns plus vs30 and a distance."""
        return tuple(dict.fromkeys([*getattr(self.source, "required_features", ()), "vs30"]))

    def fit(self, table: pd.DataFrame, imts: str | Iterable[str] | None = None) -> AdaptedModel:
        """Fit the region terms on target records ``table`` (ln IMT columns, ``event_id``); return ``self``."""
        import warnings

        names = as_imts(imts) if imts is not None else list(getattr(self.source, "imts_", []))
        if not names:
            msg = "AdaptedModel.fit needs the IMTs to adapt (the source model lists none)."
            raise ModelError(msg)
        missing = [c for c in [*names, "event_id"] if c not in table]
        if missing:
            msg = f"Adapting needs column(s) {missing} in the target table; it has {list(map(str, table.columns))}."
            raise ModelError(msg)
        sd = {**PRIOR_SD, **dict(self.prior_sd or {})}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = self.source.predict(table, names)
        design = region_design(table)
        events = table["event_id"].astype(str).to_numpy()
        self.terms_: dict[str, dict[str, Any]] = {}
        for k, imt in enumerate(names):
            resid = pd.to_numeric(table[imt]).to_numpy(dtype=float) - pred.mean[k]
            ok = np.isfinite(resid)  # an IMT without records keeps the prior: no adjustment
            mean, cov = fit_region_terms(resid, events, design, float(np.nanmean(pred.tau[k])),
                                         float(np.nanmean(pred.phi[k])), [sd[t] for t in TERMS])
            self.terms_[imt] = {"mean": mean.tolist(), "cov": cov.tolist(),
                                "n_events": int(np.unique(events[ok]).size), "n_records": int(ok.sum())}
        self.imts_ = names
        return self

    def predict(self, table: pd.DataFrame, imts: str | Iterable[str] | None = None, **kwargs: Any) -> Prediction:
        """Source prediction plus the region terms; sigma adds their posterior standard deviation."""
        if not hasattr(self, "terms_"):
            msg = "This AdaptedModel is not fitted yet; call fit(target_table, imts) or model.adapt(target_table)."
            raise ModelError(msg)
        names = self.imts_ if imts is None else as_imts(imts)
        unknown = [i for i in names if i not in self.terms_]
        if unknown:
            msg = f"AdaptedModel was adapted for {self.imts_}; cannot predict {unknown}."
            raise ModelError(msg)
        pred = self.source.predict(table, names, **kwargs)
        design = region_design(table)
        mean = pred.mean.copy()
        sigma = pred.sigma.copy()
        for k, imt in enumerate(names):
            term = self.terms_[imt]
            beta, cov = np.asarray(term["mean"]), np.asarray(term["cov"])
            mean[k] += design @ beta
            sigma[k] = np.sqrt(sigma[k] ** 2 + np.einsum("ij,jk,ik->i", design, cov, design))
        return Prediction(pred.imts, mean, pred.tau, pred.phi, sigma)


def adapt(model: Any, table: pd.DataFrame, imts: str | Iterable[str] | None = None, *,
          prior_sd: Mapping[str, float] | None = None) -> AdaptedModel:
    """Adapt ``model`` to the target-region records in ``table``; returns a fitted :class:`AdaptedModel`."""
    return AdaptedModel(model, prior_sd).fit(table, imts)
