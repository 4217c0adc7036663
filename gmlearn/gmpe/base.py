"""Base class of every gmlearn ground-motion model."""

from __future__ import annotations

import warnings
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import MissingColumnError, OutOfRangeWarning
from gmlearn.gmpe.prediction import Prediction
from gmlearn.schema import imt_string

__all__ = [
    "GroundMotionModel", "check_features", "as_imts", "imt_seed", "training_ranges", "warn_out_of_range",
    "STATION_MODES", "check_station_mode", "add_station_terms", "as_float",
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
                stacklevel=stacklevel + 1,
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


class GroundMotionModel:
    """Interface of gmlearn's ground-motion models.

    Subclasses follow scikit-learn's contract: ``__init__`` stores keyword
    arguments only; learned state ends in ``_``; :meth:`fit` returns ``self``.
    :meth:`predict` returns a :class:`Prediction` shaped (n_imts, n_rows)
    in natural-log units.
    """

    #: Columns the model reads from a table.
    required_features: tuple[str, ...] = ()

    def fit(self, table: pd.DataFrame, imts: str | Iterable[str]) -> "GroundMotionModel":
        """Fit on a flat table with ln IMT columns; return ``self``."""
        raise NotImplementedError

    def predict(self, table: pd.DataFrame, imts: str | Iterable[str]) -> Prediction:
        """Predict ln IM mean, tau, phi and sigma for every row of ``table``."""
        raise NotImplementedError

    def adapt(self, table: pd.DataFrame, imts: str | Iterable[str] | None = None, *,
              prior_sd: Mapping[str, float] | None = None) -> "GroundMotionModel":
        """Adapt this model to a target region from its records (:mod:`gmlearn.gmpe.adapt`).

        Returns a new :class:`~gmlearn.gmpe.adapt.AdaptedModel`; ``self`` is not changed.
        """
        from gmlearn.gmpe.adapt import adapt

        return adapt(self, table, imts, prior_sd=prior_sd)

    def get_params(self, deep: bool = True) -> dict:  # noqa: ARG002 - sklearn signature
        """Constructor arguments (scikit-learn convention)."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
