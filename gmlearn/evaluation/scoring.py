"""The yardstick: residuals, scores and event-grouped cross-validation of ground-motion models.

A *table* here is a pandas DataFrame with one row per record: the keys
``event_id`` and ``station_id``, the features a model needs (``mag``,
``rrup``, ``vs30``, ...) and one column per IMT (``"PGA"``, ``"SA(1.0)"``)
holding the observed natural logarithm of the intensity measure. A
:class:`~gmlearn.gmpe.prediction.Prediction` for the same rows, in the same
order, is scored against it.

The array metrics live in :mod:`gmlearn.evaluation.metrics` (re-exported here) and the
figures in :mod:`gmlearn.evaluation.plots`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from gmlearn.evaluation.metrics import coverage, edr, llh, rms
from gmlearn.exceptions import MissingColumnError, ModelError
from gmlearn.gmpe.mixed_effects import fit_mixed_effects
from gmlearn.gmpe.prediction import Prediction
from gmlearn.schema import imt_string, is_imt

__all__ = [
    "SCORE_COLUMNS",
    "FitPredict",
    "coverage",
    "cross_validate",
    "edr",
    "event_kfold",
    "llh",
    "residual_table",
    "rms",
    "score",
]

#: Columns of the frame returned by :func:`score`, in order.
SCORE_COLUMNS: tuple[str, ...] = (
    "imt", "n_records", "n_events", "n_stations", "bias", "tau", "phi", "phi_s2s", "phi_ss",
    "sigma_fit", "rms", "llh", "mde", "sqrt_kappa", "edr", "coverage_68", "coverage_95", "model_sigma",
)  # fmt: skip

#: Callback ``progress(step, total, message)`` for progress bars.
ProgressHook = Callable[[int, int, str], None]


class FitPredict(Protocol):
    """What :func:`cross_validate` needs from a model."""

    def fit(self, table: pd.DataFrame, imts: list[str]) -> Any:
        """Fit on the rows of ``table`` for ``imts``."""

    def predict(self, table: pd.DataFrame, imts: list[str]) -> Prediction:
        """Predict every row of ``table`` for ``imts``."""


def _require(table: pd.DataFrame, names: Sequence[str], what: str) -> None:
    """Raise MissingColumnError naming the absent columns and listing those given."""
    missing = [n for n in names if n not in table.columns]
    if missing:
        msg = f"{what} needs column(s) {missing}; the table has {list(map(str, table.columns))}."
        raise MissingColumnError(msg)


def _obs_column(table: pd.DataFrame, imt: str, obs_columns: Mapping[str, str] | None) -> str:
    """Name of the column of ``table`` holding ln observations of ``imt``."""
    key = imt_string(imt)
    if obs_columns is not None:
        for name, col in obs_columns.items():
            if imt_string(name) == key:
                _require(table, [col], f"IMT {key!r}")
                return col
    for col in table.columns:
        if isinstance(col, str) and is_imt(col) and imt_string(col) == key:
            return col
    msg = f"No column of observations for IMT {key!r}; the table has {list(map(str, table.columns))}."
    raise MissingColumnError(msg)


def _check_rows(table: pd.DataFrame, prediction: Prediction) -> None:
    if prediction.n_rows != len(table):
        msg = f"The prediction has {prediction.n_rows} rows but the table has {len(table)}; they must match row by row."
        raise ValueError(msg)


def _imts(prediction: Prediction, imts: Sequence[str] | None) -> list[str]:
    return list(prediction.imts) if imts is None else [imt_string(i) for i in imts]


def residual_table(
    table: pd.DataFrame,
    prediction: Prediction,
    imts: Sequence[str] | None = None,
    *,
    obs_columns: Mapping[str, str] | None = None,
    dropna: bool = True,
) -> pd.DataFrame:
    """Long table of observations, predictions and residuals, one row per record and IMT.

    Parameters
    ----------
    table
        Records with ``event_id`` (and optionally ``station_id``,
        ``record_id``) and one column of ln observations per IMT.
    prediction
        Prediction for the rows of ``table``, in the same order.
    imts
        IMTs to include; default all of ``prediction.imts``.
    obs_columns
        Mapping IMT -> column name where the observation columns are not named
        by the IMT string.
    dropna
        Drop rows whose observation, mean or sigma is NaN.

    Returns
    -------
    pandas.DataFrame
        Columns ``row`` (0-based position in ``table``), ``record_id`` (if
        present), ``event_id``, ``station_id`` (if present), ``imt``, ``obs``,
        ``mean``, ``sigma``, ``tau``, ``phi`` and ``residual = obs - mean``,
        all in natural-log units.
    """
    _check_rows(table, prediction)
    _require(table, ["event_id"], "residual_table")
    keys = [k for k in ("record_id", "event_id", "station_id") if k in table.columns]
    parts = []
    for imt in _imts(prediction, imts):
        pred = prediction.for_imt(imt)
        part = pd.DataFrame({"row": np.arange(len(table))})
        for k in keys:
            part[k] = table[k].to_numpy()
        part["imt"] = imt
        part["obs"] = table[_obs_column(table, imt, obs_columns)].to_numpy(dtype=float)
        for name in ("mean", "sigma", "tau", "phi"):
            part[name] = pred[name]
        part["residual"] = part["obs"] - part["mean"]
        if dropna:
            part = part[np.isfinite(part[["obs", "mean", "sigma"]].to_numpy()).all(axis=1)]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _score_one(part: pd.DataFrame, imt: str, station_terms: bool) -> dict[str, Any]:
    """Scores of one IMT from its rows of :func:`residual_table`."""
    row: dict[str, Any] = dict.fromkeys(SCORE_COLUMNS, np.nan)
    has_stations = "station_id" in part.columns
    row.update(
        imt=imt,
        n_records=len(part),
        n_events=part["event_id"].nunique(),
        n_stations=part["station_id"].nunique() if has_stations else 0,
    )
    if len(part) < 3:
        return row
    obs, mean, sigma = (part[c].to_numpy() for c in ("obs", "mean", "sigma"))
    stations = part["station_id"].to_numpy() if (station_terms and has_stations) else None
    fit = fit_mixed_effects(part["residual"].to_numpy(), part["event_id"].to_numpy(), stations)
    mde, sqrt_kappa, edr_value = edr(obs, mean, sigma)
    cov = coverage(obs, mean, sigma, levels=(0.68, 0.95))
    row.update(
        bias=fit.bias,
        tau=fit.tau,
        phi=fit.phi,
        phi_s2s=fit.phi_s2s,
        phi_ss=fit.phi_ss,
        sigma_fit=fit.sigma,
        rms=rms(part["residual"].to_numpy()),
        llh=llh(obs, mean, sigma),
        mde=mde,
        sqrt_kappa=sqrt_kappa,
        edr=edr_value,
        coverage_68=cov[0.68],
        coverage_95=cov[0.95],
        model_sigma=float(np.mean(sigma)),
    )
    return row


def score(
    table: pd.DataFrame,
    prediction: Prediction,
    imts: Sequence[str] | None = None,
    *,
    station_terms: bool = True,
    obs_columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Score a prediction against observations, one row per IMT.

    Residuals ``obs - mean`` are decomposed with
    :func:`~gmlearn.gmpe.mixed_effects.fit_mixed_effects` (REML, crossed
    event and station effects) and the predictive distribution is scored with
    :func:`~gmlearn.evaluation.metrics.llh`, :func:`~gmlearn.evaluation.metrics.edr` and
    :func:`~gmlearn.evaluation.metrics.coverage`. Rows whose observation is NaN for
    an IMT are skipped for that IMT.

    Parameters
    ----------
    table
        Records with ``event_id``, ``station_id`` (unless ``station_terms`` is
        False) and one column of ln observations per IMT.
    prediction
        Prediction for the rows of ``table``, in the same order.
    imts
        IMTs to score; default all of ``prediction.imts``.
    station_terms
        Fit station (site-to-site) terms; without them ``phi_s2s`` is 0.
    obs_columns
        Mapping IMT -> column name, see :func:`residual_table`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SCORE_COLUMNS`: ``bias``, ``tau``, ``phi``, ``phi_s2s``,
        ``phi_ss`` and ``sigma_fit`` from the mixed-effects fit; ``rms`` of the
        total residuals; ``llh`` (bits); ``mde``, ``sqrt_kappa``, ``edr``;
        ``coverage_68``, ``coverage_95`` (fractions); ``model_sigma`` (mean
        predicted sigma). Natural-log units. Metrics are NaN for an IMT with
        fewer than 3 usable records.
    """
    if station_terms:
        _require(table, ["station_id"], "score with station_terms=True")
    long = residual_table(table, prediction, imts, obs_columns=obs_columns)
    rows = [_score_one(long[long["imt"] == imt], imt, station_terms) for imt in _imts(prediction, imts)]
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def event_kfold(
    event_ids: Any, n_splits: int = 5, random_state: int | np.random.Generator | None = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K-fold split grouped by event, balanced by record count: scikit-learn's ``GroupKFold`` with seeded ties.

    ``GroupKFold`` assigns the events largest first, each to the fold with the
    fewest records so far, so no event is in two folds and the folds hold
    about the same number of records. Before that the events are relabelled
    by a permutation drawn from ``random_state``, so events of equal size are
    taken in shuffled order: the same seed gives the same folds, another seed
    other folds. ``random_state=None`` keeps ``GroupKFold``'s own order (no
    shuffling, still deterministic).

    Parameters
    ----------
    event_ids
        Event id of each record, shape (n_rows,).
    n_splits
        Number of folds, at least 2 and at most the number of events.
    random_state
        Seed or generator; None for ``GroupKFold`` unshuffled.

    Returns
    -------
    list of (train_idx, test_idx)
        Sorted integer positions; every row is in exactly one ``test_idx``.
    """
    from sklearn.model_selection import GroupKFold

    ids = np.asarray(event_ids, dtype=object)
    if ids.ndim != 1 or pd.isna(ids).any():
        msg = "The 'event_ids' parameter of event_kfold must be 1-D without missing ids."
        raise ValueError(msg)
    codes, uniques = pd.factorize(ids, sort=True)  # sorted: GroupKFold's own order of the ids
    if not (isinstance(n_splits, (int, np.integer)) and 2 <= n_splits <= len(uniques)):
        msg = (
            f"The 'n_splits' parameter of event_kfold must be an int in [2, {len(uniques)}] "
            f"(the number of events). Got {n_splits!r} instead."
        )
        raise ValueError(msg)
    labels = codes if random_state is None else np.random.default_rng(random_state).permutation(len(uniques))[codes]
    splits = GroupKFold(n_splits=int(n_splits)).split(np.zeros((ids.size, 1)), groups=labels)
    return [(np.sort(train), np.sort(test)) for train, test in splits]


def _splits(table: pd.DataFrame, cv: Any, n_splits: int, random_state: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds of :func:`cross_validate`: :func:`event_kfold`, or ``cv.split(table, groups=event_id)``."""
    events = table["event_id"].to_numpy()
    if cv is None:
        return event_kfold(events, n_splits, random_state)
    if not hasattr(cv, "split"):
        msg = f"The 'cv' parameter of cross_validate must be a scikit-learn splitter (e.g. GroupKFold()) or None. Got {cv!r} instead."
        raise ValueError(msg)
    folds = [(np.asarray(a), np.asarray(b)) for a, b in cv.split(table, groups=events)]
    for k, (train, test) in enumerate(folds):
        shared = set(events[train]) & set(events[test])
        if shared:
            msg = (f"Fold {k} of cv={cv!r} has events in both training and test rows (e.g. {sorted(map(str, shared))[:3]}); "
                   "use a group splitter such as GroupKFold, which the event ids are passed to as groups.")
            raise ValueError(msg)
    return folds


def _fold_prediction(model: FitPredict, test: pd.DataFrame, imts: list[str], fold: int) -> Prediction:
    """Predict the test rows and check the shape of what the model returned."""
    pred = model.predict(test, imts)
    if not isinstance(pred, Prediction) or pred.n_rows != len(test):
        got = type(pred).__name__ if not isinstance(pred, Prediction) else f"{pred.n_rows} rows"
        msg = f"Fold {fold}: model.predict must return a Prediction with {len(test)} rows. Got {got} instead."
        raise ModelError(msg)
    return pred


def cross_validate(
    model_factory: Callable[[], FitPredict],
    table: pd.DataFrame,
    imts: Sequence[str],
    *,
    n_splits: int = 5,
    random_state: int | np.random.Generator | None = 0,
    cv: Any = None,
    progress: ProgressHook | None = None,
) -> tuple[Prediction, pd.DataFrame]:
    """Out-of-fold predictions from event-grouped k-fold cross-validation.

    Parameters
    ----------
    model_factory
        Called once per fold with no arguments; returns a fresh model with
        ``fit(table, imts)`` and ``predict(table, imts) -> Prediction``.
    table
        Records with ``event_id``, the model's features and one column of ln
        observations per IMT. Not modified.
    imts
        IMTs to fit and predict.
    n_splits, random_state
        Passed to :func:`event_kfold`.
    cv
        Any scikit-learn splitter instead (``GroupKFold()``,
        ``LeaveOneGroupOut()``, ...), called as ``cv.split(table,
        groups=table["event_id"])``; its folds must keep each event on one
        side.
    progress
        Optional ``progress(step, total, message)``, called after each fold.

    Returns
    -------
    prediction
        Out-of-fold :class:`Prediction` for every row of ``table``, in its row
        order and labelled by its index, with ``imts`` in canonical form (NaN
        on rows no fold tested).
    folds
        One row per fold: ``fold``, ``n_train``, ``n_test``,
        ``n_train_events``, ``n_test_events``, ``fit_s``, ``predict_s``.
    """
    _require(table, ["event_id"], "cross_validate")
    names = [imt_string(i) for i in imts]
    arrays = {k: np.full((len(names), len(table)), np.nan) for k in ("mean", "tau", "phi", "sigma")}
    info = []
    folds = _splits(table, cv, n_splits, random_state)
    for k, (train_idx, test_idx) in enumerate(folds):
        train, test = table.iloc[train_idx], table.iloc[test_idx]
        model = model_factory()
        start = time.perf_counter()
        model.fit(train, list(names))
        fitted = time.perf_counter()
        pred = _fold_prediction(model, test, list(names), k)
        for i, imt in enumerate(names):
            for key, values in pred.for_imt(imt).items():
                arrays[key][i, test_idx] = values
        info.append({
            "fold": k, "n_train": len(train_idx), "n_test": len(test_idx),
            "n_train_events": train["event_id"].nunique(), "n_test_events": test["event_id"].nunique(),
            "fit_s": fitted - start, "predict_s": time.perf_counter() - fitted,
        })  # fmt: skip
        if progress is not None:
            progress(k + 1, len(folds), f"fold {k + 1}/{len(folds)}: {len(test_idx)} test records")
    return Prediction(tuple(names), **arrays, index=table.index), pd.DataFrame(info)
