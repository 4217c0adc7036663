"""Explanations of ground-motion models: SHAP values and self-contained HTML reports.

>>> from gmlearn.explain import explain, write_report, load_explainable
>>> model = load_explainable("models/hybrid")  # doctest: +SKIP
>>> expl = explain(model, table, "PGA")  # doctest: +SKIP
>>> expl.base_values + expl.values.sum(axis=1)  # == model.predict(table).mean  # doctest: +SKIP
>>> write_report(model, table, "report.html")  # doctest: +SKIP

Importing this package is cheap; shap and matplotlib load when a function runs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_NAMES = {
    "Explanation": "gmlearn.explain.values",
    "explain": "gmlearn.explain.values",
    "explain_many": "gmlearn.explain.values",
    "load_explainable": "gmlearn.explain.values",
    "Report": "gmlearn.explain.report",
    "write_report": "gmlearn.explain.report",
    "model_card": "gmlearn.explain.report",
    "export_pdf": "gmlearn.explain.pdf",
    "pdf_engine": "gmlearn.explain.pdf",
    "gmpe_scaling": "gmlearn.explain.scaling",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(import_module(_NAMES[name]), name)
    msg = f"module 'gmlearn.explain' has no attribute {name!r}"
    raise AttributeError(msg)
