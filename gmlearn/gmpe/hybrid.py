"""``hybrid``: an OpenQuake GSIM as physics base plus a learned residual correction.

ln IM = base GSIM mean + w(x) [f(x) + c] + dB + dS2S + dWS, with ``f`` the
mixed-effects boosted learner of :mod:`gmlearn.gmpe.mixed` fitted to the
residuals of the base model. ``w`` is one inside the training range of
magnitude and distance and fades to zero outside it (a cosine taper over
``fade_margins``), so a magnitude-8 scenario at 1 km follows the physics of the
base GSIM rather than an extrapolated tree.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from gmlearn.gmpe.mixed import DEFAULT_FEATURES, MixedEffectsBoostedModel

__all__ = ["HybridGMM", "DEFAULT_FADE_MARGINS", "fade_weight"]

#: Width of the fade outside the training range: magnitude units for ``mag``,
#: log10 units for distances (0.3 = a factor of two).
DEFAULT_FADE_MARGINS: dict[str, float] = {"mag": 0.25, "rrup": 0.3, "rjb": 0.3}
_LOG_FEATURES = ("rrup", "rjb", "repi", "rhypo")


def fade_weight(values: np.ndarray, lo: float, hi: float, margin: float, *, log: bool = False) -> np.ndarray:
    """Cosine taper: 1 inside [lo, hi], 0 beyond ``margin`` outside it.

    Parameters
    ----------
    values
        Feature values, shape (n,).
    lo, hi
        Training range.
    margin
        Width of the taper (in log10 units when ``log``).
    log
        Measure the distance outside the range in log10 (for distances, km).
    """
    v = np.asarray(values, dtype=float)
    if log:
        v, lo, hi = np.log10(np.maximum(v, 0.01)), np.log10(max(lo, 0.01)), np.log10(max(hi, 0.01))
    outside = np.maximum(np.maximum(lo - v, v - hi), 0.0)
    frac = np.clip(outside / margin, 0.0, 1.0) if margin > 0 else (outside > 0).astype(float)
    return 0.5 * (1.0 + np.cos(np.pi * frac))


class HybridGMM(MixedEffectsBoostedModel):
    """OpenQuake GSIM base + mixed-effects boosted residual model.

    Parameters
    ----------
    base
        OpenQuake GSIM class name, e.g. ``"BooreEtAl2014"`` or ``"Bradley2013"``.
    base_kwargs
        Arguments of that GSIM.
    fade_margins
        Feature -> taper width outside the training range (see
        :data:`DEFAULT_FADE_MARGINS`).
    features, **kwargs
        As :class:`~gmlearn.gmpe.mixed.MixedEffectsBoostedModel`.
    """

    def __init__(
        self,
        base: str = "BooreEtAl2014",
        *,
        base_kwargs: Mapping[str, Any] | None = None,
        fade_margins: Mapping[str, float] | None = None,
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
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        super().__init__(
            features, n_estimators=n_estimators, learning_rate=learning_rate, max_depth=max_depth,
            min_child_weight=min_child_weight, subsample=subsample, colsample_bytree=colsample_bytree,
            validation_fraction=validation_fraction, n_validation_splits=n_validation_splits,
            early_stopping_rounds=early_stopping_rounds,
            refit_factor=refit_factor, em_iterations=em_iterations, station_effects=station_effects,
            n_jobs=n_jobs, random_state=random_state,
        )
        self.base = base
        self.base_kwargs = base_kwargs
        self.fade_margins = fade_margins

    def _gsim(self):  # noqa: ANN202 - OpenQuakeGMPE
        from gmlearn.gmpe.reference import OpenQuakeGMPE

        if getattr(self, "_gsim_cache", None) is None:
            self._gsim_cache = OpenQuakeGMPE(self.base, **dict(self.base_kwargs or {}))
        return self._gsim_cache

    @property
    def required_features(self) -> tuple[str, ...]:  # type: ignore[override]
        """Learner features plus what the base GSIM requires."""
        return tuple(dict.fromkeys([*self.features, *self._gsim().required_features]))

    def _base(self, table: pd.DataFrame, imts: list[str]) -> np.ndarray:
        return self._gsim().predict(table, imts).mean

    def _weight(self, table: pd.DataFrame) -> np.ndarray:
        margins = {**DEFAULT_FADE_MARGINS, **dict(self.fade_margins or {})}
        w = np.ones(len(table))
        for name, margin in margins.items():
            if name in getattr(self, "ranges_", {}) and name in table:
                lo, hi = self.ranges_[name]
                w *= fade_weight(pd.to_numeric(table[name]).to_numpy(dtype=float), lo, hi, margin, log=name in _LOG_FEATURES)
        return w

    def _matrix(self, table: pd.DataFrame) -> np.ndarray:
        from gmlearn.gmpe.base import check_features

        check_features(table, self.required_features, model=f"HybridGMM({self.base!r})")
        return super()._matrix(table)

    def get_params(self, deep: bool = True) -> dict:  # noqa: ARG002
        """Constructor arguments."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def base_prediction(self, table: pd.DataFrame, imts: Sequence[str] | None = None):  # noqa: ANN201
        """Prediction of the base GSIM alone (for comparison)."""
        return self._gsim().predict(table, list(imts or self.imts_))
