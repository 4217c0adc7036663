"""Evaluation of ground-motion models: scores, cross-validation, metrics, plots, yardsticks.

Models live in :mod:`gmlearn.gmpe`; this package imports them and is never
imported by them. Names are imported lazily so ``import gmlearn.evaluation``
stays cheap::

    from gmlearn.evaluation import score, cross_validate, compare_models
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "score": "gmlearn.evaluation.scoring",
    "cross_validate": "gmlearn.evaluation.scoring",
    "residual_table": "gmlearn.evaluation.scoring",
    "event_kfold": "gmlearn.evaluation.scoring",
    "rms": "gmlearn.evaluation.metrics",
    "llh": "gmlearn.evaluation.metrics",
    "edr": "gmlearn.evaluation.metrics",
    "coverage": "gmlearn.evaluation.metrics",
    "compare_models": "gmlearn.evaluation.compare",
    "run_evaluation": "gmlearn.evaluation.yardstick",
    "plot_residual_trends": "gmlearn.evaluation.plots",
    "plot_model_comparison": "gmlearn.evaluation.plots",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gmlearn.evaluation' has no attribute {name!r}")
