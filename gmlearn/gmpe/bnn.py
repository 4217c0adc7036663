"""``bnn``: a Bayesian neural network with epistemic sigma on top of tau and phi.

The fixed effects of ln IM are one small network shared by all IMTs,

    f(x) = b_out + x A + tanh(x W_in + b_in) W_out,

on standardised, physically transformed inputs ``x`` (:data:`TRANSFORMS`),
with one output column per IMT. Its weights have Normal priors
(:data:`PRIORS`) and the likelihood is Normal with a learned noise scale per
IMT. The posterior is approximated by mean-field ADVI (default) or sampled
with NUTS (PyMC); only the saved draws are used at prediction, so a
prediction is deterministic and survives a save/load bit for bit.

As in :mod:`gmlearn.gmpe.mixed`, the aleatory variability comes from
:func:`~gmlearn.gmpe.mixed_effects.fit_mixed_effects`: tau, phi and phi_SS
from the residuals of ~20 % of the events that a first network never saw,
the bias and the event and station terms from the residuals of the network
fitted on all events. The epistemic standard deviation of a row is the
spread of the network over the posterior draws; the total is
``sigma = sqrt(tau**2 + phi**2 + epistemic**2)``.

References
----------
Blundell, C., Cornebise, J., Kavukcuoglu, K. and Wierstra, D. (2015).
Weight uncertainty in neural networks. ICML.

Kucukelbir, A., Tran, D., Ranganath, R., Gelman, A. and Blei, D. M. (2017).
Automatic differentiation variational inference. JMLR 18(14).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import MissingColumnError, ModelError
from gmlearn.gmpe.anchor import PhysicsAnchor, anchor_means, apply_policy, check_policy
from gmlearn.gmpe.base import (
    GroundMotionModel,
    add_station_terms,
    as_imts,
    check_features,
    check_station_mode,
    tectonic_region_type,
    training_ranges,
    warn_out_of_range,
)
from gmlearn.gmpe.mixed import event_validation_folds, variance_components
from gmlearn.gmpe.prediction import Prediction

__all__ = [
    "BayesianNNGMM", "DEFAULT_FEATURES", "METHODS", "PRIORS", "TRANSFORMS",
    "training_ranges", "transform_features", "warn_out_of_range",
]  # fmt: skip

#: Default features of the network.
DEFAULT_FEATURES: tuple[str, ...] = ("mag", "rrup", "vs30", "hypo_depth", "rake")

#: Allowed values of the ``method`` parameter.
METHODS: tuple[str, ...] = ("advi", "nuts")

#: Pseudo-depth (km) of the effective distance ``sqrt(r**2 + h**2)`` (near-source saturation).
NEAR_SOURCE_KM = 6.0


def _log_distance(r: np.ndarray) -> np.ndarray:
    """ln of the effective distance ``sqrt(r**2 + h**2)``: geometric spreading is linear in it."""
    return 0.5 * np.log(r**2 + NEAR_SOURCE_KM**2)


def _style_of_faulting(rake: np.ndarray) -> np.ndarray:
    """sin(rake): +1 reverse, -1 normal, 0 strike-slip (left and right lateral alike)."""
    return np.sin(np.radians(rake))


#: Input transform per feature: (formula, function of the raw column). Other features enter as they are.
TRANSFORMS: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "rrup": (f"ln sqrt(rrup^2 + {NEAR_SOURCE_KM:g}^2)", _log_distance),
    "rjb": (f"ln sqrt(rjb^2 + {NEAR_SOURCE_KM:g}^2)", _log_distance),
    "repi": (f"ln sqrt(repi^2 + {NEAR_SOURCE_KM:g}^2)", _log_distance),
    "rhypo": (f"ln sqrt(rhypo^2 + {NEAR_SOURCE_KM:g}^2)", _log_distance),
    "vs30": ("ln vs30", np.log),
    "z1pt0": ("ln(1 + z1pt0)", np.log1p),
    "z2pt5": ("ln(1 + z2pt5)", np.log1p),
    "rake": ("sin(rake)", _style_of_faulting),
}

#: Standard deviations of the Normal priors on standardised inputs and outputs
#: (``w_out``'s is divided by sqrt(hidden_units), so the prior output scale does not
#: grow with the width); ``noise`` is the HalfNormal scale of the per-IMT noise.
PRIORS: dict[str, float] = {"w_in": 1.0, "b_in": 1.0, "w_out": 1.0, "b_out": 1.0, "w_lin": 1.0, "noise": 1.0}

#: Posterior variables, in the order the network uses them.
WEIGHTS: tuple[str, ...] = ("w_in", "b_in", "w_out", "b_out", "w_lin", "noise")

#: Initial posterior standard deviation of every weight in ADVI (PyMC's default, 0.69, starts far off).
_ADVI_START_SIGMA = 0.1

#: Floats handled at once in prediction (draws x rows x hidden units).
_CHUNK = 4_000_000

_PARAM_RULES: dict[str, tuple[type, float, float]] = {
    "hidden_units": (int, 1, 256),
    "n_iter": (int, 1, 1_000_000),
    "learning_rate": (float, 1e-5, 1.0),
    "draws": (int, 2, 100_000),
    "tune": (int, 0, 100_000),
    "chains": (int, 1, 16),
    "validation_fraction": (float, 0.0, 0.5),
    "n_validation_splits": (int, 1, 10),
    "random_state": (int, 0, 2**32 - 1),
}


def transform_features(table: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """Physically transformed inputs, shape (n_rows, n_features), before standardisation.

    Each feature goes through its :data:`TRANSFORMS` entry (``ln`` of
    distances and vs30, ``sin`` of rake); other features are used as they are.

    Raises
    ------
    ValueError
        Where a transform is not finite (e.g. vs30 = 0), naming the column and value.
    """
    columns = []
    for name in features:
        raw = pd.to_numeric(table[name]).to_numpy(dtype=float)
        if name in TRANSFORMS:
            formula, function = TRANSFORMS[name]
            with np.errstate(divide="ignore", invalid="ignore"):
                values = function(raw)
            bad = ~np.isfinite(values) & np.isfinite(raw)
            if bad.any():
                msg = f"Column {name!r} has {int(bad.sum())} value(s) where {formula} is not finite, e.g. {raw[bad][0]:g}."
                raise ValueError(msg)
            raw = values
        columns.append(raw)
    return np.column_stack(columns) if columns else np.zeros((len(table), 0))


def _forward(x: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    """Network output per draw, shape (n_draws, n_rows, n_imts), standardised units.

    ``x`` is standardised, shape (n_rows, n_features); ``w`` holds the draws
    with a leading draw axis.
    """
    hidden = np.tanh(x @ w["w_in"] + w["b_in"][:, None, :])
    return hidden @ w["w_out"] + x @ w["w_lin"] + w["b_out"][:, None, :]


def _scale(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column centres and scales (NaN ignored; a constant column gets scale 1)."""
    center = np.nanmean(values, axis=0)
    scale = np.nanstd(values, axis=0)
    return center, np.where(scale > 0, scale, 1.0)


def _check_counts(y: np.ndarray, events: np.ndarray, names: Sequence[str]) -> None:
    """Raise ModelError unless every IMT column of ``y`` has 20 finite records of 5 events."""
    for k, imt in enumerate(names):
        ok = np.isfinite(y[:, k])
        if ok.sum() < 20 or np.unique(events[ok]).size < 5:
            msg = f"{imt}: {int(ok.sum())} records of {np.unique(events[ok]).size} events; need at least 20 records of 5 events."
            raise ModelError(msg)


class BayesianNNGMM(GroundMotionModel):
    """Bayesian neural-network fixed effects with event and station random effects.

    One network with a shared hidden layer and one output per IMT is fitted
    to all IMTs at once: spectral ordinates share their magnitude, distance
    and site scaling, so the hidden features are learned from every record
    and IMT (SA(3.0), with fewer usable records, borrows strength from the
    others), and one fit costs what one IMT would. A linear skip term
    ``x A`` carries the first-order trends (ln IM linear in M, ln R, ln
    Vs30), so the network extrapolates along them instead of flattening as
    tanh saturates, and its weight uncertainty makes the epistemic sigma grow
    away from the data (in CV it scored as well as a skip term without
    magnitude and better than none). Rows where an IMT is missing drop out of that IMT's
    likelihood only.

    Parameters
    ----------
    features
        Table columns used as inputs, transformed by :data:`TRANSFORMS` and
        standardised on the training rows.
    hidden_units
        Width of the hidden (tanh) layer. Eight scored best in event-grouped
        5-fold CV on NZSMD crustal records (summed RMS over PGA, PGV, SA(0.2),
        SA(1.0), SA(3.0): 3.60 with 8, 3.65 with 4, 3.74 with 16): the
        event-level inputs (mag, hypo_depth, rake) nearly identify the ~100
        training events, and a wider network starts to learn event terms.
    method
        ``"advi"``: mean-field variational inference (fast; like all
        mean-field methods it understates the posterior spread).
        ``"nuts"``: Hamiltonian Monte Carlo (slow: one chain of 300 + 300
        steps on ~2300 records takes about 80 s).
    n_iter
        ADVI iterations (Adam steps). 3000 reach the plateau of the ELBO on
        ~2300 records (a fit of 5 IMTs takes about 10 s on one core);
        15000 scored no better in CV.
    learning_rate
        Adam step size of ADVI.
    draws
        Posterior draws kept (per chain for NUTS); prediction cost grows with them.
    tune, chains
        NUTS tuning steps and chains (run one after the other).
    validation_fraction
        Share of events held out of a first fit; tau, phi and phi_SS come
        from the residuals of those events (training residuals understate
        them). 0 uses the training residuals.
    n_validation_splits
        Disjoint held-out sets (one network fit each), whose residuals are
        pooled. More sets steady the estimates at the cost of a fit each; 3
        did not improve CV coverage on NZSMD, so the default is 1.
    station_effects
        Fit station terms (dS2S). Without them phi_SS = phi.
    base
        Physics base (OpenQuake GSIM names or labels, ``"A+B"``, ``"auto"`` by
        tectonic region, or None): the network learns the residuals of the base,
        and the base anchors the model where the data end
        (:mod:`gmlearn.gmpe.anchor`). None learns ln IM from the data alone
        (the ``"auto"`` base still anchors it).
    extrapolation
        ``"base"`` (default), ``"warn"`` or ``"raise"`` outside the training
        domain (:mod:`gmlearn.gmpe.anchor`).
    random_state
        Seed of the held-out events, the initial weights, ADVI and the draws.

    Notes
    -----
    The held-out tau and phi come from a network fitted on fewer events
    and already hold the error of its mean on unseen events, so sigma errs
    on the high side (CV coverage of the 68 % interval about 0.71-0.76 on
    NZSMD crustal records, like the boosted models); adding the epistemic
    variance on top counts that error again, a small inflation inside the
    data (epistemic about 0.07 against phi about 0.65) and the intended
    growth outside it. Mean-field ADVI understates the epistemic spread
    away from the data: on NZSMD crustal records both methods give about
    0.07 inside, but at M 8.5 and 2 km, M 3.0, 600 km or Vs30 = 3000 m/s
    ADVI gives 0.08-0.11 where NUTS gives 0.15-0.24. Use
    ``method="nuts"`` where the epistemic part matters.

    Examples
    --------
    >>> from gmlearn.gmpe.bnn import BayesianNNGMM
    >>> model = BayesianNNGMM(random_state=0).fit(table, ["PGA", "SA(1.0)"])  # doctest: +SKIP
    >>> pred = model.predict(new_table)  # doctest: +SKIP
    >>> epistemic = model.predict_epistemic(new_table)  # doctest: +SKIP
    """

    def __init__(
        self,
        features: Sequence[str] = DEFAULT_FEATURES,
        *,
        hidden_units: int = 8,
        method: str = "advi",
        n_iter: int = 3000,
        learning_rate: float = 0.01,
        draws: int = 500,
        tune: int = 500,
        chains: int = 2,
        validation_fraction: float = 0.2,
        n_validation_splits: int = 1,
        station_effects: bool = True,
        base: str | Sequence[str] | None = "auto",
        extrapolation: str = "base",
        random_state: int = 0,
    ) -> None:
        self.features = features
        self.base = base
        self.extrapolation = extrapolation
        self.hidden_units = hidden_units
        self.method = method
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.validation_fraction = validation_fraction
        self.n_validation_splits = n_validation_splits
        self.station_effects = station_effects
        self.random_state = random_state

    @property
    def required_features(self) -> tuple[str, ...]:  # type: ignore[override]
        """Columns read from a table: the network's and, once fitted, the anchor's."""
        anchor = getattr(self, "anchor_", None)
        return tuple(dict.fromkeys([*self.features, *(anchor.required_features if anchor is not None else ())]))

    def _base_mean(self, table: pd.DataFrame, names: list[str]) -> np.ndarray:
        """ln mean of the base in the model's mean, shape (n_imts, n_rows); zero without a base."""
        if self.base is None or getattr(self, "anchor_", None) is None:  # models saved before anchors had no base
            return np.zeros((len(names), len(table)))
        return self.anchor_.ensemble.predict(table, names).mean

    # -- validation ------------------------------------------------------------------
    def _validate_params(self) -> None:
        cls = type(self).__name__
        for name, (kind, lo, hi) in _PARAM_RULES.items():
            value = getattr(self, name)
            ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            ok = ok and lo <= value <= hi and (kind is float or float(value).is_integer())
            if not ok:
                article = "an" if kind is int else "a"
                msg = f"The '{name}' parameter of {cls} must be {article} {kind.__name__} in [{lo:g}, {hi:g}]. Got {value!r} instead."
                raise ValueError(msg)
        if self.method not in METHODS:
            msg = f"The 'method' parameter of {cls} must be one of {list(METHODS)}. Got {self.method!r} instead."
            raise ValueError(msg)
        check_policy(self.extrapolation, cls)
        if not isinstance(self.station_effects, (bool, np.bool_)):
            msg = f"The 'station_effects' parameter of {cls} must be a bool. Got {self.station_effects!r} instead."
            raise ValueError(msg)
        feats = self.features
        if isinstance(feats, str) or not all(isinstance(f, str) for f in feats) or not feats or len(set(feats)) != len(feats):
            msg = f"The 'features' parameter of {cls} must be a non-empty sequence of distinct column names. Got {feats!r} instead."
            raise ValueError(msg)

    def _check_fitted(self) -> None:
        if not hasattr(self, "posterior_"):
            msg = f"This {type(self).__name__} is not fitted yet; call fit(table, imts) first."
            raise ModelError(msg)

    # -- fitting ---------------------------------------------------------------------
    def fit(self, table: pd.DataFrame, imts: str | Iterable[str], *,
            progress: Callable[[int, int, str], None] | None = None) -> "BayesianNNGMM":
        """Fit the network to all IMTs at once, then the random effects per IMT.

        Parameters
        ----------
        table
            Flat table with the features, ``event_id``, ``station_id`` (with
            ``station_effects``) and ln IMT columns.
        imts
            IMTs to learn; rows where an IMT is missing are skipped for it.
        progress
            Optional ``callable(step, total, message)``, called once per network fit.

        Returns
        -------
        self
        """
        self._validate_params()
        names = as_imts(imts)
        ids = ["event_id", "station_id"] if self.station_effects else ["event_id"]
        missing = [c for c in [*names, *ids] if c not in table.columns]
        if missing:
            msg = f"{type(self).__name__} needs column(s) {missing}; the table has {list(map(str, table.columns))}."
            raise MissingColumnError(msg)
        check_features(table, tuple(self.features), model=type(self).__name__)
        table = table.reset_index(drop=True)
        self.anchor_ = PhysicsAnchor.from_training(table, "auto" if self.base is None else self.base, tectonic_region_type(table))
        x = transform_features(table, self.features)
        y = np.column_stack([pd.to_numeric(table[i]).to_numpy(dtype=float) for i in names]) - self._base_mean(table, names).T
        events = table["event_id"].astype(str).to_numpy()
        stations = table["station_id"].astype(str).to_numpy() if self.station_effects else None
        _check_counts(y, events, names)
        folds = event_validation_folds(events, self.validation_fraction, int(self.n_validation_splits), int(self.random_state))
        total = len(folds) + 1
        resid = np.full_like(y, np.nan)  # residuals of events the network never saw
        for j, val in enumerate(folds):
            if progress is not None:
                progress(j, total, f"fitting the network without held-out events ({j + 1}/{len(folds)})")
            resid[val] = y[val] - self._network(self._fit_network(x[~val], y[~val], names), x[val])[0].T
        held_out = self._random_effects(resid, events, stations) if folds else None
        if progress is not None:
            progress(total - 1, total, "fitting the network on all events")
        self.posterior_ = self._fit_network(x, y, names)
        fitted = self._random_effects(y - self._network(self.posterior_, x)[0].T, events, stations)
        noise = self.posterior_.posterior["noise"].mean(("chain", "draw")).to_numpy() * self.posterior_.constant_data["y_scale"].to_numpy()
        self.effects_ = {imt: self._effects(fitted[k], None if held_out is None else held_out[k], float(noise[k]))
                         for k, imt in enumerate(names)}
        if progress is not None:
            progress(total, total, "fitted")
        self.imts_ = names
        self.ranges_ = training_ranges(table, self.features)
        self.tectonic_region_type_ = tectonic_region_type(table)
        self.n_features_in_ = len(self.features)
        return self

    def _fit_network(self, x: np.ndarray, y: np.ndarray, names: list[str]) -> Any:
        """Posterior of the network on raw inputs ``x`` (n, p) and ln IMs ``y`` (n, k); an InferenceData."""
        try:
            import arviz as az
            import pymc as pm
            import pytensor.tensor as pt
            import xarray as xr
        except ImportError as exc:
            msg = f"{type(self).__name__} needs PyMC and ArviZ; install them with: pip install 'gmlearn[bnn]' ({exc})."
            raise ModelError(msg) from exc

        x_center, x_scale = _scale(x)
        y_center, y_scale = _scale(y)
        xs, ys = (x - x_center) / x_scale, (y - y_center) / y_scale
        rows, cols = np.nonzero(np.isfinite(ys))
        n_hidden = int(self.hidden_units)
        seeds = np.random.default_rng(int(self.random_state)).integers(0, 2**31 - 1, size=3)
        init = np.random.default_rng(seeds[0])
        coords = {"feature": list(self.features), "hidden": np.arange(n_hidden), "imt": names}
        with pm.Model(coords=coords) as model:
            w = {
                "w_in": pm.Normal("w_in", 0.0, PRIORS["w_in"], dims=("feature", "hidden")),
                "b_in": pm.Normal("b_in", 0.0, PRIORS["b_in"], dims="hidden"),
                "w_out": pm.Normal("w_out", 0.0, PRIORS["w_out"] / np.sqrt(n_hidden), dims=("hidden", "imt")),
                "b_out": pm.Normal("b_out", 0.0, PRIORS["b_out"], dims="imt"),
                "w_lin": pm.Normal("w_lin", 0.0, PRIORS["w_lin"], dims=("feature", "imt")),
            }
            noise = pm.HalfNormal("noise", PRIORS["noise"], dims="imt")
            f = pt.tanh(xs @ w["w_in"] + w["b_in"]) @ w["w_out"] + xs @ w["w_lin"] + w["b_out"]
            pm.Normal("ln_im", mu=f[rows, cols], sigma=noise[cols], observed=ys[rows, cols])
            # distinct hidden units from the start (all-zero weights are a symmetric saddle)
            start = {"w_in": init.normal(0.0, 1.0, (xs.shape[1], n_hidden)), "b_in": init.normal(0.0, 1.0, n_hidden)}
            if self.method == "advi":
                approx = pm.fit(
                    n=int(self.n_iter), method="advi", random_seed=int(seeds[1]), start=start,
                    start_sigma={v.name: _ADVI_START_SIGMA for v in model.value_vars},
                    obj_optimizer=pm.adam(learning_rate=float(self.learning_rate)), progressbar=False,
                )
                idata = approx.sample(int(self.draws), random_seed=int(seeds[2]))
            else:
                idata = pm.sample(
                    draws=int(self.draws), tune=int(self.tune), chains=int(self.chains), cores=1,
                    random_seed=int(seeds[1]), initvals=start, progressbar=False, compute_convergence_checks=False,
                )
        constants = xr.Dataset(
            {"x_center": ("feature", x_center), "x_scale": ("feature", x_scale),
             "y_center": ("imt", y_center), "y_scale": ("imt", y_scale)},
            coords={"feature": list(self.features), "imt": names},
        )
        posterior = idata.posterior[list(WEIGHTS)].astype(float)
        return az.InferenceData(posterior=posterior, constant_data=constants)

    @staticmethod
    def _random_effects(resid: np.ndarray, events: np.ndarray, stations: np.ndarray | None) -> list[Any]:
        """One mixed-effects fit per IMT column of ``resid`` (n_rows, n_imts)."""
        from gmlearn.gmpe.mixed_effects import fit_mixed_effects

        return [fit_mixed_effects(resid[:, k], events, stations) for k in range(resid.shape[1])]

    @staticmethod
    def _effects(fit: Any, held_out: Any | None, noise: float) -> dict[str, Any]:
        """Variance components and terms of one IMT, as in the boosted models' ``effects_``."""
        return {
            **variance_components(fit, held_out),
            "noise": noise,
            "event_terms": fit.event_terms.astype(float),
            "station_terms": fit.station_terms.astype(float),
        }

    # -- prediction ------------------------------------------------------------------
    @staticmethod
    def _network(posterior: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over the draws of the network, each (n_imts, n_rows), ln units."""
        const = posterior.constant_data
        xs = (x - const["x_center"].to_numpy()) / const["x_scale"].to_numpy()
        w = {name: posterior.posterior[name].to_numpy() for name in WEIGHTS}
        w = {name: v.reshape(-1, *v.shape[2:]) for name, v in w.items()}  # (chain, draw) -> draw
        n_draws, n_hidden = w["w_in"].shape[0], w["w_in"].shape[-1]
        y_center, y_scale = const["y_center"].to_numpy(), const["y_scale"].to_numpy()
        mean = np.empty((len(y_center), len(xs)))
        std = np.empty_like(mean)
        step = max(1, _CHUNK // (n_draws * max(n_hidden, len(y_center))))
        for start in range(0, len(xs), step):
            f = y_center + y_scale * _forward(xs[start:start + step], w)
            mean[:, start:start + step] = f.mean(axis=0).T
            std[:, start:start + step] = f.std(axis=0).T
        return mean, std

    def _evaluate(self, table: pd.DataFrame, imts: str | Iterable[str] | None) -> tuple[list[str], np.ndarray, np.ndarray]:
        """IMTs, network mean and epistemic std (n_imts, n_rows) for the rows of ``table``."""
        self._check_fitted()
        names = self.imts_ if imts is None else as_imts(imts)
        unknown = [i for i in names if i not in self.imts_]
        if unknown:
            msg = f"{type(self).__name__} was fitted for {self.imts_}; cannot predict {unknown}."
            raise ModelError(msg)
        if len(table) == 0:
            return names, np.zeros((len(names), 0)), np.zeros((len(names), 0))
        check_features(table, self.required_features, model=type(self).__name__)
        mean, std = self._network(self.posterior_, transform_features(table, self.features))
        pick = [self.imts_.index(i) for i in names]
        return names, mean[pick] + self._base_mean(table, names), std[pick]

    def _learned(self, table: pd.DataFrame, names: list[str]) -> np.ndarray:
        """Posterior mean of ln IM with the bias, no anchoring, no station terms; shape (n_imts, n_rows)."""
        return self._evaluate(table, names)[1] + np.array([[self.effects_[i]["bias"]] for i in names])

    def predict_epistemic(self, table: pd.DataFrame, imts: str | Iterable[str] | None = None) -> np.ndarray:
        """Epistemic standard deviation of ln IM, shape (n_imts, n_rows).

        The standard deviation over the posterior draws of the network mean,
        in natural-log units; it grows away from the training data.
        """
        epistemic = self._evaluate(table, imts)[2]
        warn_out_of_range(table, self.ranges_, type(self).__name__, stacklevel=2)
        return epistemic

    def predict_branch(self, table: pd.DataFrame, imts: str | Iterable[str] | None = None, *,
                       z: float = 0.0, station_terms: str = "ergodic") -> Prediction:
        """One epistemic branch: the posterior mean shifted by ``z`` epistemic standard deviations.

        For logic trees (:func:`gmlearn.hazard.epistemic_branches`): the
        epistemic uncertainty is carried by the branches, so ``sigma`` is the
        aleatory ``sqrt(tau**2 + phi**2)`` only. The shift is applied row by
        row with :meth:`predict_epistemic`'s standard deviation, so a branch
        is a whole model, fully correlated across sites and magnitudes.
        """
        if not np.isfinite(z):
            msg = f"z must be a finite number of epistemic standard deviations; got {z!r}."
            raise ModelError(msg)
        return self._predict(table, imts, station_terms, z=float(z))

    def predict(self, table: pd.DataFrame, imts: str | Iterable[str] | None = None, *,
                station_terms: str = "ergodic") -> Prediction:
        """ln mean, tau, phi and sigma, each shaped (n_imts, n_rows).

        Parameters
        ----------
        table
            Rows to predict, with the model's features (and ``station_id`` for
            ``station_terms="known"``).
        imts
            IMTs (default: all fitted).
        station_terms
            ``"ergodic"``: no station term, phi is the full within-event phi.
            ``"known"``: add the fitted station term dS2S for stations seen in
            training and use phi_SS there (non-ergodic); other rows stay ergodic.

        Returns
        -------
        Prediction
            ``mean``: posterior predictive mean of ln IM plus the bias;
            ``tau``, ``phi``: aleatory; ``sigma = sqrt(tau**2 + phi**2 +
            epistemic**2)`` with the epistemic std of :meth:`predict_epistemic`.
        """
        return self._predict(table, imts, station_terms, z=None)

    def _predict(self, table: pd.DataFrame, imts: str | Iterable[str] | None, station_terms: str, *,
                 z: float | None) -> Prediction:
        """Posterior predictive (``z=None``: epistemic std inside sigma) or one branch (mean + z * epistemic)."""
        check_station_mode(station_terms, table)
        names, mean, epistemic = self._evaluate(table, imts)
        mean += np.array([[self.effects_[i]["bias"]] for i in names])
        anchor = getattr(self, "anchor_", None)
        policy = self.extrapolation if anchor is not None else "warn"
        foreign, base_pred = np.zeros(len(table), dtype=bool), None
        if len(table):
            outside, foreign = apply_policy(policy, anchor, table, type(self).__name__, self.ranges_, stacklevel=3)
            if policy == "base":
                base_pred = anchor_means(anchor, table, names, mean, outside, foreign, lambda rows: self._learned(rows, names))
                epistemic[:, foreign] = 0.0  # a new region: the base's own sigma below
        if z is not None:
            mean = mean + z * epistemic
        tau = np.empty_like(mean)
        phi = np.empty_like(mean)
        for k, imt in enumerate(names):
            eff = self.effects_[imt]
            tau[k] = eff["tau"]
            phi[k] = eff["phi"]
            if station_terms == "known":
                add_station_terms(mean[k], phi[k], eff, table)
        if base_pred is not None:
            tau[:, foreign], phi[:, foreign] = base_pred.tau, base_pred.phi
        var = tau**2 + phi**2 + (epistemic**2 if z is None else 0.0)
        return Prediction(tuple(names), mean, tau, phi, np.sqrt(var))

    # -- persistence hooks (see gmlearn.gmpe.persistence) -----------------------------
    def _save_arrays(self, folder: Path) -> dict[str, Any]:
        """Write the posterior draws (NetCDF) and the random-effect terms (Parquet) into ``folder``.

        Returns the metadata fields ``files`` (role -> file name) and
        ``effects`` (IMT -> JSON scalars).
        """
        self._check_fitted()
        self.posterior_.to_netcdf(str(folder / "posterior.nc"), engine="netcdf4")
        terms = []
        for imt in self.imts_:
            for kind in ("event", "station"):
                series = self.effects_[imt][f"{kind}_terms"]
                terms.append(pd.DataFrame({"imt": imt, "kind": kind, "id": series.index.astype(str), "term": series.to_numpy(dtype=float)}))
        pd.concat(terms, ignore_index=True).to_parquet(folder / "random_effects.parquet", index=False)
        scalars = {imt: {k: v for k, v in eff.items() if not k.endswith("_terms")} for imt, eff in self.effects_.items()}
        return {"files": {"posterior": "posterior.nc", "random_effects": "random_effects.parquet"}, "effects": scalars}

    def _load_arrays(self, folder: Path, meta: dict[str, Any]) -> None:
        """Restore ``posterior_`` and ``effects_`` from a folder written by :meth:`_save_arrays`."""
        import arviz as az
        import xarray as xr

        groups = {}
        for group in ("posterior", "constant_data"):
            with xr.open_dataset(folder / meta["files"]["posterior"], group=group, engine="netcdf4") as ds:
                groups[group] = ds.load()
        self.posterior_ = az.InferenceData(posterior=groups["posterior"], constant_data=groups["constant_data"])
        terms = pd.read_parquet(folder / meta["files"]["random_effects"])
        self.effects_ = {}
        for imt in meta["imts"]:
            eff = dict(meta["effects"][imt])
            for kind in ("event", "station"):
                sub = terms[(terms["imt"] == imt) & (terms["kind"] == kind)]
                eff[f"{kind}_terms"] = pd.Series(sub["term"].to_numpy(dtype=float), index=pd.Index(sub["id"].astype(str)), dtype=float)
            self.effects_[imt] = eff
