"""The yardstick run: compare GMPEs and learned models on a table, write results.

Used by ``gmlearn evaluate``, ``gmlearn demo`` and ``benchmarks/accuracy.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from gmlearn.evaluation.compare import Comparison, compare_models, default_models
from gmlearn.gmpe.reference import GSIM_LABELS
from gmlearn.store.atomic import atomic_write_json, atomic_write_with

__all__ = ["run_evaluation", "resolve_gmpes", "GMPE_LABELS"]

#: Short labels accepted wherever a GMPE is named (the models' own table).
GMPE_LABELS: dict[str, str] = dict(GSIM_LABELS)


def resolve_gmpes(names: Iterable[str]) -> dict[str, str]:
    """Map labels (``ASK14``) or OpenQuake class names to ``{label: class}``."""
    out: dict[str, str] = {}
    for name in names:
        name = name.strip()
        if not name:
            continue
        out[name] = GMPE_LABELS.get(name, name)
    return out


def run_evaluation(
    table: pd.DataFrame,
    imts: Iterable[str],
    gmpes: Iterable[str],
    *,
    out: str | Path | None = None,
    xgboost: bool = True,
    n_splits: int = 5,
    random_state: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
    plots: bool = True,
) -> Comparison:
    """Compare GMPEs (and the plain XGBoost) on ``table``; optionally write outputs.

    Parameters
    ----------
    table
        Flat table with features, ids and ln IMT columns.
    imts
        IMTs to score.
    gmpes
        GMPE labels (``ASK14``, ``BSSA14``, ``CB14``, ``CY14``, ``Bradley2013``)
        or OpenQuake class names.
    out
        Folder for ``scores.csv``, ``scores.json``, ``rms.png`` and residual-trend
        plots (``residuals_<model>.png``); nothing is written when None.
    xgboost
        Add the plain XGBoost baseline, scored by event-grouped K-fold CV.
    n_splits, random_state
        Cross-validation folds and seed.
    progress
        Optional ``callable(step, total, message)``.
    plots
        Write PNG plots as well as tables.

    Returns
    -------
    Comparison
    """
    imts = list(imts)
    models = default_models(resolve_gmpes(gmpes), xgboost=xgboost, random_state=random_state)
    result = compare_models(table, imts, models, n_splits=n_splits, random_state=random_state, progress=progress)
    if out is None:
        return result
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_with(out / "scores.csv", lambda tmp: result.scores.to_csv(tmp, index=False, float_format="%.4f"))
    atomic_write_json(out / "scores.json", {"imts": result.imts, "n_records": int(len(table)),
                                            "rows": result.scores.to_dict(orient="records")})
    if plots and len(result.scores):
        from gmlearn.evaluation.plots import plot_model_comparison, plot_residual_trends

        plot_model_comparison(result.scores, out / "rms.png")
        best_gmpe = result.best("rms", kind="gmpe")
        labels = list(dict.fromkeys([*best_gmpe["model"].value_counts().index[:1], *(["XGBoost"] if xgboost else [])]))
        for label in labels:
            pred = result.predictions[label]
            usable = [i for j, i in enumerate(pred.imts) if pd.notna(pred.mean[j]).any()]
            sub_idx = [pred.imts.index(i) for i in usable]
            from gmlearn.gmpe.prediction import Prediction

            sub = Prediction(tuple(usable), *(getattr(pred, k)[sub_idx] for k in ("mean", "tau", "phi", "sigma")))
            plot_residual_trends(table, sub, usable, out / f"residuals_{label}.png", title=f"{label}: residual trends")
    return result
