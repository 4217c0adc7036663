"""Plain XGBoost baseline: one gradient-boosted regressor per IMT.

The yardstick's machine-learning reference: no random effects, no
constraints. For each IMT the number of boosting rounds is the median of the
early-stopped counts on three disjoint event-grouped validation sets (20 % of
the training events each); tau and phi come from a mixed-effects fit of the
residuals on those held-back events (out-of-sample estimates), and the final
regressor is refitted on all training rows with ``refit_factor`` times the
chosen rounds.

Defaults (depth-2 trees, ``min_child_weight=20``, learning rate 0.05) were
chosen by event-grouped 5-fold CV on NZSMD crustal records over depth 2-4,
min_child_weight 5/20 and two feature sets.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import ModelError
from gmlearn.gmpe.base import GroundMotionModel, as_imts, check_features, imt_seed
from gmlearn.gmpe.mixed import choose_rounds, event_validation_folds
from gmlearn.gmpe.prediction import Prediction

__all__ = ["XGBoostBaseline", "DEFAULT_FEATURES"]

#: Features of the baseline (all present or derived in every store).
DEFAULT_FEATURES: tuple[str, ...] = ("mag", "rrup", "rjb", "vs30", "z1pt0", "hypo_depth", "ztor", "rake", "dip")


class XGBoostBaseline(GroundMotionModel):
    """One XGBoost regressor per IMT on physical features.

    Parameters
    ----------
    features
        Table columns used as features.
    n_estimators
        Maximum boosting rounds (early stopping picks fewer).
    learning_rate, max_depth, subsample, colsample_bytree, min_child_weight
        XGBoost hyper-parameters.
    validation_fraction
        Share of training *events* in each validation set.
    n_validation_splits
        Disjoint event-grouped validation sets; the boosting rounds are the
        median of their early-stopped counts, and tau and phi come from the
        pooled residuals of their held-back events.
    early_stopping_rounds
        Rounds without improvement before stopping.
    refit_factor
        The final model is refitted on all rows with this many times the
        early-stopped rounds (values below 1 count as 1).
    n_jobs
        Threads (default 2).
    random_state
        Seed for the split and XGBoost.
    """

    def __init__(
        self,
        features: Sequence[str] = DEFAULT_FEATURES,
        *,
        n_estimators: int = 3000,
        learning_rate: float = 0.05,
        max_depth: int = 2,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 20.0,
        validation_fraction: float = 0.2,
        n_validation_splits: int = 3,
        early_stopping_rounds: int = 100,
        refit_factor: float = 1.2,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.features = features
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.validation_fraction = validation_fraction
        self.n_validation_splits = n_validation_splits
        self.early_stopping_rounds = early_stopping_rounds
        self.refit_factor = refit_factor
        self.n_jobs = n_jobs
        self.random_state = random_state

    @property
    def required_features(self) -> tuple[str, ...]:  # type: ignore[override]
        """Columns read from the table."""
        return tuple(self.features)

    def _matrix(self, table: pd.DataFrame) -> np.ndarray:
        check_features(table, self.required_features, model=type(self).__name__)
        return np.column_stack([pd.to_numeric(table[c]).to_numpy(dtype=float) for c in self.features])

    def fit(self, table: pd.DataFrame, imts: str | Iterable[str]) -> "XGBoostBaseline":
        """Fit one regressor per IMT on rows where that IMT is observed.

        Parameters
        ----------
        table
            Flat table with the features, ``event_id``, ``station_id`` and ln IMT columns.
        imts
            IMTs to learn.
        """
        import xgboost as xgb

        from gmlearn.gmpe.mixed_effects import fit_mixed_effects

        names = as_imts(imts)
        missing = [i for i in names if i not in table.columns]
        if missing:
            msg = f"IMT column(s) {missing} not in the table; it has {list(map(str, table.columns))}."
            raise ModelError(msg)
        x_all = self._matrix(table)
        events = table["event_id"].astype(str).to_numpy()
        stations = table["station_id"].astype(str).to_numpy()
        self.models_: dict[str, object] = {}
        self.tau_: dict[str, float] = {}
        self.phi_: dict[str, float] = {}
        for imt in names:
            y = pd.to_numeric(table[imt]).to_numpy(dtype=float)
            ok = np.isfinite(y)
            if ok.sum() < 10:
                msg = f"Only {int(ok.sum())} observed values of {imt}; need at least 10 to fit."
                raise ModelError(msg)
            x, yy = x_all[ok], y[ok]
            params = dict(
                learning_rate=self.learning_rate, max_depth=self.max_depth, subsample=self.subsample,
                colsample_bytree=self.colsample_bytree, min_child_weight=self.min_child_weight,
                tree_method="hist", n_jobs=self.n_jobs, random_state=self.random_state,
            )
            folds = event_validation_folds(events[ok], self.validation_fraction, self.n_validation_splits,
                                           imt_seed(self.random_state, imt))
            if folds:
                best, resid = choose_rounds(x, yy, folds, params, self.n_estimators, self.early_stopping_rounds)
                seen = np.isfinite(resid)
                fit = fit_mixed_effects(resid[seen], events[ok][seen], stations[ok][seen])
                rounds = max(1, int(round(best * max(self.refit_factor, 1.0))))
            else:
                rounds = min(self.n_estimators, 500)
            reg = xgb.XGBRegressor(n_estimators=rounds, **params)
            reg.fit(x, yy, verbose=False)
            if not folds:
                fit = fit_mixed_effects(yy - reg.predict(x), events[ok], stations[ok])
            self.models_[imt] = reg
            self.tau_[imt] = float(fit.tau)
            self.phi_[imt] = float(fit.phi)
        self.imts_ = names
        return self

    def predict(self, table: pd.DataFrame, imts: str | Iterable[str] | None = None) -> Prediction:
        """ln mean with the validation-set tau and phi, shaped (n_imts, n_rows)."""
        if not hasattr(self, "models_"):
            msg = "This XGBoostBaseline is not fitted yet; call fit(table, imts) first."
            raise ModelError(msg)
        names = self.imts_ if imts is None else as_imts(imts)
        unknown = [i for i in names if i not in self.models_]
        if unknown:
            msg = f"Model was fitted for {self.imts_}; cannot predict {unknown}."
            raise ModelError(msg)
        x = self._matrix(table)
        n = len(table)
        mean = np.vstack([self.models_[i].predict(x).astype(float) for i in names]) if n else np.zeros((len(names), 0))
        tau = np.vstack([np.full(n, self.tau_[i]) for i in names])
        phi = np.vstack([np.full(n, self.phi_[i]) for i in names])
        return Prediction(tuple(names), mean, tau, phi, np.sqrt(tau**2 + phi**2))
