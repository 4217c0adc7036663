"""Ground-motion models: reference GMPEs, regressors, persistence (evaluation is :mod:`gmlearn.evaluation`).

Names are imported lazily so ``import gmlearn.gmpe`` stays cheap::

    from gmlearn.gmpe import OpenQuakeGMPE, TreeGMM, HybridGMM, load_model
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Prediction": "gmlearn.gmpe.prediction",
    "GroundMotionModel": "gmlearn.gmpe.base",
    "OpenQuakeGMPE": "gmlearn.gmpe.reference",
    "XGBoostBaseline": "gmlearn.gmpe.baseline",
    "TreeGMM": "gmlearn.gmpe.tree",
    "MonotoneGMM": "gmlearn.gmpe.monotone",
    "HybridGMM": "gmlearn.gmpe.hybrid",
    "BayesianNNGMM": "gmlearn.gmpe.bnn",
    "save_model": "gmlearn.gmpe.persistence",
    "load_model": "gmlearn.gmpe.persistence",
    "fit_mixed_effects": "gmlearn.gmpe.mixed_effects",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gmlearn.gmpe' has no attribute {name!r}")
