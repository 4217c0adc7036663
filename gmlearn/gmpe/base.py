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
    "STATION_MODES", "check_station_mode", "add_station_terms",
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


def check_features(table: pd.DataFrame, required: Sequence[str], *, model: str) -> None:
    """Raise if ``table`` lacks a required column or holds impossible values.

    Raises
    ------
    MissingColumnError
        Naming the missing columns and listing what was given.
    ValueError
        For NaN in a required column, negative distances or magnitudes
        outside 0-10, naming the column, the row and the value.
    """
    missing = [c for c in required if c not in table.columns]
    if missing:
        msg = f"{model} requires column(s) {missing}; the table has {list(map(str, table.columns))}."
        raise MissingColumnError(msg)
    for name in required:
        values = table[name]
        if values.dtype == bool or str(values.dtype) == "boolean":
            if values.isna().any():
                pos = int(np.flatnonzero(values.isna().to_numpy())[0])
                msg = f"{model}: column {name!r} has a missing value at row {pos}; it must be True or False."
                raise ValueError(msg)
            continue
        arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(arr)
        if name in ("rrup", "rjb", "repi", "rhypo", "ry0", "vs30", "z1pt0", "z2pt5", "width"):
            bad |= np.isfinite(arr) & (arr < 0)
        if name == "mag":
            bad |= np.isfinite(arr) & ((arr < 0) | (arr > 10))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            msg = (
                f"{model}: column {name!r} has {int(bad.sum())} impossible or missing value(s); "
                f"first at row {pos}: {values.iloc[pos]!r}."
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


def warn_out_of_range(table: pd.DataFrame, ranges: Mapping[str, Sequence[float]], model: str, *, stacklevel: int = 2) -> None:
    """Warn (:class:`OutOfRangeWarning`) per feature of ``table`` outside its fitted range, naming the worst value.

    Used by every learned model; ``stacklevel`` points the warning at the caller.
    """
    for name, (lo, hi) in ranges.items():
        if name not in table:
            continue
        values = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
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

    def get_params(self, deep: bool = True) -> dict:  # noqa: ARG002 - sklearn signature
        """Constructor arguments (scikit-learn convention)."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
