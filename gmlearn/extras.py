"""Optional dependencies and the ``pip install 'gmlearn[EXTRA]'`` that brings each.

The core install (``pip install gmlearn``) covers the feature store, the
boosted and monotone regressors, evaluation, hazard and shakemaps. The rest
needs an extra; a missing one is reported in one line naming it
(:func:`missing_extra_message`), by the ``gmlearn`` command and by
:func:`require`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtraError", "missing_extra_message", "require"]

#: Top-level module -> the extra that installs it (see pyproject.toml).
EXTRAS: dict[str, str] = {
    "torch": "waveform", "safetensors": "waveform",
    "pymc": "bnn", "arviz": "bnn", "pytensor": "bnn",
    "shap": "explain",
    "dask": "distributed", "distributed": "distributed",
    "onnxruntime": "bench",
    "mkdocs": "docs", "mkdocstrings": "docs",
}


class MissingExtraError(ModuleNotFoundError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def missing_extra_message(exc: BaseException, feature: str | None = None) -> str | None:
    """One line naming the extra that provides the module ``exc`` failed to import, or None if none does."""
    name = getattr(exc, "name", None)
    if not isinstance(exc, ImportError) or not name:
        return None
    top = name.split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return None
    what = f"{feature} needs" if feature else "this needs"
    return f"{what} the optional dependency {top!r}, which is not installed; install it with: pip install 'gmlearn[{extra}]'"


def require(module: str, feature: str) -> ModuleType:
    """Import an optional dependency, or raise :class:`MissingExtraError` naming its extra.

    Parameters
    ----------
    module
        Module to import (``"torch"``, ``"shap"``, ...).
    feature
        What needs it, for the message (``"the diffusion waveform generator"``).
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        msg = missing_extra_message(exc, feature)
        if msg is None:
            raise
        raise MissingExtraError(msg, name=exc.name) from exc
