"""``hybrid``: an OpenQuake GSIM as physics base plus a learned residual correction.

ln IM = base GSIM mean + f(x) + c + dB + dS2S + dWS, with ``f`` the
mixed-effects boosted learner of :mod:`gmlearn.gmpe.mixed` fitted to the
residuals of the base model (physically constrained by default). Outside the
training box the correction is withdrawn towards the base as
:mod:`gmlearn.gmpe.anchor` describes, so a magnitude-8 scenario at 1 km
follows the physics of the base GSIM rather than an extrapolated tree.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from gmlearn.gmpe.mixed import DEFAULT_FEATURES, MixedEffectsBoostedModel

__all__ = ["HybridGMM"]


class HybridGMM(MixedEffectsBoostedModel):
    """OpenQuake GSIM base + mixed-effects boosted residual model.

    Parameters
    ----------
    base
        OpenQuake GSIM class name or label (``"BooreEtAl2014"``, ``"CB14"``),
        several joined by ``+`` (equal weights), or ``"auto"``.
    features, **kwargs
        As :class:`~gmlearn.gmpe.mixed.MixedEffectsBoostedModel`.
    """

    def __init__(
        self,
        base: str | Sequence[str] = "BooreEtAl2014",
        *,
        features: Sequence[str] = DEFAULT_FEATURES,
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
        extrapolation: str = "base",
        scaling: str = "physical",
        sample_weight: str | None = None,
        pseudo_records: float = 0.0,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        super().__init__(
            features, n_estimators=n_estimators, learning_rate=learning_rate, max_depth=max_depth,
            min_child_weight=min_child_weight, subsample=subsample, colsample_bytree=colsample_bytree,
            validation_fraction=validation_fraction, n_validation_splits=n_validation_splits,
            early_stopping_rounds=early_stopping_rounds, refit_factor=refit_factor, em_iterations=em_iterations,
            station_effects=station_effects, base=base, extrapolation=extrapolation, scaling=scaling,
            sample_weight=sample_weight, pseudo_records=pseudo_records, n_jobs=n_jobs, random_state=random_state,
        )

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.base is None:
            msg = "The 'base' parameter of HybridGMM must name an OpenQuake GSIM (or 'auto'). Got None instead; use TreeGMM for a model without a base."
            raise ValueError(msg)

    def get_params(self, deep: bool = True) -> dict:  # noqa: ARG002
        """Constructor arguments."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def base_prediction(self, table: pd.DataFrame, imts: Sequence[str] | None = None) -> Any:
        """Prediction of the base GSIM(s) alone (for comparison)."""
        self._check_fitted()
        return self.anchor_.ensemble.predict(table, list(imts or self.imts_))


