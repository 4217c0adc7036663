"""Mixed-effects machinery shared by gmlearn's regressors (MERF-style EM).

The model for ln IM of record i from event e at station s is

    y_i = base_i + w_i [f(x_i) + c] + dB_e + dS2S_s + dWS_i

with ``base`` a physics term (zero, or an OpenQuake GMPE for the hybrid),
``f`` a gradient-boosted fixed-effects learner, ``w`` a weight (one in
training; the hybrid fades it to zero outside the training range), ``c`` a bias and crossed random
effects fitted by :func:`gmlearn.gmpe.mixed_effects.fit_mixed_effects`. Fitting
alternates (Hajjem et al. 2014, "MERF"): fit ``f`` to ``y - base - c - dB - dS2S``,
then refit the random effects on ``y - base - w f``. With the default single
iteration the fixed-effects learner is the plain boosted fit and the random
effects add the bias, tau, phi, phi_SS and the station terms; more iterations
scored worse in event-grouped CV on NZSMD (the event terms absorb magnitude
scaling the learner then misses). Prediction is *ergodic*
(new sites: sigma = sqrt(tau^2 + phi^2)) unless ``station_terms="known"`` and the
station was seen in training, in which case its dS2S is added and phi becomes
phi_SS (*non-ergodic*).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import ModelError
from gmlearn.gmpe.anchor import (
    PhysicsAnchor,
    allowance_at,
    anchor_means,
    apply_policy,
    check_policy,
    magnitude_allowance,
)
from gmlearn.gmpe.base import (
    STATION_MODES,
    GroundMotionModel,
    add_station_terms,
    as_imts,
    check_features,
    check_station_mode,
    imt_seed,
    tectonic_region_type,
    training_ranges,
)
from gmlearn.gmpe.domain import TrainingDomain
from gmlearn.gmpe.imbalance import density_weights, pseudo_records
from gmlearn.gmpe.prediction import Prediction

__all__ = ["MixedEffectsBoostedModel", "DEFAULT_FEATURES", "DATA_ONLY_FEATURES", "STATION_MODES", "PHYSICAL_SCALING"]

#: Default features of the boosted models. ``rrup`` and ``ztor`` are left out: on a
#: rupture that grows with magnitude they first grow, then shrink (the top of a large
#: rupture reaches the surface), so a learner reading them cannot scale monotonically
#: with magnitude; the physics base reads them instead.
DEFAULT_FEATURES: tuple[str, ...] = ("mag", "rjb", "vs30", "z1pt0", "hypo_depth", "rake", "dip")

#: Features of the unconstrained data-only tree (``base=None, scaling="free"``), the default of earlier releases.
DATA_ONLY_FEATURES: tuple[str, ...] = ("mag", "rrup", "rjb", "vs30", "z1pt0", "hypo_depth", "ztor", "rake", "dip")

#: ``scaling="physical"``: ln IM rises with magnitude and hypocentral depth (deeper
#: sources of the same size radiate more high-frequency energy at the same distance)
#: and falls with every distance.
PHYSICAL_SCALING: dict[str, int] = {"mag": 1, "hypo_depth": 1, "rrup": -1, "rjb": -1, "repi": -1, "rhypo": -1}

#: Allowed values of ``scaling`` and ``sample_weight``.
SCALINGS: tuple[str, ...] = ("physical", "free")
SAMPLE_WEIGHTS: tuple[str | None, ...] = (None, "density")


_PARAM_RULES: dict[str, tuple[type, float, float]] = {
    "n_estimators": (int, 1, 100_000),
    "learning_rate": (float, 1e-4, 1.0),
    "max_depth": (int, 1, 16),
    "min_child_weight": (float, 0.0, 1e6),
    "subsample": (float, 0.05, 1.0),
    "colsample_bytree": (float, 0.05, 1.0),
    "validation_fraction": (float, 0.0, 0.5),
    "n_validation_splits": (int, 1, 10),
    "early_stopping_rounds": (int, 1, 100_000),
    "em_iterations": (int, 1, 50),
    "refit_factor": (float, 0.0, 10.0),
}


def event_validation_folds(groups: np.ndarray, fraction: float, n_splits: int, seed: int) -> list[np.ndarray]:
    """Disjoint validation sets of events, each about ``fraction`` of them.

    Returns up to ``n_splits`` boolean masks over rows; empty when there are
    too few events (fewer than two per validation set and training set).
    """
    uniq = np.unique(groups)
    k = max(2, int(round(1.0 / fraction))) if fraction > 0 else 0
    if k == 0 or uniq.size < 2 * k:
        return []
    perm = np.random.default_rng(seed).permutation(uniq)
    chunks = np.array_split(perm, k)
    return [np.isin(groups, chunk) for chunk in chunks[: max(1, min(n_splits, k))]]


def choose_rounds(x: np.ndarray, y: np.ndarray, folds: list[np.ndarray], params: dict[str, Any],
                  n_estimators: int, patience: int, *, weights: np.ndarray | None = None,
                  extra: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[int, np.ndarray]:
    """Early-stopped boosting rounds (median over folds) and out-of-fold residuals.

    ``weights`` weight the rows of ``x``; ``extra`` = (x, y, w) are pseudo-records
    added to every training fold (never to a validation set).

    Returns
    -------
    rounds
        Median of the best iteration counts.
    residuals
        ``y - prediction`` on each fold's validation rows from a learner that
        never saw them; NaN on rows in no validation set.
    """
    import xgboost as xgb

    best, resid = [], np.full(len(y), np.nan)
    w = np.ones(len(y)) if weights is None else weights
    for val in folds:
        es = xgb.XGBRegressor(n_estimators=n_estimators, early_stopping_rounds=patience, **params)
        xt, yt, wt = x[~val], y[~val], w[~val]
        if extra is not None:
            xt, yt, wt = np.vstack([xt, extra[0]]), np.concatenate([yt, extra[1]]), np.concatenate([wt, extra[2]])
        es.fit(xt, yt, sample_weight=wt, eval_set=[(x[val], y[val])], sample_weight_eval_set=[w[val]], verbose=False)
        best.append(es.best_iteration + 1)
        resid[val] = y[val] - es.predict(x[val])
    return int(np.median(best)), resid


def variance_components(fit: Any, held_out: Any | None) -> dict[str, Any]:
    """Bias and sigma entries of a model's ``effects_`` for one IMT.

    ``fit`` is the mixed-effects fit of the training residuals, ``held_out``
    that of residuals on events the learner never saw (or None). tau, phi,
    phi_SS and phi_S2S come from the held-out fit when it has a finite tau;
    the training values are kept as ``*_train``.
    """
    source = held_out if held_out is not None and np.isfinite(held_out.tau) else fit
    return {
        "bias": float(fit.bias),
        "tau": float(np.nan_to_num(source.tau)),
        "phi": float(source.phi),
        "phi_ss": float(source.phi_ss),
        "phi_s2s": float(np.nan_to_num(source.phi_s2s)),
        "sigma_from": "held-out events" if source is held_out else "training residuals",
        "tau_train": float(np.nan_to_num(fit.tau)),
        "phi_train": float(fit.phi),
        "phi_ss_train": float(fit.phi_ss),
    }


class MixedEffectsBoostedModel(GroundMotionModel):
    """Gradient-boosted fixed effects with event and station random effects.

    Subclasses set monotone constraints or a physics base; this class is the
    plain ``tree`` model's machinery.

    Parameters
    ----------
    features
        Table columns used by the fixed-effects learner.
    n_estimators, learning_rate, max_depth, min_child_weight, subsample, colsample_bytree
        XGBoost (``tree_method="hist"``) hyper-parameters; ``n_estimators`` is
        the ceiling for early stopping.
    validation_fraction
        Share of training events in each validation set.
    n_validation_splits
        Disjoint event-grouped validation sets: the number of rounds is the
        median of their early-stopped counts (one split alone is noisy), and
        tau, phi and phi_SS come from the pooled residuals of events the
        learners never saw (training residuals understate them).
    early_stopping_rounds
        Patience of early stopping.
    refit_factor
        The learner is refitted on all events with this many times the
        early-stopped rounds.
    em_iterations
        Alternations between the learner and the random effects. One (fit the
        learner, then the random effects on its residuals) scored best in
        event-grouped CV on NZSMD crustal records; more iterations let the
        event terms absorb magnitude scaling the learner then misses.
    station_effects
        Fit station terms (dS2S). Without them phi_SS = phi.
    base
        Physics base: an OpenQuake GSIM class name or label (``"CB14"``), a
        list of them or ``"A+B"`` (equal weights), ``"auto"`` (by the tectonic
        region of the training data, :data:`gmlearn.gmpe.anchor.DEFAULT_BASES`)
        or None. With a base the learner fits the residuals of the base (a
        hybrid model); without one it learns ln IM from the data alone. Either
        way the base given (or the ``"auto"`` one) anchors the model where the
        data end (:mod:`gmlearn.gmpe.anchor`).
    extrapolation
        ``"base"`` (default), ``"warn"`` or ``"raise"``: what to do outside the
        training domain (:mod:`gmlearn.gmpe.anchor`).
    scaling
        ``"physical"`` (default): the learner is constrained to rise with
        magnitude and hypocentral depth and to fall with every distance
        feature (XGBoost monotone constraints), so, with the base, ln IM scales
        physically on consistent scenarios. ``"free"``: no constraints.
    sample_weight
        None, or ``"density"``: weight each training record by the inverse of
        the number of records in its magnitude-distance cell (capped at 10x),
        so sparse large-magnitude near-fault and small-magnitude records count
        more (a data-imbalance remedy).
    pseudo_records
        Share of the training weight (0 to 0.5) given to physics pseudo-records
        of the base placed in empty magnitude-distance cells of the training
        range; they pull the learner towards the base where data are missing
        and never enter the random effects or sigma.
    n_jobs
        XGBoost threads.
    random_state
        Seed of the validation split and XGBoost.
    """

    def __init__(
        self,
        features: Sequence[str] = DEFAULT_FEATURES,
        *,
        n_estimators: int = 3000,
        learning_rate: float = 0.05,
        max_depth: int = 2,
        min_child_weight: float = 20.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        validation_fraction: float = 0.2,
        n_validation_splits: int = 3,
        early_stopping_rounds: int = 100,
        refit_factor: float = 1.2,
        em_iterations: int = 1,
        station_effects: bool = True,
        base: str | Sequence[str] | None = "auto",
        extrapolation: str = "base",
        scaling: str = "physical",
        sample_weight: str | None = None,
        pseudo_records: float = 0.0,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.features = features
        self.base = base
        self.extrapolation = extrapolation
        self.scaling = scaling
        self.sample_weight = sample_weight
        self.pseudo_records = pseudo_records
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.validation_fraction = validation_fraction
        self.n_validation_splits = n_validation_splits
        self.early_stopping_rounds = early_stopping_rounds
        self.refit_factor = refit_factor
        self.em_iterations = em_iterations
        self.station_effects = station_effects
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- hooks for subclasses --------------------------------------------------------
    def _base(self, table: pd.DataFrame, imts: list[str]) -> np.ndarray:
        """Physics base term, shape (n_imts, n_rows); zero without a base."""
        if self.base is None:
            return np.zeros((len(imts), len(table)))
        return self._anchor_for(table).ensemble.predict(table, imts).mean

    def _anchor_for(self, table: pd.DataFrame | None = None) -> PhysicsAnchor:
        """The fitted anchor, or one built from ``table`` during fit."""
        anchor = getattr(self, "anchor_", None)
        if anchor is None:
            if table is None:  # a model saved before anchors existed: its box from the fitted ranges
                self._check_fitted()
                dist = "rjb" if "rjb" in self.ranges_ else "rrup"
                table = pd.DataFrame({"mag": self.ranges_["mag"], dist: self.ranges_[dist]})
            region = tectonic_region_type(table) or getattr(self, "tectonic_region_type_", None)
            anchor = PhysicsAnchor.from_training(table, self.base, region)
            self.anchor_ = anchor
        return anchor

    # -- helpers ---------------------------------------------------------------------
    @property
    def monotone(self) -> dict[str, int]:
        """Monotone constraint per feature in use (+1 increasing, -1 decreasing); empty for ``scaling="free"``."""
        if self.scaling != "physical":
            return {}
        return {f: PHYSICAL_SCALING[f] for f in self.features if f in PHYSICAL_SCALING}

    @property
    def required_features(self) -> tuple[str, ...]:  # type: ignore[override]
        """Columns read from a table: the learner's and, once fitted, the anchor's."""
        anchor = getattr(self, "anchor_", None)
        extra = anchor.required_features if anchor is not None else ()
        return tuple(dict.fromkeys([*self.features, *extra]))

    def _validate_params(self) -> None:
        for name, (kind, lo, hi) in _PARAM_RULES.items():
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and lo <= value <= hi
            if kind is int:
                ok = ok and float(value).is_integer()
            if not ok:
                msg = f"The '{name}' parameter of {type(self).__name__} must be a {kind.__name__} in [{lo}, {hi}]. Got {value!r} instead."
                raise ValueError(msg)
        check_policy(self.extrapolation, type(self).__name__)
        if self.scaling not in SCALINGS:
            msg = f"The 'scaling' parameter of {type(self).__name__} must be one of {list(SCALINGS)}. Got {self.scaling!r} instead."
            raise ValueError(msg)
        if self.sample_weight not in SAMPLE_WEIGHTS:
            msg = f"The 'sample_weight' parameter of {type(self).__name__} must be one of {list(SAMPLE_WEIGHTS)}. Got {self.sample_weight!r} instead."
            raise ValueError(msg)
        if not (isinstance(self.pseudo_records, (int, float)) and 0.0 <= float(self.pseudo_records) <= 0.5):
            msg = f"The 'pseudo_records' parameter of {type(self).__name__} must be a float in [0, 0.5]. Got {self.pseudo_records!r} instead."
            raise ValueError(msg)

    def _matrix(self, table: pd.DataFrame) -> np.ndarray:
        check_features(table, tuple(self.features), model=type(self).__name__)
        cols = list(self.features)
        if all(pd.api.types.is_numeric_dtype(table[c]) for c in cols):  # the usual case: one copy, no per-column work
            return table[cols].to_numpy(dtype=float)
        return np.column_stack([pd.to_numeric(table[c]).to_numpy(dtype=float) for c in cols])

    def _xgb_params(self) -> dict[str, Any]:
        params: dict[str, Any] = dict(
            learning_rate=self.learning_rate, max_depth=self.max_depth, min_child_weight=self.min_child_weight,
            subsample=self.subsample, colsample_bytree=self.colsample_bytree, tree_method="hist",
            n_jobs=self.n_jobs, random_state=self.random_state,
        )
        if self.monotone:
            params["monotone_constraints"] = "(" + ",".join(str(self.monotone.get(f, 0)) for f in self.features) + ")"
        return params

    # -- fitting ---------------------------------------------------------------------
    def fit(self, table: pd.DataFrame, imts: str | Iterable[str], *,
            progress: Callable[[int, int, str], None] | None = None) -> "MixedEffectsBoostedModel":
        """Fit the learner and the random effects for each IMT.

        Parameters
        ----------
        table
            Flat table with the features, ``event_id``, ``station_id`` and ln IMT columns.
        imts
            IMTs to learn; rows where an IMT is missing are skipped for it.
        progress
            Optional ``callable(step, total, message)``, called once per IMT.

        Returns
        -------
        self
        """
        self._validate_params()
        names = as_imts(imts)
        missing = [i for i in names if i not in table.columns]
        if missing:
            msg = f"IMT column(s) {missing} not in the table; it has {list(map(str, table.columns))}."
            raise ModelError(msg)
        table = table.reset_index(drop=True)
        self.__dict__.pop("anchor_", None)
        anchor = self._anchor_for(table)
        x = self._matrix(table)
        base = self._base(table, names)
        events = table["event_id"].astype(str).to_numpy()
        stations = table["station_id"].astype(str).to_numpy() if self.station_effects else None
        weights = density_weights(table, anchor.distance) if self.sample_weight == "density" else np.ones(len(table))
        pseudo = pseudo_records(table, anchor, names, self.features) if self.pseudo_records > 0 else None
        allowance = self._allowance(anchor, names)
        mags = pd.to_numeric(table["mag"]).to_numpy(dtype=float)
        self.boosters_: dict[str, Any] = {}
        self.effects_: dict[str, dict[str, Any]] = {}
        for k, imt in enumerate(names):
            if progress is not None:
                progress(k, len(names), f"fitting {imt}")
            shift = allowance_at(allowance[imt], mags) if imt in allowance else 0.0
            y = pd.to_numeric(table[imt]).to_numpy(dtype=float) - base[k] + shift
            ok = np.isfinite(y)
            if ok.sum() < 20 or np.unique(events[ok]).size < 5:
                msg = f"{imt}: {int(ok.sum())} records of {np.unique(events[ok]).size} events; need at least 20 records of 5 events."
                raise ModelError(msg)
            extra = None
            if pseudo is not None and len(pseudo[0]):
                # Pseudo-records carry the base: zero residual for a hybrid, the base mean otherwise.
                share = float(self.pseudo_records)
                pw = np.full(len(pseudo[0]), share / (1.0 - share) * weights[ok].sum() / len(pseudo[0]))
                target = np.zeros(len(pseudo[0])) if self.base is not None else pseudo[1][k]
                if imt in allowance:
                    target = target + allowance_at(allowance[imt], pseudo[0][:, list(self.features).index("mag")])
                extra = (pseudo[0], target, pw)
            booster, effects = self._fit_one(x[ok], y[ok], events[ok], None if stations is None else stations[ok], imt,
                                             weights=weights[ok], extra=extra)
            self.boosters_[imt] = booster
            if imt in allowance:
                effects["mag_allowance"] = allowance[imt]
            self.effects_[imt] = effects
        if progress is not None:
            progress(len(names), len(names), "fitted")
        self.imts_ = names
        self.ranges_ = training_ranges(table, self.features)
        self.tectonic_region_type_ = tectonic_region_type(table)
        self.domain_ = TrainingDomain.from_table(table, anchor.distance, random_state=self.random_state)
        self.__dict__.pop("compiled_", None)  # tables of earlier boosters would be stale
        self.n_features_in_ = len(self.features)
        self._fit_epistemic(table, x, names)
        return self

    def _allowance(self, anchor: PhysicsAnchor, names: list[str]) -> dict[str, list[list[float]]]:
        """Magnitude allowance per IMT for a physically scaled model with a base (else empty)."""
        if self.scaling != "physical" or self.base is None or "mag" not in self.monotone:
            return {}
        return magnitude_allowance(anchor.ensemble, names)

    def _fit_epistemic(self, table: pd.DataFrame, x: np.ndarray, names: list[str]) -> None:
        """Scale of the epistemic term: RMS of learned minus base on the training rows (0.15 at least)."""
        anchor = self.anchor_
        base = anchor.ensemble.predict(table, names).mean
        learned = self._learned(table, names, x=x)
        for k, imt in enumerate(names):
            diff = learned[k] - base[k]
            self.effects_[imt]["epistemic"] = float(max(0.15, np.sqrt(np.nanmean(diff**2))))

    def _fit_one(self, x: np.ndarray, y: np.ndarray, events: np.ndarray, stations: np.ndarray | None, imt: str, *,
                 weights: np.ndarray | None = None,
                 extra: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[Any, dict[str, Any]]:
        """One IMT: boosted learner (on records plus optional pseudo-records ``extra`` = (x, y, w)) and random effects."""
        import xgboost as xgb

        from gmlearn.gmpe.mixed_effects import fit_mixed_effects

        params = self._xgb_params()
        folds = event_validation_folds(events, self.validation_fraction, self.n_validation_splits, imt_seed(self.random_state, imt))
        offset = np.zeros_like(y)  # c + dB + dS2S of each row
        rounds = None
        booster = None
        fit = None
        held_out = None
        w = np.ones_like(y) if weights is None else weights
        for _ in range(self.em_iterations):
            target = y - offset  # the learner sees y with the random effects removed
            if rounds is None:
                if folds:
                    best, resid = choose_rounds(x, target, folds, params, self.n_estimators, self.early_stopping_rounds,
                                                weights=w, extra=extra)
                    rounds = max(1, int(round(best * max(self.refit_factor, 1.0))))
                    # Residuals on events the learners never saw: honest tau, phi, phi_SS.
                    seen = np.isfinite(resid)
                    held_out = fit_mixed_effects(resid[seen], events[seen], None if stations is None else stations[seen])
                else:
                    rounds = min(self.n_estimators, 500)
            booster = xgb.XGBRegressor(n_estimators=rounds, **params)
            if extra is None:
                booster.fit(x, target, sample_weight=w, verbose=False)
            else:
                booster.fit(np.vstack([x, extra[0]]), np.concatenate([target, extra[1]]),
                            sample_weight=np.concatenate([w, extra[2]]), verbose=False)
            resid = y - booster.predict(x)
            fit = fit_mixed_effects(resid, events, stations)
            offset = fit.bias + np.nan_to_num(fit.between(events)) + (np.nan_to_num(fit.site(stations)) if stations is not None else 0.0)
        assert fit is not None
        effects = {
            **variance_components(fit, held_out),
            "rounds": int(rounds),
            "event_terms": fit.event_terms.astype(float),
            "station_terms": fit.station_terms.astype(float),
        }
        return booster, effects

    # -- prediction ------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "boosters_"):
            msg = f"This {type(self).__name__} is not fitted yet; call fit(table, imts) first."
            raise ModelError(msg)

    def compile(self) -> MixedEffectsBoostedModel:
        """Evaluate the boosters as lookup tables from now on (:mod:`gmlearn.gmpe.compiled`).

        Same predictions to about 1e-5 in ln units, several times faster for
        the default shallow trees (the OpenQuake adapter compiles every model
        it loads). Kept in memory only; saved models stay XGBoost files.
        Returns ``self``.
        """
        from gmlearn.gmpe.compiled import CompiledEnsemble

        self._check_fitted()
        self.compiled_ = CompiledEnsemble(self.boosters_, len(self.features))
        return self

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
        """
        self._check_fitted()
        check_station_mode(station_terms, table)
        names = self.imts_ if imts is None else as_imts(imts)
        unknown = [i for i in names if i not in self.boosters_]
        if unknown:
            msg = f"{type(self).__name__} was fitted for {self.imts_}; cannot predict {unknown}."
            raise ModelError(msg)
        n = len(table)
        if n == 0:
            empty = np.zeros((len(names), 0))
            return Prediction(tuple(names), empty, empty, empty, empty)
        anchor = getattr(self, "anchor_", None)
        x = self._matrix(table)
        policy = self.extrapolation if anchor is not None else "warn"
        outside, foreign = apply_policy(policy, anchor, table, type(self).__name__, self.ranges_, stacklevel=2)
        mean = self._learned(table, names, x=x)
        base_pred = None  # a new region: the physics base alone, its mean and its sigma
        if policy == "base":
            base_pred = anchor_means(anchor, table, names, mean, outside, foreign, lambda rows: self._learned(rows, names))
        domain = getattr(self, "domain_", None)
        remote = 1.0 - domain.membership(table) if domain is not None else np.zeros(n)
        tau = np.empty((len(names), n))
        phi = np.empty((len(names), n))
        epistemic = np.empty((len(names), n))
        for k, imt in enumerate(names):
            eff = self.effects_[imt]
            tau[k] = eff["tau"]
            phi[k] = eff["phi"]
            epistemic[k] = float(eff.get("epistemic", 0.0)) * remote
            if station_terms == "known":
                add_station_terms(mean[k], phi[k], eff, table)
        if base_pred is not None:
            tau[:, foreign], phi[:, foreign], epistemic[:, foreign] = base_pred.tau, base_pred.phi, 0.0
        return Prediction(tuple(names), mean, tau, phi, np.sqrt(tau**2 + phi**2 + epistemic**2))

    def physics_term(self, table: pd.DataFrame, imts: Sequence[str]) -> np.ndarray:
        """The part of the in-box mean that is not the learner: base minus the magnitude allowance.

        Shape (n_imts, n_rows); zero for a model without a base. Inside the
        training box the mean is ``physics_term + learner + bias``.
        """
        names = list(imts)
        out = self._base(table, names)
        for k, imt in enumerate(names):
            allowance = self.effects_[imt].get("mag_allowance")
            if allowance is not None:
                out[k] = out[k] - allowance_at(allowance, pd.to_numeric(table["mag"]).to_numpy(dtype=float))
        return out

    def _learned(self, table: pd.DataFrame, names: list[str], *, x: np.ndarray | None = None) -> np.ndarray:
        """ln mean of base + learner + bias (no anchoring, no station terms), shape (n_imts, n_rows)."""
        x = self._matrix(table) if x is None else x
        base = self._base(table, names)
        compiled = getattr(self, "compiled_", None)
        raws = compiled.predict(x, names) if compiled is not None else None
        out = np.empty((len(names), len(table)))
        mags = None
        for k, imt in enumerate(names):
            raw = raws[k] if raws is not None else self.boosters_[imt].predict(x).astype(float)
            out[k] = base[k] + raw + self.effects_[imt]["bias"]
            allowance = self.effects_[imt].get("mag_allowance")
            if allowance is not None:
                mags = pd.to_numeric(table["mag"]).to_numpy(dtype=float) if mags is None else mags
                out[k] -= allowance_at(allowance, mags)
        return out
