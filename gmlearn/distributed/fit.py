"""Distributed fitting of the boosted mixed-effects models with ``xgboost.dask``.

What is distributed and what is not
-----------------------------------
:class:`~gmlearn.gmpe.mixed.MixedEffectsBoostedModel` alternates two steps per
IMT (see :mod:`gmlearn.gmpe.mixed`): boosting the fixed effects, and fitting
crossed event/station random effects to the residuals.

- **Distributed**: every boosting run — the early-stopped runs on the
  event-grouped validation sets that choose the number of rounds, and the
  refit on all events — is ``xgboost.dask.train`` over the partitions of the
  table, on the workers. So are the residuals (``xgboost.dask.predict``).
- **On the driver**: the random-effect fit
  (:func:`gmlearn.gmpe.mixed_effects.fit_mixed_effects`). It needs, per record,
  the residual and integer codes of its event and station (16 bytes a record:
  160 MB for 10 M records), which are gathered from the workers. Its cost grows
  with the number of events and stations, not with the features.

The model that comes out is an ordinary ``TreeGMM`` / ``MonotoneGMM`` (XGBoost
regressors, the same ``effects_``), so :func:`gmlearn.gmpe.persistence.save_model`,
``predict`` and :func:`~gmlearn.distributed.predict.predict_parquet` work on it.
It is not bit-identical to ``model.fit`` on one machine: distributed
histograms and row subsampling see the rows in partitions.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from gmlearn.exceptions import MissingColumnError, ModelError
from gmlearn.gmpe.base import as_imts, check_features, imt_seed
from gmlearn.gmpe.mixed import variance_components

__all__ = ["dask_fit", "native_params"]


def native_params(model: Any) -> dict[str, Any]:
    """XGBoost learning parameters of ``model`` in the native (``xgboost.train``) spelling."""
    p = model._xgb_params()
    out = {
        "objective": "reg:squarederror",
        "eta": p["learning_rate"],
        "max_depth": p["max_depth"],
        "min_child_weight": p["min_child_weight"],
        "subsample": p["subsample"],
        "colsample_bytree": p["colsample_bytree"],
        "tree_method": "hist",
        "seed": p["random_state"],
        "nthread": 1,
    }
    if "monotone_constraints" in p:
        out["monotone_constraints"] = p["monotone_constraints"]
    return out


def _as_dask(data: Any, client: Any) -> Any:
    import dask.dataframe as dd

    from gmlearn.store import FeatureStore

    if isinstance(data, FeatureStore):
        return data.to_dask()
    if isinstance(data, pd.DataFrame):
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        return dd.from_pandas(data.reset_index(drop=True), npartitions=max(workers, 1), sort=False)
    if isinstance(data, dd.DataFrame):
        return data
    msg = f"The 'data' parameter of dask_fit must be a FeatureStore, a pandas or a dask DataFrame. Got {type(data).__name__} instead."
    raise TypeError(msg)


def _design(part: pd.DataFrame, features: list[str], imt: str, model: str, events: pd.Index,
            stations: pd.Index) -> pd.DataFrame:
    """One partition's rows with a finite target: features (float), target, event and station codes."""
    part = part[np.isfinite(pd.to_numeric(part[imt], errors="coerce").to_numpy(dtype=float))]
    check_features(part, features, model=model)
    out = pd.DataFrame({f: pd.to_numeric(part[f]).to_numpy(dtype=float) for f in features}, index=part.index)
    out["_y"] = pd.to_numeric(part[imt]).to_numpy(dtype=float)
    out["_event"] = events.get_indexer(part["event_id"].astype(str)).astype(np.int32)
    out["_station"] = stations.get_indexer(part["station_id"].astype(str)).astype(np.int32)
    return out


def _offset(part: pd.DataFrame, bias: float, event_terms: np.ndarray, station_terms: np.ndarray | None) -> pd.Series:
    """``c + dB + dS2S`` of each row (zero where a term is unknown)."""
    off = bias + np.nan_to_num(event_terms[part["_event"].to_numpy()])
    if station_terms is not None:
        off = off + np.nan_to_num(station_terms[part["_station"].to_numpy()])
    return pd.Series(off, index=part.index, dtype=float)


def _train(client: Any, params: dict, x: Any, y: Any, rounds: int, evals: tuple | None = None,
           patience: int | None = None) -> tuple[Any, int]:
    import xgboost as xgb
    import xgboost.dask  # noqa: F401 - registers xgb.dask

    dtrain = xgb.dask.DaskDMatrix(client, x, y)
    kwargs: dict[str, Any] = {}
    if evals is not None:
        kwargs = {"evals": [(xgb.dask.DaskDMatrix(client, *evals), "val")], "early_stopping_rounds": patience}
    out = xgb.dask.train(client, params, dtrain, num_boost_round=rounds, verbose_eval=False, **kwargs)
    booster = out["booster"]
    best = int(booster.best_iteration) + 1 if evals is not None else rounds
    return booster, best


def _predict(client: Any, booster: Any, x: Any, best: int | None = None) -> np.ndarray:
    import xgboost as xgb
    import xgboost.dask  # noqa: F401 - registers xgb.dask

    kwargs = {"iteration_range": (0, best)} if best is not None else {}
    return np.asarray(xgb.dask.predict(client, booster, x, **kwargs).compute(), dtype=float)


def _fit_imt(model: Any, client: Any, design: Any, features: list[str], imt: str, params: dict,
             events: pd.Index, stations: pd.Index) -> tuple[Any, dict[str, Any]]:
    """Boosters on the workers, random effects on the driver, for one IMT (mirrors ``_fit_one``)."""
    import xgboost as xgb
    import xgboost.dask  # noqa: F401 - registers xgb.dask

    from gmlearn.gmpe.mixed import event_validation_folds
    from gmlearn.gmpe.mixed_effects import fit_mixed_effects

    design = design.persist()
    y = design["_y"].compute().to_numpy()
    ev = design["_event"].compute().to_numpy()
    st = design["_station"].compute().to_numpy() if model.station_effects else None
    if y.size < 20 or np.unique(ev).size < 5:
        msg = f"{imt}: {y.size} records of {np.unique(ev).size} events; need at least 20 records of 5 events."
        raise ModelError(msg)
    x = design[features]
    # Validation sets of whole events, chosen as in the in-memory fit (same seed rule).
    folds = event_validation_folds(ev, model.validation_fraction, model.n_validation_splits, imt_seed(model.random_state, imt))
    fold_events = [np.unique(ev[mask]) for mask in folds]
    offset = np.zeros_like(y)
    rounds, held_out, booster, fit = None, None, None, None
    for _ in range(model.em_iterations):
        terms = None if fit is None else (
            fit.bias, fit.event_terms.reindex(range(len(events))).to_numpy(),
            None if st is None else fit.station_terms.reindex(range(len(stations))).to_numpy())
        target = design["_y"] if terms is None else design["_y"] - design.map_partitions(_offset, *terms, meta=("_off", float))
        if rounds is None:
            rounds, held_out = _choose_rounds(model, client, params, design, x, target, y - offset, ev, st, fold_events)
        booster, _ = _train(client, params, x, target, rounds)
        resid = y - _predict(client, booster, x)
        fit = fit_mixed_effects(resid, ev, st)
        offset = fit.bias + np.nan_to_num(fit.between(ev)) + (np.nan_to_num(fit.site(st)) if st is not None else 0.0)
    assert fit is not None and booster is not None and rounds is not None
    regressor = xgb.XGBRegressor()
    regressor.load_model(bytearray(booster.save_raw("ubj")))
    return regressor, _effects(fit, held_out, rounds, events, stations)


def _choose_rounds(model: Any, client: Any, params: dict, design: Any, x: Any, target: Any, target_local: np.ndarray,
                   ev: np.ndarray, st: np.ndarray | None, fold_events: list[np.ndarray]) -> tuple[int, Any]:
    """Early-stopped rounds (median over the validation sets, times ``refit_factor``) and the held-out fit."""
    from gmlearn.gmpe.mixed_effects import fit_mixed_effects

    if not fold_events:
        return min(model.n_estimators, 500), None
    best, resid = [], np.full(target_local.size, np.nan)
    for val_events in fold_events:
        val = design["_event"].isin(val_events)
        fold_booster, n = _train(client, params, x[~val], target[~val], model.n_estimators,
                                 evals=(x[val], target[val]), patience=model.early_stopping_rounds)
        best.append(n)
        rows = np.isin(ev, val_events)  # rows keep their order through the filter
        resid[rows] = target_local[rows] - _predict(client, fold_booster, x[val], n)
    rounds = max(1, int(round(int(np.median(best)) * max(model.refit_factor, 1.0))))
    seen = np.isfinite(resid)
    # Residuals on events the learners never saw: honest tau, phi, phi_SS.
    return rounds, fit_mixed_effects(resid[seen], ev[seen], None if st is None else st[seen])


def _effects(fit: Any, held_out: Any, rounds: int, events: pd.Index, stations: pd.Index) -> dict[str, Any]:
    """The ``effects_`` entry of one IMT, as ``MixedEffectsBoostedModel._fit_one`` makes it (ids as strings)."""

    def _named(terms: pd.Series, names: pd.Index) -> pd.Series:
        index = np.asarray(names, dtype=object)[terms.index.to_numpy(dtype=int)].astype(str) if len(terms) else []
        return pd.Series(terms.to_numpy(dtype=float), index=pd.Index(index, dtype=object), dtype=float)

    return {
        **variance_components(fit, held_out),
        "rounds": int(rounds),
        "event_terms": _named(fit.event_terms, events),
        "station_terms": _named(fit.station_terms, stations),
    }


def dask_fit(
    model: Any,
    data: Any,
    imts: str | Iterable[str],
    *,
    scheduler: Any = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Any:
    """Fit a ``TreeGMM`` or ``MonotoneGMM`` with its boosting distributed over Dask workers.

    Parameters
    ----------
    model
        An unfitted :class:`~gmlearn.gmpe.tree.TreeGMM` or
        :class:`~gmlearn.gmpe.monotone.MonotoneGMM`; its parameters are used
        as they are (each worker runs XGBoost on one thread).
    data
        A :class:`~gmlearn.store.FeatureStore` (read with ``to_dask``), a dask
        DataFrame, or a pandas DataFrame (split into one partition per
        worker): the features, ``event_id``, ``station_id`` and ln IMT columns.
    imts
        IMTs to learn; rows where an IMT is missing are skipped for it.
    scheduler
        ``None``/``"local"`` (a LocalCluster), an address, or a ``Client``
        (see :func:`gmlearn.distributed.get_client`).
    progress
        Optional ``callable(step, total, message)``, once per IMT.

    Returns
    -------
    TreeGMM or MonotoneGMM
        ``model`` itself, fitted.

    Raises
    ------
    ModelError
        For a model other than ``TreeGMM``/``MonotoneGMM`` or too few records.
    MissingColumnError
        For a missing feature, key or IMT column.
    """
    from gmlearn.distributed.client import get_client
    from gmlearn.gmpe.monotone import MonotoneGMM
    from gmlearn.gmpe.tree import TreeGMM

    if type(model) not in (TreeGMM, MonotoneGMM):
        msg = f"dask_fit trains TreeGMM and MonotoneGMM; got a {type(model).__name__} (fit it with its own fit())."
        raise ModelError(msg)
    if model.base is not None:
        msg = (f"dask_fit trains data-only models (base=None); this {type(model).__name__} has base={model.base!r}. "
               f"Use {type(model).__name__}(base=None, ...) with dask_fit, or its own fit() for a model with a physics base.")
        raise ModelError(msg)
    model._validate_params()
    names = as_imts(imts)
    features = list(model.features)
    with get_client(scheduler) as client:
        ddf = _as_dask(data, client)
        needed = [*features, "event_id", "station_id", *names]
        missing = [c for c in needed if c not in ddf.columns]
        if missing:
            msg = f"dask_fit needs column(s) {missing}; the table has {list(map(str, ddf.columns))}."
            raise MissingColumnError(msg)
        ddf = ddf[list(dict.fromkeys(needed))]
        keys = ddf[["event_id", "station_id"]].astype(str)
        events = pd.Index(np.sort(keys["event_id"].unique().compute().to_numpy(dtype=str)))
        stations = pd.Index(np.sort(keys["station_id"].unique().compute().to_numpy(dtype=str)))
        params = native_params(model)
        model.boosters_, model.effects_ = {}, {}
        for k, imt in enumerate(names):
            if progress is not None:
                progress(k, len(names), f"fitting {imt}")
            meta = _design(pd.DataFrame({c: pd.Series(dtype=float) for c in [*features, imt]})
                           .assign(event_id=pd.Series(dtype=str), station_id=pd.Series(dtype=str)),
                           features, imt, type(model).__name__, events, stations)
            design = ddf.map_partitions(_design, features, imt, type(model).__name__, events, stations, meta=meta)
            model.boosters_[imt], model.effects_[imt] = _fit_imt(model, client, design, features, imt, params, events, stations)
        ranges = _ranges(ddf, features)
    if progress is not None:
        progress(len(names), len(names), "fitted")
    model.imts_ = names
    model.ranges_ = ranges
    model.__dict__.pop("anchor_", None)
    model._anchor_for(None)  # the "auto" base anchors the model outside its ranges
    model.n_features_in_ = len(features)
    return model


def _finite(part: pd.DataFrame) -> pd.DataFrame:
    out = part.apply(pd.to_numeric, errors="coerce").astype(float)
    return out.where(np.isfinite(out.to_numpy()))


def _ranges(ddf: Any, features: list[str]) -> dict[str, list[float]]:
    """``{feature: [min, max]}`` over finite values, computed on the workers."""
    num = ddf[features].map_partitions(_finite, meta=pd.DataFrame({f: pd.Series(dtype=float) for f in features}))
    lo, hi = num.min().compute(), num.max().compute()
    return {f: [float(lo[f]), float(hi[f])] for f in features if np.isfinite(lo[f]) and np.isfinite(hi[f])}
