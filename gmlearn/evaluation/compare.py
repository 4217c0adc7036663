"""Compare models on one table: published GMPEs against learned models.

Published OpenQuake GMPEs are not fitted, so they are scored on every row;
learned models are scored on out-of-fold predictions from event-grouped
K-fold cross-validation. For each IMT every model is scored on the same
rows (those where the IMT is observed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from gmlearn.gmpe.base import GroundMotionModel, as_imts
from gmlearn.gmpe.prediction import Prediction
from gmlearn.gmpe.reference import OpenQuakeGMPE

__all__ = ["compare_models", "Comparison", "default_models", "gmlearn_models", "KnownStations", "NGA_WEST2_GMPES", "NZ_GMPES"]

#: The four NGA-West2 GMPEs (OpenQuake class names) and their short labels.
NGA_WEST2_GMPES: dict[str, str] = {
    "ASK14": "AbrahamsonEtAl2014",
    "BSSA14": "BooreEtAl2014",
    "CB14": "CampbellBozorgnia2014",
    "CY14": "ChiouYoungs2014",
}

#: Extra GMPEs for New Zealand data.
NZ_GMPES: dict[str, str] = {"Bradley2013": "Bradley2013"}

Progress = Callable[[int, int, str], None]


@dataclass
class Comparison:
    """Result of :func:`compare_models`.

    Attributes
    ----------
    scores
        One row per (model, imt): the columns of
        :func:`gmlearn.evaluation.scoring.score` plus ``model``.
    predictions
        Model label -> Prediction for all rows (NaN where a model does not
        support an IMT); learned models hold out-of-fold predictions.
    imts
        IMTs compared.
    """

    scores: pd.DataFrame
    predictions: dict[str, Prediction] = field(default_factory=dict)
    imts: list[str] = field(default_factory=list)

    def best(self, metric: str = "rms", *, kind: str | None = None) -> pd.DataFrame:
        """Best model per IMT by ``metric`` (lower is better); ``kind`` filters ``"gmpe"``/``"ml"``."""
        df = self.scores if kind is None else self.scores[self.scores["kind"] == kind]
        df = df.dropna(subset=[metric])
        return df.loc[df.groupby("imt")[metric].idxmin()].reset_index(drop=True)

    def pivot(self, metric: str = "rms") -> pd.DataFrame:
        """Table of ``metric`` with models as rows and IMTs as columns."""
        table = self.scores.pivot(index="model", columns="imt", values=metric)
        return table[[i for i in self.imts if i in table.columns]]


class KnownStations:
    """Wrap a mixed-effects model so ``predict`` uses known station terms (non-ergodic).

    Parameters
    ----------
    model
        A model whose ``predict`` accepts ``station_terms="known"``.
    """

    def __init__(self, model: GroundMotionModel) -> None:
        self.model = model

    def fit(self, table: pd.DataFrame, imts: Iterable[str]) -> "KnownStations":
        """Fit the wrapped model."""
        self.model.fit(table, imts)
        return self

    def predict(self, table: pd.DataFrame, imts: Iterable[str]) -> Prediction:
        """Predict with station terms for stations seen in training."""
        return self.model.predict(table, imts, station_terms="known")  # type: ignore[call-arg]


def gmlearn_models(
    *, hybrid_base: str = "CampbellBozorgnia2014", non_ergodic: bool = True, bnn: bool = False, random_state: int = 0,
    data_only: bool = False,
) -> dict[str, Callable[[], Any]]:
    """Factories of gmlearn's regressors for a comparison (ergodic and, optionally, known-station).

    ``bnn=True`` adds the PyMC Bayesian neural network (needs the ``bnn`` extra);
    ``data_only=True`` adds ``tree (data only)``: the unconstrained tree without a
    physics base (:data:`gmlearn.gmpe.mixed.DATA_ONLY_FEATURES`, ``extrapolation="warn"``),
    the default of earlier releases.
    """
    from gmlearn.gmpe.hybrid import HybridGMM
    from gmlearn.gmpe.monotone import MonotoneGMM
    from gmlearn.gmpe.tree import TreeGMM

    label = {v: k for k, v in {**NGA_WEST2_GMPES, **NZ_GMPES}.items()}.get(hybrid_base, hybrid_base)
    base: dict[str, Callable[[], Any]] = {
        "tree": lambda: TreeGMM(random_state=random_state),
        "monotone": lambda: MonotoneGMM(random_state=random_state),
        f"hybrid({label})": lambda: HybridGMM(hybrid_base, random_state=random_state),
    }
    if bnn:
        from gmlearn.gmpe.bnn import BayesianNNGMM

        base["bnn"] = lambda: BayesianNNGMM(random_state=random_state)
    if data_only:
        from gmlearn.gmpe.mixed import DATA_ONLY_FEATURES

        base["tree (data only)"] = lambda: TreeGMM(DATA_ONLY_FEATURES, base=None, scaling="free", extrapolation="warn",
                                                   random_state=random_state)
    models = dict(base)
    if non_ergodic:
        for name, factory in base.items():
            models[f"{name} known-station"] = lambda f=factory: KnownStations(f())
    return models


def default_models(
    gmpes: Mapping[str, str] | Iterable[str] = NGA_WEST2_GMPES,
    *,
    xgboost: bool = True,
    random_state: int = 0,
) -> dict[str, Callable[[], GroundMotionModel]]:
    """Model factories for a comparison: the given GMPEs plus a plain XGBoost.

    ``gmpes`` maps labels to OpenQuake class names (or lists class names).
    """
    from gmlearn.gmpe.baseline import XGBoostBaseline

    items = gmpes.items() if isinstance(gmpes, Mapping) else ((g, g) for g in gmpes)
    models: dict[str, Callable[[], GroundMotionModel]] = {}
    for label, name in items:
        models[label] = (lambda n=name: OpenQuakeGMPE(n))
    if xgboost:
        models["XGBoost"] = lambda: XGBoostBaseline(random_state=random_state)
    return models


def _gmpe_prediction(model: OpenQuakeGMPE, table: pd.DataFrame, imts: list[str]) -> Prediction:
    supported = [i for i in imts if i.split("(")[0] in model.supported_imts]
    n = len(table)
    full = {k: np.full((len(imts), n), np.nan) for k in ("mean", "tau", "phi", "sigma")}
    if supported:
        pred = model.predict(table, supported)
        for j, imt in enumerate(supported):
            i = imts.index(imt)
            for k in full:
                full[k][i] = getattr(pred, k)[j]
    return Prediction(tuple(imts), full["mean"], full["tau"], full["phi"], full["sigma"])


def compare_models(
    table: pd.DataFrame,
    imts: str | Iterable[str],
    models: Mapping[str, Callable[[], Any]],
    *,
    n_splits: int = 5,
    random_state: int = 0,
    progress: Progress | None = None,
) -> Comparison:
    """Score several models on one table.

    Parameters
    ----------
    table
        Flat table (e.g. ``FeatureStore.to_frame``) with features, ids and ln IMT columns.
    imts
        IMTs to compare.
    models
        Label -> zero-argument factory returning a fresh model.
    n_splits
        Folds of event-grouped cross-validation for learned models.
    random_state
        Seed of the fold assignment.
    progress
        Optional ``callable(step, total, message)``.

    Returns
    -------
    Comparison
        Scores per model and IMT and the predictions.
    """
    from gmlearn.evaluation.scoring import cross_validate, score

    names = as_imts(imts)
    table = table.reset_index(drop=True)
    scores = []
    predictions: dict[str, Prediction] = {}
    total = len(models)
    for step, (label, factory) in enumerate(models.items()):
        if progress is not None:
            progress(step, total, label)
        model = factory()
        if isinstance(model, OpenQuakeGMPE):
            pred = _gmpe_prediction(model, table, names)
            kind = "gmpe"
        else:
            pred, _ = cross_validate(factory, table, names, n_splits=n_splits, random_state=random_state)
            kind = "ml"
        predictions[label] = pred
        available = [i for j, i in enumerate(names) if np.isfinite(pred.mean[j]).any()]
        if not available:
            continue
        sub = Prediction(
            tuple(available),
            *(getattr(pred, k)[[names.index(i) for i in available]] for k in ("mean", "tau", "phi", "sigma")),
        )
        df = score(table, sub, available)
        df.insert(0, "model", label)
        df.insert(1, "kind", kind)
        scores.append(df)
    if progress is not None:
        progress(total, total, "done")
    return Comparison(pd.concat(scores, ignore_index=True) if scores else pd.DataFrame(), predictions, names)
