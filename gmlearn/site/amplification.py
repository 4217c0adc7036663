"""Data-driven site amplification: station terms dS2S modelled from site features.

A base model's total residuals are split by the crossed mixed-effects fit
(:func:`gmlearn.gmpe.mixed_effects.fit_mixed_effects`) into event terms,
station terms ``dS2S`` and single-station residuals. A ridge regression per
IMT then maps site features to ``dS2S``; its held-out error, measured by
station-grouped cross-validation, is the uncertainty of the amplification
predicted at a new site.

Features (each used when the column is in the table): ``ln(vs30)`` and its
square, ``ln(z1pt0 + 10)``, one-hot ``site_class``, ``ln(tsite)`` (site
period) and ``ln(hvsr_f0)`` (HVSR peak frequency), each with a missing-value
indicator (missing values are replaced by the training mean).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import MissingColumnError, ModelError
from gmlearn.gmpe.base import as_imts

__all__ = ["SiteAmplificationModel", "station_terms", "FEATURE_SETS"]

#: Named feature sets: ``"all"`` uses every available feature, ``"vs30"`` only ln(vs30) (and its square).
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "all": ("vs30", "z1pt0", "site_class", "tsite", "hvsr_f0"),
    "vs30": ("vs30",),
}


def station_terms(table: pd.DataFrame, base: Any, imts: Sequence[str]) -> dict[str, Any]:
    """Mixed-effects split of ``base``'s residuals per IMT: ``{imt: MixedEffectsResult}``."""
    from gmlearn.gmpe.mixed_effects import fit_mixed_effects

    pred = base.predict(table, list(imts))
    out = {}
    for i, imt in enumerate(pred.imts):
        resid = table[imt].to_numpy(float) - pred.mean[i]
        out[imt] = fit_mixed_effects(resid, table["event_id"].astype(str).to_numpy(),
                                     table["station_id"].astype(str).to_numpy())
    return out


class _Design:
    """Feature matrix builder fitted on training stations (means, classes, scales)."""

    def __init__(self, features: Sequence[str]) -> None:
        self.features = tuple(features)

    def fit(self, frame: pd.DataFrame) -> "_Design":
        self.used_ = [f for f in self.features if f in frame and frame[f].notna().any()]
        if "vs30" not in self.used_:
            msg = f"Site features need a 'vs30' column; the station table has {list(frame.columns)}."
            raise MissingColumnError(msg)
        self.classes_ = sorted(frame["site_class"].dropna().astype(str).unique()) if "site_class" in self.used_ else []
        raw = self._raw(frame)
        self.mean_ = np.nanmean(raw, axis=0)
        filled = np.where(np.isnan(raw), self.mean_, raw)
        self.scale_ = filled.std(axis=0)
        self.scale_[self.scale_ == 0] = 1.0
        return self

    def _raw(self, frame: pd.DataFrame) -> np.ndarray:
        cols = []
        for f in self.used_:
            if f == "site_class":
                cls = frame[f].astype("string")
                cols += [(cls == c).fillna(False).to_numpy(float) for c in self.classes_[1:]]
                continue
            v = pd.to_numeric(frame[f], errors="coerce").to_numpy(float)
            if f == "vs30":
                lv = np.log(v)
                cols += [lv, lv**2]
            elif f == "z1pt0":
                cols.append(np.log(np.maximum(v, 0) + 10.0))
            else:  # tsite, hvsr_f0: log, with a missing indicator
                with np.errstate(divide="ignore", invalid="ignore"):
                    lv = np.where(v > 0, np.log(v), np.nan)
                cols += [lv, np.isnan(lv).astype(float)]
        return np.column_stack(cols)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        raw = self._raw(frame)
        if "vs30" in self.used_ and np.isnan(raw[:, 0]).any():
            msg = "vs30 is missing for some sites; the site model needs vs30 everywhere."
            raise ModelError(msg)
        raw = np.where(np.isnan(raw), self.mean_, raw)
        return (raw - self.mean_) / self.scale_


class SiteAmplificationModel:
    """Station terms dS2S learned from site features; predicts ln amplification with uncertainty.

    Parameters
    ----------
    base
        The base model whose residuals define the station terms (any object
        with ``predict(table, imts)``), e.g. ``OpenQuakeGMPE("Bradley2013")``.
    features
        A name of :data:`FEATURE_SETS` or a list of columns.
    alpha
        Ridge penalty on the standardised features.
    n_splits
        Station-grouped folds for the held-out uncertainty.
    random_state
        Seed of the folds.
    """

    def __init__(self, base: Any, *, features: str | Sequence[str] = "all", alpha: float = 1.0, n_splits: int = 5,
                 random_state: int = 0) -> None:
        self.base = base
        self.features = features
        self.alpha = alpha
        self.n_splits = n_splits
        self.random_state = random_state

    def _feature_list(self) -> tuple[str, ...]:
        if isinstance(self.features, str):
            if self.features not in FEATURE_SETS:
                msg = f"The 'features' parameter must be one of {list(FEATURE_SETS)} or a list. Got {self.features!r}."
                raise ModelError(msg)
            return FEATURE_SETS[self.features]
        return tuple(self.features)

    def _solve(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        xa = np.column_stack([np.ones(len(x)), x])
        pen = self.alpha * np.eye(xa.shape[1])
        pen[0, 0] = 0.0
        return np.linalg.solve(xa.T @ (xa * w[:, None]) + pen, xa.T @ (w * y))

    def fit(self, table: pd.DataFrame, imts: str | Iterable[str], *, terms: dict | None = None) -> "SiteAmplificationModel":
        """Fit on a record table (``event_id``, ``station_id``, site features, ln IMT columns).

        ``terms`` reuses a :func:`station_terms` result computed on the same table.
        """
        names = as_imts(imts)
        if not (np.isfinite(self.alpha) and self.alpha >= 0):
            msg = f"The 'alpha' parameter of SiteAmplificationModel must be >= 0. Got {self.alpha!r} instead."
            raise ModelError(msg)
        for col in ("event_id", "station_id", *names):
            if col not in table:
                msg = f"SiteAmplificationModel.fit requires column {col!r}; the table has {list(table.columns)}."
                raise MissingColumnError(msg)
        self.effects_ = terms if terms is not None else station_terms(table, self.base, names)
        stations = table.drop_duplicates("station_id").set_index(table.drop_duplicates("station_id")["station_id"].astype(str))
        self.design_ = _Design(self._feature_list()).fit(stations)
        self.coef_, self.phi_s2s_, self.sd_, self.phi_ss_, self.stations_ = {}, {}, {}, {}, stations.index.to_numpy()
        x_all = self.design_.transform(stations)
        rng = np.random.default_rng(self.random_state)
        folds = rng.permutation(len(stations)) % max(int(self.n_splits), 2)
        for imt in names:
            eff = self.effects_[imt]
            y = eff.station_terms.reindex(stations.index).to_numpy(float)
            ok = np.isfinite(y)
            w = np.ones(len(y))
            self.coef_[imt] = self._solve(x_all[ok], y[ok], w[ok])
            held = np.full(len(y), np.nan)
            for k in np.unique(folds):
                tr, te = ok & (folds != k), ok & (folds == k)
                if te.any() and tr.sum() > x_all.shape[1]:
                    c = self._solve(x_all[tr], y[tr], w[tr])
                    held[te] = c[0] + x_all[te] @ c[1:]
            err = (y - held)[np.isfinite(held)]
            self.sd_[imt] = float(np.sqrt(np.mean(err**2))) if err.size else float(eff.phi_s2s)
            self.phi_s2s_[imt] = float(eff.phi_s2s)
            self.phi_ss_[imt] = float(eff.phi_ss)
        self.imts_ = names
        return self

    def predict_terms(self, sites: pd.DataFrame, imts: str | Iterable[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Predicted ln amplification (dS2S) and its standard deviation at ``sites``, each (n_imts, n_sites)."""
        if not hasattr(self, "coef_"):
            msg = "SiteAmplificationModel is not fitted; call fit(table, imts) first."
            raise ModelError(msg)
        names = self.imts_ if imts is None else as_imts(imts)
        unknown = [i for i in names if i not in self.coef_]
        if unknown:
            msg = f"SiteAmplificationModel was fitted for {self.imts_}; it has no term for {unknown}."
            raise ModelError(msg)
        x = self.design_.transform(sites)
        mean = np.vstack([self.coef_[i][0] + x @ self.coef_[i][1:] for i in names])
        sd = np.vstack([np.full(len(sites), self.sd_[i]) for i in names])
        return mean, sd

    def get_params(self, deep: bool = True) -> dict:  # noqa: ARG002
        """Constructor arguments."""
        return {"base": self.base, "features": self.features, "alpha": self.alpha, "n_splits": self.n_splits,
                "random_state": self.random_state}

    def __repr__(self) -> str:
        return f"SiteAmplificationModel(base={self.base!r}, features={self.features!r}, alpha={self.alpha})"
