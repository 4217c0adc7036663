"""OpenQuake adapter: saved gmlearn models as GSIMs, in-process hazard jobs, results as DataFrames.

>>> from gmlearn import hazard
>>> result = hazard.run("job.ini", export_dir="out")  # doctest: +SKIP
>>> result.hazard_curves.head()  # doctest: +SKIP

In a gsim logic tree a saved model is a branch::

    <uncertaintyModel>[GMLearnGSIM]
    model_file = "tree_crustal/metadata.json"</uncertaintyModel>

Importing this package is cheap; OpenQuake loads when a name below is first used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GMLearnGSIM", "HazardResult", "check_job", "data_dir", "epistemic_branches", "example_dir", "export_table",
           "pack_model",
           "read_result", "run", "write_epistemic_logic_tree", "write_gsim_logic_tree"]

_NAMES = {
    "GMLearnGSIM": "gmlearn.hazard.gsim",
    "HazardResult": "gmlearn.hazard.results",
    "read_result": "gmlearn.hazard.results",
    "run": "gmlearn.hazard.runner",
    "check_job": "gmlearn.hazard.runner",
    "data_dir": "gmlearn.hazard.archive",
    "pack_model": "gmlearn.hazard.archive",
    "export_table": "gmlearn.hazard.table",
    "example_dir": "gmlearn.hazard.examples",
    "epistemic_branches": "gmlearn.hazard.branches",
    "write_epistemic_logic_tree": "gmlearn.hazard.branches",
    "write_gsim_logic_tree": "gmlearn.hazard.branches",
}


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        import importlib

        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    msg = f"module 'gmlearn.hazard' has no attribute {name!r}"
    raise AttributeError(msg)
