"""gsim logic trees of gmlearn models: weighted model branches and a Bayesian model's epistemic branches.

A Bayesian model (:class:`gmlearn.gmpe.bnn.BayesianNNGMM`) predicts, per row,
a posterior distribution of the median: mean ``mu`` and epistemic standard
deviation ``s``. Hazard practice carries epistemic uncertainty in the logic
tree rather than in sigma, so :func:`epistemic_branches` discretises the
standard normal with Gauss-Hermite quadrature: branch *i* predicts
``mu + z_i s`` with weight ``w_i`` and the aleatory sigma only. With ``n``
points the branch weights reproduce the first ``2n - 1`` moments of the
normal (mean and variance exactly for ``n >= 2``); ``n = 3`` gives
``z = -1.732, 0, 1.732`` with weights 1/6, 2/3, 1/6.

The shift is one ``z`` for all rows, so each branch is a whole model that is
consistently high or low across sites and magnitudes; that is the
conservative reading of a posterior (full correlation) and what a logic tree
of alternative models expresses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from gmlearn.exceptions import ModelError

__all__ = ["epistemic_branches", "write_epistemic_logic_tree", "write_gsim_logic_tree"]

_NRML = """<?xml version="1.0" encoding="UTF-8"?>
<nrml xmlns:gml="http://www.opengis.net/gml" xmlns="http://openquake.org/xmlns/nrml/0.4">
  <logicTree logicTreeID="gmlearn">
    <logicTreeBranchSet uncertaintyType="gmpeModel" branchSetID="bs1" applyToTectonicRegionType={trt}>
{branches}
    </logicTreeBranchSet>
  </logicTree>
</nrml>
"""
_BRANCH = """      <logicTreeBranch branchID={bid}>
        <uncertaintyModel>{model}</uncertaintyModel>
        <uncertaintyWeight>{weight}</uncertaintyWeight>
      </logicTreeBranch>"""


def epistemic_branches(n: int = 3) -> list[tuple[float, float]]:
    """``(z, weight)`` of ``n`` Gauss-Hermite points of the standard normal, weights summing to 1.

    Raises
    ------
    ModelError
        If ``n`` is not an integer from 1 to 9.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 1 <= n <= 9:
        msg = f"n (number of epistemic branches) must be an integer from 1 to 9; got {n!r}."
        raise ModelError(msg)
    z, w = np.polynomial.hermite_e.hermegauss(int(n))
    w = w / w.sum()
    return [(float(zi), float(wi)) for zi, wi in zip(z, w)]


def _weights(weights: Sequence[float]) -> list[str]:
    """Decimal strings summing to exactly 1 (OpenQuake checks the sum), the rounding put on the largest."""
    digits = [round(float(w), 6) for w in weights]
    k = int(np.argmax(digits))
    digits[k] = round(1.0 - sum(d for i, d in enumerate(digits) if i != k), 6)
    return [f"{d:.6f}" for d in digits]


def _model_text(model_file: str | os.PathLike[str], start: Path, extra: Mapping[str, Any]) -> str:
    path = Path(model_file).expanduser().absolute()
    if path.is_dir():  # OpenQuake reads every *_file argument as one file
        path = path / "metadata.json"
    rel = os.path.relpath(path, start.absolute())
    lines = ["[GMLearnGSIM]", f'model_file = "{rel}"'] + [f"{k} = {v!r}" for k, v in extra.items()]
    return escape("\n".join(lines))


def write_gsim_logic_tree(
    branches: Sequence[tuple[str | os.PathLike[str], float] | tuple[str | os.PathLike[str], float, Mapping[str, Any]]],
    out: str | os.PathLike[str],
    *,
    trt: str | None = None,
) -> Path:
    """Write a gsim logic tree whose branches are saved gmlearn models.

    Parameters
    ----------
    branches
        ``(model_file, weight)`` or ``(model_file, weight, extra GSIM arguments)``;
        weights must sum to 1 (within 1e-6). Model paths are written relative
        to ``out``'s folder, as OpenQuake resolves them.
    out
        The XML file (written atomically).
    trt
        Tectonic region type of the branch set (default: the first model's
        ``tectonic_region_type``, else "Active Shallow Crust").

    Raises
    ------
    ModelError
        No branches, weights not summing to 1, or a model that cannot be used.
    """
    from gmlearn.hazard.gsim import check_epistemic, model_spec
    from gmlearn.store.atomic import atomic_write_bytes

    if not branches:
        msg = "a logic tree needs at least one branch; got none."
        raise ModelError(msg)
    weights = [float(b[1]) for b in branches]
    if any(not np.isfinite(w) or w <= 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-6:
        msg = f"branch weights must be positive and sum to 1; got {weights} (sum {sum(weights):.6f})."
        raise ModelError(msg)
    out = Path(out)
    specs = []
    for b in branches:
        spec = model_spec(b[0], refresh=True)
        extra = dict(b[2]) if len(b) > 2 else {}  # type: ignore[misc]
        check_epistemic(spec.folder, extra.get("epistemic_z"))
        specs.append(spec)
    region = trt or str(getattr(specs[0].trt, "value", specs[0].trt))
    body = "\n".join(
        _BRANCH.format(bid=quoteattr(f"b{k + 1}"), model=_model_text(b[0], out.parent, dict(b[2]) if len(b) > 2 else {}),
                       weight=w)
        for k, (b, w) in enumerate(zip(branches, _weights(weights))))
    return atomic_write_bytes(out, _NRML.format(trt=quoteattr(region), branches=body).encode())


def write_epistemic_logic_tree(model_file: str | os.PathLike[str], out: str | os.PathLike[str], *, n: int = 3,
                               trt: str | None = None) -> Path:
    """Write a gsim logic tree of a Bayesian model's ``n`` epistemic branches (see the module docstring).

    Each branch is ``[GMLearnGSIM]`` with ``model_file`` and ``epistemic_z``;
    weights from :func:`epistemic_branches`.

    Raises
    ------
    ModelError
        If the model is not Bayesian, or ``n`` is out of range.
    """
    return write_gsim_logic_tree([(model_file, w, {"epistemic_z": round(z, 6)}) for z, w in epistemic_branches(n)],
                                 out, trt=trt)
