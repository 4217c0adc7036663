"""Base class of every gmlearn ground-motion model."""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError

from gmlearn.exceptions import MissingColumnError, ModelError, OutOfRangeWarning
from gmlearn.gmpe.prediction import Prediction
from gmlearn.schema import imt_string

__all__ = [
    "GroundMotionModel", "check_features", "as_imts", "imt_seed", "training_ranges", "warn_out_of_range",
    "STATION_MODES", "check_station_mode", "add_station_terms", "as_float", "fit_inputs", "target_frame",
    "NotFittedModelError", "caller_stacklevel",
]

#: Allowed values of the ``station_terms`` argument of ``predict``.
STATION_MODES: tuple[str, ...] = ("ergodic", "known")


def imt_seed(random_state: int, imt: str) -> int:
    """Seed for one IMT's random choices: depends on the IMT name, not its position in a list."""
    import zlib

    return (int(random_state) + zlib.crc32(imt.encode())) % (2**32)


def as_imts(imts: str | Iterable[str]) -> list[str]:
    """Canonical IMT strings from one string or an iterable."""
    items = [imts] if isinstance(imts, str) else list(imts)
    if not items:
        msg = "The 'imts' parameter must name at least one IMT, e.g. ['PGA', 'SA(1.0)']."
        raise ValueError(msg)
    return [imt_string(i) for i in items]


#: Columns that can never be negative (distances, basin depths, rupture width); features outside the
#: schema take only this rule. Every schema column also takes its valid range (vs30 50-5000 m/s ...).
_NON_NEGATIVE = ("rrup", "rjb", "repi", "rhypo", "ry0", "z1pt0", "z2pt5", "width")


def _one_float(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return np.nan
    return out


def as_float(values: pd.Series) -> np.ndarray:
    """A column as float64, with NaN for anything that is not a real number (text, complex, None)."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_complex_dtype(values):
        return np.full(len(values), np.nan)
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiu":  # plain numeric: no per-value work
        return values.to_numpy(dtype=float)
    if values.dtype == object:  # mixed cells: True is not the number 1
        odd = values.map(lambda v: isinstance(v, (bool, np.bool_, complex, bytes))).to_numpy(dtype=bool)
        if odd.any():
            values = values.where(~odd, None)
    try:
        converted = pd.to_numeric(values, errors="coerce")
        if np.iscomplexobj(converted) or pd.api.types.is_bool_dtype(converted):
            return np.full(len(values), np.nan)
        return np.asarray(converted, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return np.array([np.nan if isinstance(v, (bool, np.bool_, complex)) else _one_float(v) for v in values], dtype=float)


def _is_flag(value: object) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return True
    return isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1)


def _allowed(name: str) -> tuple[float, float, str]:
    """Inclusive limits of a feature (the schema's valid range) and a phrase for messages."""
    from gmlearn.schema import COLUMNS

    col = COLUMNS.get(name)
    lo = -np.inf if col is None or col.min is None else float(col.min)
    hi = np.inf if col is None or col.max is None else float(col.max)
    if name in _NON_NEGATIVE:
        lo = max(lo, 0.0)
    unit = f" {col.unit}" if col is not None and col.unit else ""
    text = "finite numbers" if (lo, hi) == (-np.inf, np.inf) else f"finite numbers in [{lo:g}, {hi:g}]{unit}"
    return lo, hi, text


def check_features(table: pd.DataFrame, required: Sequence[str], *, model: str) -> None:
    """Raise if ``table`` lacks a required column or holds impossible values.

    A numeric feature must hold finite real numbers (numeric text is read as a
    number; booleans, other text, complex numbers, NaN and inf are refused)
    inside the valid range of :data:`gmlearn.schema.COLUMNS` (negative distances,
    magnitudes outside 0-10, distances above 20000 km, vs30 outside 50-5000 m/s
    ...); features outside the schema need finite values only. A
    boolean feature (``vs30measured``) must have no missing value.

    Raises
    ------
    MissingColumnError
        Naming the missing columns and listing what was given.
    ValueError
        For an impossible or missing value, naming the column, the first row,
        its value and what is allowed.
    """
    from gmlearn.schema import COLUMNS

    if not isinstance(table, pd.DataFrame):
        msg = f"{model} needs a pandas DataFrame of features. Got {type(table).__name__} instead."
        raise TypeError(msg)
    missing = [c for c in required if c not in table.columns]
    if missing:
        msg = f"{model} requires column(s) {missing}; the table has {list(map(str, table.columns))}."
        raise MissingColumnError(msg)
    for name in required:
        values = table[name]
        if isinstance(values, pd.DataFrame):
            msg = f"{model}: column {name!r} appears {values.shape[1]} times in the table; column names must be unique."
            raise ValueError(msg)
        col = COLUMNS.get(name)
        if col is not None and col.dtype == "bool":
            if isinstance(values.dtype, np.dtype) and values.dtype.kind == "b":
                bad = np.zeros(len(values), dtype=bool)  # a numpy bool column holds flags only
            elif isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiu":
                bad = ~np.isin(values.to_numpy(), (0, 1))
            else:
                bad = ~values.map(_is_flag).to_numpy(dtype=bool)
            allowed = "True or False (or 1/0)"
        else:
            arr = as_float(values)
            lo, hi, allowed = _allowed(name)
            bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            value = values.iloc[pos]
            value = value.item() if isinstance(value, np.generic) else value
            msg = (
                f"{model}: column {name!r} has {int(bad.sum())} impossible or missing value(s); "
                f"first at row {pos}: {value!r}. Allowed: {allowed}."
            )
            raise ValueError(msg)


def training_ranges(table: pd.DataFrame, features: Sequence[str]) -> dict[str, list[float]]:
    """``{feature: [min, max]}`` over the finite values of each feature (raw units)."""
    ranges = {}
    for name in features:
        values = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            ranges[name] = [float(values.min()), float(values.max())]
    return ranges


#: gmlearn's tectonic-region labels (``events.tectonic_region``) -> OpenQuake tectonic region types.
OQ_TECTONIC_REGION_TYPES: dict[str, str] = {
    "crustal": "Active Shallow Crust",
    "interface": "Subduction Interface",
    "slab": "Subduction IntraSlab",
    "stable": "Stable Shallow Crust",
    "volcanic": "Volcanic",
}


def tectonic_region_type(table: pd.DataFrame) -> str | None:
    """OpenQuake tectonic region type of the training rows, when they all share one ``tectonic_region``.

    None when the column is absent, mixes regions, or holds ``unknown``; the
    OpenQuake adapter then declares Active Shallow Crust (informational: the
    logic tree decides where a branch applies).
    """
    if "tectonic_region" not in table:
        return None
    labels = set(table["tectonic_region"].dropna().astype(str).str.lower())
    return OQ_TECTONIC_REGION_TYPES.get(labels.pop()) if len(labels) == 1 else None


def caller_stacklevel(stacklevel: int) -> int:
    """``stacklevel`` for :func:`warnings.warn` in the calling function, not counting ``fit``/``predict`` wrapper frames.

    Every model's ``fit`` and ``predict`` run inside a wrapper (see
    :class:`GroundMotionModel`); a warning raised with
    ``stacklevel=caller_stacklevel(n)`` points where ``stacklevel=n`` would
    without the wrapper: at the user's call.
    """
    import sys

    frame = sys._getframe(1)  # the function that warns: level 1
    counted = out = 1
    while counted < stacklevel and frame.f_back is not None:
        frame = frame.f_back
        out += 1
        if frame.f_code not in _WRAPPER_CODES:
            counted += 1
    return out


def warn_out_of_range(table: pd.DataFrame, ranges: Mapping[str, Sequence[float]], model: str, *, stacklevel: int = 2) -> None:
    """Warn (:class:`OutOfRangeWarning`) per feature of ``table`` outside its fitted range, naming the worst value.

    Used by every learned model; ``stacklevel`` points the warning at the caller.
    """
    for name, (lo, hi) in ranges.items():
        if name not in table:
            continue
        column = table[name]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in "fiub":
            values = column.to_numpy(dtype=float)
        else:
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        out = np.isfinite(values) & ((values < lo) | (values > hi))
        if out.any():
            worst = values[out][np.argmax(np.maximum(lo - values[out], values[out] - hi))]
            warnings.warn(
                f"{model}: {int(out.sum())} row(s) have {name} outside the training range "
                f"[{lo:g}, {hi:g}] (e.g. {worst:g}); predictions there extrapolate.",
                OutOfRangeWarning,
                stacklevel=caller_stacklevel(stacklevel + 1),
            )


def check_station_mode(station_terms: str, table: pd.DataFrame) -> None:
    """Raise unless ``station_terms`` is allowed and, for ``"known"``, ``table`` has ``station_id``."""
    if station_terms not in STATION_MODES:
        msg = f"The 'station_terms' parameter must be one of {list(STATION_MODES)}. Got {station_terms!r} instead."
        raise ValueError(msg)
    if station_terms == "known" and "station_id" not in table:
        msg = "station_terms='known' needs a 'station_id' column to look up station terms; the table has none."
        raise ValueError(msg)


def add_station_terms(mean: np.ndarray, phi: np.ndarray, effects: dict, table: pd.DataFrame) -> None:
    """Non-ergodic prediction for one IMT, in place: add dS2S and use phi_SS at stations seen in training.

    ``mean`` and ``phi`` have shape (n_rows,); ``effects`` holds ``station_terms``
    (a Series by station id) and ``phi_ss``. Rows of unknown stations stay ergodic.
    """
    if not len(effects["station_terms"]):
        return
    terms = effects["station_terms"].reindex(table["station_id"].astype(str).to_numpy()).to_numpy(dtype=float)
    known = np.isfinite(terms)
    mean[known] += terms[known]
    phi[known] = effects["phi_ss"]


def target_frame(y: object, *, model: str = "GroundMotionModel") -> pd.DataFrame:
    """``y`` of a scikit-learn style call as a DataFrame of ln IMs with canonical IMT column names.

    ``y`` is a DataFrame with one column per IMT (``"PGA"``, ``"SA(1.0)"``;
    natural logs of g, or of cm/s for PGV; NaN where not observed) or a
    Series named by its IMT.

    Raises
    ------
    TypeError
        For arrays and other objects without IMT names.
    ValueError
        For a column name that is not an IMT, or two names of the same IMT.
    """
    from gmlearn.schema import is_imt

    if isinstance(y, pd.Series):
        if y.name is None:
            msg = f"{model}: a Series y must be named by its IMT (e.g. y.rename('PGA')). Got an unnamed Series instead."
            raise ValueError(msg)
        y = y.to_frame()
    if not isinstance(y, pd.DataFrame):
        msg = (f"{model}: y must be a pandas DataFrame of ln IMs with one column per IMT (e.g. 'PGA', 'SA(1.0)') "
               f"or a Series named by its IMT. Got {type(y).__name__} instead; arrays carry no IMT names.")
        raise TypeError(msg)
    bad = [c for c in y.columns if not (isinstance(c, str) and is_imt(c))]
    if bad:
        msg = f"{model}: the columns of y must be IMT names such as 'PGA', 'PGV', 'SA(1.0)'. Got {bad} instead."
        raise ValueError(msg)
    names = [imt_string(c) for c in y.columns]
    if len(set(names)) != len(names):
        msg = f"{model}: y names the same IMT twice: {list(y.columns)}."
        raise ValueError(msg)
    return y.set_axis(names, axis=1)


def fit_inputs(table: object, y: object, *, model: str = "GroundMotionModel") -> tuple[pd.DataFrame, list[str]]:
    """``(table, imts)`` of the table API from either calling convention of ``fit``.

    ``fit(table, imts)``: ``table`` holds the ln IMT columns, ``imts`` names
    them (a string or a list). ``fit(X, y)``: ``X`` holds the features and
    keys, ``y`` the ln IMs (:func:`target_frame`); rows match by position,
    as everywhere in scikit-learn, and ``y``'s columns replace any of the
    same name in ``X`` (``X`` itself is not modified).
    """
    if not isinstance(table, pd.DataFrame):
        msg = (f"{model} needs a pandas DataFrame of features named by the schema (mag, rrup, vs30, ..., "
               f"event_id). Got {type(table).__name__} instead; arrays of unnamed features cannot be used.")
        raise TypeError(msg)
    if y is None:
        msg = (f"{model}.fit needs the targets: fit(table, imts) with ln IMT columns in the table, "
               "or fit(X, y) with y a DataFrame of ln IMs named by IMT.")
        raise ValueError(msg)
    if isinstance(y, str) or (isinstance(y, (list, tuple)) and all(isinstance(i, str) for i in y)):
        return table, as_imts(y)
    frame = target_frame(y, model=model)
    if len(frame) != len(table):
        msg = f"{model}: X has {len(table)} rows but y has {len(frame)}; they must match row by row."
        raise ValueError(msg)
    values = {name: frame[name].to_numpy(dtype=float) for name in frame.columns}
    return table.assign(**values), list(frame.columns)


class NotFittedModelError(ModelError, NotFittedError):
    """A model was used before :meth:`~GroundMotionModel.fit` (also scikit-learn's ``NotFittedError``)."""


def _wrap_fit(fit: Callable) -> Callable:
    """``fit`` accepting ``(table, imts)`` or scikit-learn's ``(X, y)``; see :func:`fit_inputs`."""
    if getattr(fit, "_accepts_xy", False):
        return fit

    @functools.wraps(fit)
    def wrapper(self: GroundMotionModel, table: object = None, imts: object = None, /, *args: Any, **kwargs: Any) -> Any:
        table = kwargs.pop("X", kwargs.pop("table", table))
        imts = kwargs.pop("y", kwargs.pop("imts", imts))
        table, names = fit_inputs(table, imts, model=type(self).__name__)
        return fit(self, table, names, *args, **kwargs)

    wrapper._accepts_xy = True  # type: ignore[attr-defined]
    return wrapper


def _wrap_predict(predict: Callable) -> Callable:
    """``predict`` that labels the Prediction's rows with the table's index and defaults to the fitted IMTs."""
    if getattr(predict, "_keeps_index", False):
        return predict

    @functools.wraps(predict)
    def wrapper(self: GroundMotionModel, table: object = None, imts: object = None, /, *args: Any, **kwargs: Any) -> Any:
        table = kwargs.pop("X", kwargs.pop("table", table))
        imts = kwargs.pop("imts", imts)
        if imts is None:
            imts = getattr(self, "imts_", None)
        try:
            pred = predict(self, table, *(() if imts is None else (imts,)), *args, **kwargs)
        except ModelError as exc:
            if isinstance(exc, NotFittedError) or self.__sklearn_is_fitted__():
                raise
            raise NotFittedModelError(str(exc)) from exc
        if isinstance(pred, Prediction) and isinstance(table, pd.DataFrame) and pred.n_rows == len(table) and pred.index is None:
            pred = pred.with_index(table.index)
        return pred

    wrapper._keeps_index = True  # type: ignore[attr-defined]
    return wrapper


def _wrapper_code(wrap: Callable) -> Any:
    return wrap(lambda self, *a, **k: None).__code__


#: Code objects of the fit/predict wrappers, skipped when warnings point at the caller.
_WRAPPER_CODES = (_wrapper_code(_wrap_fit), _wrapper_code(_wrap_predict))


class GroundMotionModel(RegressorMixin, BaseEstimator):
    """Interface of gmlearn's ground-motion models: scikit-learn regressors of ln IMs.

    Subclasses follow scikit-learn's contract: ``__init__`` stores keyword
    arguments only; learned state ends in ``_``; :meth:`fit` returns ``self``.
    :meth:`predict` returns a :class:`Prediction` shaped (n_imts, n_rows)
    in natural-log units, its rows labelled by the table's index.

    Two calling conventions, one model:

    - table API: ``fit(table, imts)`` with ln IMT columns in ``table``;
      ``predict(table, imts)``.
    - scikit-learn: ``fit(X, y)`` with ``y`` a DataFrame of ln IMs named by
      IMT (or a Series named by its IMT); ``predict(X)`` predicts every fitted
      IMT; ``score(X, y)`` is the negative RMS of the ln residuals. ``X`` is
      a DataFrame of named features and keys (``event_id``, ``station_id``),
      so ``GridSearchCV`` and ``cross_val_score`` with ``GroupKFold`` and
      ``groups=X["event_id"]`` work.

    Every subclass's ``fit`` and ``predict`` accept both (they are wrapped
    when the subclass is defined), ``get_params`` and ``set_params`` follow
    the constructor's signature, and ``clone`` gives an unfitted copy.
    """

    #: Columns the model reads from a table.
    required_features: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "fit" in cls.__dict__:
            cls.fit = _wrap_fit(cls.__dict__["fit"])  # type: ignore[method-assign]
        if "predict" in cls.__dict__:
            cls.predict = _wrap_predict(cls.__dict__["predict"])  # type: ignore[method-assign]

    def fit(self, table: pd.DataFrame, imts: str | Iterable[str]) -> "GroundMotionModel":
        """Fit on a flat table with ln IMT columns (or on ``X, y``); return ``self``."""
        raise NotImplementedError

    def predict(self, table: pd.DataFrame, imts: str | Iterable[str] | None = None) -> Prediction:
        """Predict ln IM mean, tau, phi and sigma for every row of ``table``."""
        raise NotImplementedError

    def adapt(self, table: pd.DataFrame, imts: str | Iterable[str] | None = None, *,
              prior_sd: Mapping[str, float] | None = None) -> "GroundMotionModel":
        """Adapt this model to a target region from its records (:mod:`gmlearn.gmpe.adapt`).

        Returns a new :class:`~gmlearn.gmpe.adapt.AdaptedModel`; ``self`` is not changed.
        """
        from gmlearn.gmpe.adapt import adapt

        return adapt(self, table, imts, prior_sd=prior_sd)

    def _needs_fit(self) -> bool:
        """Whether ``predict`` needs a fit first: True for every class with its own ``fit``."""
        return type(self).fit is not GroundMotionModel.fit

    def __sklearn_is_fitted__(self) -> bool:
        """True once :meth:`fit` has run or a saved model was loaded (the model knows its ``imts_``), or when no fit is needed."""
        return hasattr(self, "imts_") or not self._needs_fit()

    def get_params(self, deep: bool = True) -> dict:
        """Constructor arguments (scikit-learn convention).

        With ``deep``, a parameter that is itself an estimator (e.g. a
        physics ``base`` model) also contributes its parameters as
        ``name__param``.
        """
        out = {n: getattr(self, n) for n in self._get_param_names()}
        if deep:
            for name, value in list(out.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    out.update({f"{name}__{k}": v for k, v in value.get_params(deep=True).items()})
        return out

    def set_params(self, **params: Any) -> "GroundMotionModel":
        """Set constructor arguments (``name`` or ``component__name``); return ``self``.

        Cached helpers derived from the parameters (attributes ending in
        ``_cache``, e.g. a base GSIM) are dropped, so the next fit or
        prediction rebuilds them from the new values.

        Raises
        ------
        ValueError
            For a name that is not a parameter, listing those allowed.
        """
        valid = self.get_params(deep=True)
        unknown = [k for k in params if k.split("__", 1)[0] not in valid]
        if unknown:
            msg = f"{type(self).__name__} has no parameter(s) {unknown}; valid parameters are {sorted(self._get_param_names())}."
            raise ValueError(msg)
        super().set_params(**params)
        for name in [k for k in vars(self) if k.endswith("_cache")]:
            delattr(self, name)
        return self

    def score(self, X: pd.DataFrame, y: object = None, sample_weight: object = None) -> float:
        """Negative root-mean-square of the ln residuals ``y - mean``: higher is better, 0 is perfect.

        Pooled over every IMT and row with an observation (NaN observations
        are skipped), in natural-log units; the mean is the ergodic
        prediction. scikit-learn's ``GridSearchCV`` and ``cross_val_score``
        use this score unless given another ``scoring``.

        Parameters
        ----------
        X
            Features and keys, one row per record.
        y
            DataFrame of ln IMs named by IMT (or a named Series); or the IMT
            names of ln columns of ``X``; None scores the fitted IMTs from
            columns of ``X``.
        sample_weight
            Optional weight per row, shape (n_rows,).
        """
        if y is None:
            y = getattr(self, "imts_", None)
        table, names = fit_inputs(X, y, model=type(self).__name__)
        pred = self.predict(table, names)
        obs = np.column_stack([pd.to_numeric(table[i]).to_numpy(dtype=float) for i in names])
        resid = obs - pred.mean.T
        weight = np.ones(len(table)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if weight.shape != (len(table),):
            msg = f"The 'sample_weight' parameter must have one weight per row ({len(table)}). Got shape {weight.shape} instead."
            raise ValueError(msg)
        w = np.broadcast_to(weight[:, None], resid.shape)
        ok = np.isfinite(resid) & (w > 0)
        if not ok.any():
            msg = f"No finite observation of {names} to score."
            raise ValueError(msg)
        return -float(np.sqrt(np.sum(w[ok] * resid[ok] ** 2) / np.sum(w[ok])))

    def __sklearn_tags__(self) -> Any:
        """scikit-learn estimator tags: a multi-output regressor of DataFrames with named columns."""
        tags = super().__sklearn_tags__()
        tags.requires_fit = self._needs_fit()
        tags.input_tags.allow_nan = False
        tags.input_tags.string = True  # event_id and station_id are text keys
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        return tags

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:  # noqa: N803 - BaseEstimator's signature
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({args})"
