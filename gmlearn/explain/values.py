"""SHAP values of any gmlearn model, in ln units, on features in physical units.

Three routes, chosen by the model kind (``method="auto"``):

- ``"tree"``: exact Tree SHAP (:class:`shap.TreeExplainer`, Lundberg et al.
  2020) on the XGBoost booster of ``TreeGMM``, ``MonotoneGMM``,
  ``XGBoostBaseline`` and the residual learner of ``HybridGMM``. For the tree
  models the prediction is ``E[f] + c + sum(phi)``; for the hybrid it is
  ``base(x) + w(x) [E[f] + c + sum(phi)]``: the OpenQuake base term of each
  row is kept apart (``base_term``), and the learner's SHAP values are scaled
  by the fade weight ``w``, so base term + base value + SHAP = prediction.
- ``"kernel"``: Kernel SHAP (:class:`shap.KernelExplainer`, Lundberg and Lee
  2017) on the model's ``predict`` mean, for ``BayesianNNGMM``, published
  OpenQuake GMPEs and any other model. With up to about ten features every
  coalition is enumerated, so the values are the exact interventional Shapley
  values with respect to the background rows.
- ``"sampling"``: Shapley sampling (:class:`shap.SamplingExplainer`,
  Strumbelj and Kononenko 2014) for models with many features.

In every case ``base_values + values.sum(axis=1) == prediction`` (the model's
ergodic ln mean), up to XGBoost's float32 rounding.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import ModelError

__all__ = ["Explanation", "explain", "load_explainable", "model_features", "METHODS", "TREE_MODELS"]

#: Allowed values of the ``method`` argument.
METHODS: tuple[str, ...] = ("auto", "tree", "kernel", "sampling")

#: Models whose fixed effects are XGBoost boosters (exact Tree SHAP).
TREE_MODELS: tuple[str, ...] = ("TreeGMM", "MonotoneGMM", "HybridGMM", "XGBoostBaseline")


@dataclass(frozen=True)
class Explanation:
    """SHAP values of one model for one IMT.

    Attributes
    ----------
    imt
        OpenQuake IMT string.
    model
        Model class name (with the base GSIM for a hybrid).
    method
        ``"tree"``, ``"kernel"`` or ``"sampling"``.
    features
        Feature names, length n_features.
    data
        Feature values in physical units (schema units), shape (n_rows, n_features).
    values
        SHAP values in ln units (ln g for PGA and SA, ln cm/s for PGV), shape (n_rows, n_features).
    base_values
        Per-row start of the additive decomposition, shape (n_rows,): the
        expected learned term (with the bias) plus, for a hybrid, the base term.
    base_term
        The physics base term of a hybrid (its OpenQuake GSIM's ln mean), zeros
        otherwise, shape (n_rows,).
    weight
        Fade weight of the learned term (one except for a hybrid outside its
        training range), shape (n_rows,).
    prediction
        The model's ergodic ln mean for the rows, shape (n_rows,).
    interactions
        SHAP interaction values (tree models), shape (n_rows, n_features, n_features), or None.
    base_label
        Name of the base term in plots (e.g. ``"BooreEtAl2014 base term"``), empty without one.
    index
        Row labels of ``data`` in the table that was explained.
    """

    imt: str
    model: str
    method: str
    features: tuple[str, ...]
    data: pd.DataFrame
    values: np.ndarray
    base_values: np.ndarray
    base_term: np.ndarray
    weight: np.ndarray
    prediction: np.ndarray
    interactions: np.ndarray | None = None
    base_label: str = ""
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def expected_value(self) -> float:
        """Mean of ``base_values`` (a constant for models without a base term)."""
        return float(np.mean(self.base_values)) if len(self.base_values) else float("nan")

    def additivity_error(self) -> float:
        """Largest ``|base_values + sum(values) - prediction|`` over the rows (ln units)."""
        if not len(self.prediction):
            return 0.0
        return float(np.max(np.abs(self.base_values + self.values.sum(axis=1) - self.prediction)))

    def importance(self) -> pd.Series:
        """Mean absolute SHAP value per feature (ln units), largest first."""
        return pd.Series(np.abs(self.values).mean(axis=0), index=list(self.features)).sort_values(ascending=False)


# -- models and their features -----------------------------------------------------------
def model_features(model: Any) -> tuple[str, ...]:
    """Features a model's learned term reads (physical units), in the model's order.

    Raises
    ------
    ModelError
        If the model declares no features (e.g. its metadata.json lacks them).
    """
    feats = getattr(model, "features", None)
    if feats is None:
        feats = getattr(model, "required_features", None)
    feats = tuple(feats or ())
    if not feats:
        msg = f"{type(model).__name__} declares no features; SHAP values need the model's feature names."
        raise ModelError(msg)
    return feats


def load_explainable(path: str | Path) -> Any:
    """Load a saved model and check that its folder carries feature metadata.

    Parameters
    ----------
    path
        A folder written by :func:`gmlearn.gmpe.persistence.save_model`.

    Raises
    ------
    ModelError
        If the folder has no ``metadata.json``, or its metadata has no
        ``features`` (``required_features`` for a saved OpenQuake GMPE) list;
        the message names the folder, the field found and what is needed.
    """
    from gmlearn.gmpe.persistence import load_model

    folder = Path(path)
    meta_file = folder / "metadata.json"
    if not meta_file.is_file():
        msg = f"{folder} is not a gmlearn model folder: it has no metadata.json (written by gmlearn.gmpe.persistence.save_model or `gmlearn train`)."
        raise ModelError(msg)
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        msg = f"Corrupt model metadata {meta_file}: {exc}."
        raise ModelError(msg) from exc
    key = "required_features" if isinstance(meta, dict) and meta.get("class") == "OpenQuakeGMPE" else "features"
    feats = meta.get(key) if isinstance(meta, dict) else None
    if not isinstance(feats, list) or not feats or not all(isinstance(f, str) for f in feats):
        msg = (f"{meta_file} has no feature metadata: field {key!r} is {feats!r}; explaining a model needs a "
               f"non-empty list of feature names there. Re-save the model with gmlearn.gmpe.persistence.save_model.")
        raise ModelError(msg)
    return load_model(folder)


def _kind(model: Any) -> str:
    name = type(model).__name__
    if name in TREE_MODELS and (hasattr(model, "boosters_") or hasattr(model, "models_")):
        return "tree"
    return "kernel"


def _resolve_method(model: Any, method: str) -> str:
    if method not in METHODS:
        msg = f"The 'method' parameter of explain must be one of {list(METHODS)}. Got {method!r} instead."
        raise ValueError(msg)
    kind = _kind(model)
    if method == "auto":
        return kind
    if method == "tree" and kind != "tree":
        msg = f"method='tree' needs an XGBoost model ({list(TREE_MODELS)}); {type(model).__name__} is explained with 'kernel' or 'sampling'."
        raise ModelError(msg)
    return method


def _label(model: Any) -> str:
    name = type(model).__name__
    if name == "HybridGMM":
        return f"HybridGMM({model.base})"
    if name == "OpenQuakeGMPE":
        return f"OpenQuakeGMPE({model.gsim})"
    return name


def _check_table(table: pd.DataFrame, model: Any, imt: str) -> None:
    from gmlearn.gmpe.base import check_features

    if not isinstance(table, pd.DataFrame):
        msg = f"explain needs a pandas DataFrame of records; got {type(table).__name__}."
        raise ModelError(msg)
    if len(table) == 0:
        msg = (f"The data table is empty (0 rows); explaining {_label(model)} for {imt} needs at least one row "
               f"with its features {list(model_features(model))}.")
        raise ModelError(msg)
    check_features(table, tuple(getattr(model, "required_features", model_features(model))), model=_label(model))


def _imt_of(model: Any, imt: str | None) -> str:
    from gmlearn.schema import imt_string

    fitted = list(getattr(model, "imts_", []) or [])
    if imt is None:
        if not fitted:
            msg = f"{_label(model)} has no fitted IMTs; pass imt='PGA' (or another IMT it predicts)."
            raise ModelError(msg)
        return fitted[0]
    name = imt_string(imt)
    if fitted and name not in fitted:
        msg = f"{_label(model)} was fitted for {fitted}; cannot explain {name!r}."
        raise ModelError(msg)
    return name


# -- the three routes ----------------------------------------------------------------------
def _anchoring(model: Any, table: pd.DataFrame, imt: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, str]:
    """Rows the learner sees (clamped into the training box), the weight of its term and the physics term.

    Inside the box the mean is ``physics_term(x) + learner(x) + bias`` (weight 1).
    Outside it (``extrapolation="base"``) it is ``A(x) + w (physics_term(x̄) - A(x̄)) + w (learner(x̄) + bias)``
    with ``x̄`` the clamped row and ``w`` the kept share of the edge correction (:mod:`gmlearn.gmpe.anchor`);
    a row of a region the model was not trained on is the base ``A(x)`` alone (weight 0).
    """
    n = len(table)
    physics = model.physics_term(table, [imt])[0] if hasattr(model, "physics_term") else np.zeros(n)
    anchor = getattr(model, "anchor_", None)
    label = f"{'+'.join(anchor.base)} base term" if anchor is not None and getattr(model, "base", None) is not None else ""
    if anchor is None or getattr(model, "extrapolation", "base") != "base":
        return table, np.ones(n), physics, label
    outside, foreign = anchor.outside(table), anchor.foreign(table)
    if not (outside.any() or foreign.any()):
        return table, np.ones(n), physics, label
    clamped = anchor.clamp(table)
    base_x = anchor.ensemble.predict(table, [imt]).mean[0]
    base_c = anchor.ensemble.predict(clamped, [imt]).mean[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        delta = model._learned(clamped, [imt])[0] - base_c
    w_plus, w_minus = anchor.weights(table)
    weight = np.where(outside, np.where(delta > 0, w_plus, w_minus), 1.0)
    weight[foreign] = 0.0
    physics_c = model.physics_term(clamped, [imt])[0] if hasattr(model, "physics_term") else np.zeros(n)
    term = np.where(outside | foreign, base_x + weight * (physics_c - base_c), physics)
    return clamped, weight, term, label or f"{'+'.join(anchor.base)} base term"


def _tree(model: Any, table: pd.DataFrame, imt: str, feats: tuple[str, ...], interactions: bool) -> dict[str, Any]:
    import shap

    seen, weight, base, label = _anchoring(model, table, imt)
    x = np.column_stack([pd.to_numeric(seen[c]).to_numpy(dtype=float) for c in feats])
    booster = model.boosters_[imt] if hasattr(model, "boosters_") else model.models_[imt]
    explainer = shap.TreeExplainer(booster)
    values = np.asarray(explainer.shap_values(x), dtype=float)
    expected = float(np.ravel(explainer.expected_value)[0])
    bias = float(getattr(model, "effects_", {}).get(imt, {}).get("bias", 0.0))
    inter = None
    if interactions:
        inter = np.asarray(explainer.shap_interaction_values(x), dtype=float) * weight[:, None, None]
    return {"values": values * weight[:, None], "base_values": base + weight * (expected + bias),
            "base_term": base, "weight": weight, "interactions": inter, "base_label": label}


def _predict_fn(model: Any, imt: str, feats: tuple[str, ...], template: pd.DataFrame):  # noqa: ANN202
    """``f(X)``: the model's ergodic ln mean with the columns ``feats`` replaced by ``X`` (n, p)."""
    row = template.iloc[:1]

    def f(x: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame(np.repeat(row.to_numpy(), len(x), axis=0), columns=row.columns)
        for j, name in enumerate(feats):
            frame[name] = x[:, j]
        frame = frame.infer_objects()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(model.predict(frame, [imt]).mean[0], dtype=float)

    return f


def _model_agnostic(model: Any, table: pd.DataFrame, imt: str, feats: tuple[str, ...], method: str,
                    background: pd.DataFrame, nsamples: int | str) -> dict[str, Any]:
    import shap

    extra = [c for c in getattr(model, "required_features", ()) if c not in feats]
    if extra:  # the other required columns are held at their value in the first row
        msg = f"{_label(model)} needs {extra} besides its features; they are held at the first row's values."
        warnings.warn(msg, UserWarning, stacklevel=3)
    f = _predict_fn(model, imt, feats, table)
    x = np.column_stack([pd.to_numeric(table[c]).to_numpy(dtype=float) for c in feats])
    bg = np.column_stack([pd.to_numeric(background[c]).to_numpy(dtype=float) for c in feats])
    if method == "kernel":
        explainer = shap.KernelExplainer(f, bg)
        values = explainer.shap_values(x, nsamples=nsamples, silent=True)
    else:
        explainer = shap.SamplingExplainer(f, bg)
        values = explainer.shap_values(x, nsamples=nsamples if nsamples != "auto" else 2 * 2048, silent=True)
    values = np.asarray(values, dtype=float).reshape(len(x), len(feats))
    expected = float(np.ravel(explainer.expected_value)[0])
    n = len(table)
    return {"values": values, "base_values": np.full(n, expected), "base_term": np.zeros(n), "weight": np.ones(n),
            "interactions": None, "base_label": ""}


def explain(
    model: Any,
    table: pd.DataFrame,
    imt: str | None = None,
    *,
    method: str = "auto",
    max_rows: int | None = 500,
    background_size: int = 20,
    background: pd.DataFrame | None = None,
    nsamples: int | str = "auto",
    interactions: bool = True,
    random_state: int = 0,
) -> Explanation:
    """SHAP values of ``model`` for ``imt`` on the rows of ``table``.

    Parameters
    ----------
    model
        A fitted gmlearn model (``TreeGMM``, ``MonotoneGMM``, ``HybridGMM``,
        ``BayesianNNGMM``, ``XGBoostBaseline``, ``OpenQuakeGMPE`` ...).
    table
        Records with the model's features in physical (schema) units.
    imt
        IMT to explain (default: the model's first).
    method
        ``"auto"`` (tree for XGBoost models, kernel otherwise), ``"tree"``,
        ``"kernel"`` or ``"sampling"``.
    max_rows
        Explain a random subset of this many rows (None: all).
    background_size
        Background rows of the kernel and sampling explainers (random rows of ``table``).
    background
        Explicit background rows (with the model's features) instead of a random choice.
    nsamples
        Coalitions per row of the kernel/sampling explainers (``"auto"``:
        shap's default, which enumerates every coalition up to ~11 features).
    interactions
        Compute SHAP interaction values (tree models only).
    random_state
        Seed of the row subset and the background rows.

    Returns
    -------
    Explanation

    Raises
    ------
    ModelError
        For an empty table, an IMT the model lacks, or a model without features.
    MissingColumnError
        If a feature column is missing.

    Warns
    -----
    OutOfRangeWarning
        Passed on from the model for rows outside its training range.
    """
    name = _imt_of(model, imt)
    _check_table(table, model, name)
    route = _resolve_method(model, method)
    feats = model_features(model)
    rng = np.random.default_rng(random_state)
    rows = table.reset_index(drop=True)
    index = np.arange(len(rows))
    if max_rows is not None and len(rows) > max_rows:
        index = np.sort(rng.choice(len(rows), size=int(max_rows), replace=False))
        rows = rows.iloc[index].reset_index(drop=True)
    prediction = np.asarray(model.predict(rows, [name]).mean[0], dtype=float)  # warns when out of range
    if route == "tree":
        parts = _tree(model, rows, name, feats, interactions)
    else:
        if background is None:
            pick = rng.choice(len(table), size=min(background_size, len(table)), replace=False)
            background = table.iloc[np.sort(pick)]
        parts = _model_agnostic(model, rows, name, feats, route, background, nsamples)
    data = pd.DataFrame({c: pd.to_numeric(rows[c]).to_numpy(dtype=float) for c in feats})
    return Explanation(imt=name, model=_label(model), method=route, features=feats, data=data,
                       prediction=prediction, index=index, **parts)


def explain_many(model: Any, table: pd.DataFrame, imts: Sequence[str], **kwargs: Any) -> dict[str, Explanation]:
    """:func:`explain` for several IMTs with the same rows (same ``random_state``)."""
    return {imt: explain(model, table, imt, **kwargs) for imt in imts}


__all__ += ["explain_many"]
