"""The leave-one-region-out yardstick: how models do on data they never saw.

Three experiments, each scoring learned models and published GMPEs on the same
rows with :func:`gmlearn.evaluation.scoring.score`:

- :func:`cross_region`: train on one region's records, score on another's.
- :func:`held_out_bins`: train on everything outside a bin of the data
  (M >= 7, M < 5, Rrup > 150 km, vs30 < 250 m/s, ...), score inside it.
- :func:`adaptation_curve`: pretrain on a source region, adapt to a target
  region with ``k`` of its events (:mod:`gmlearn.gmpe.adapt`) and score on the
  target's other events, against the GMPE as it is, the GMPE plus a constant
  fitted on the same ``k`` events, and a model trained from scratch on them.

Published GMPEs are not refitted; the learned models are built by factories
so every experiment fits fresh ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gmlearn.evaluation.scoring import score
from gmlearn.gmpe.prediction import Prediction

__all__ = [
    "DEFAULT_BINS", "TRANSFER_COLUMNS", "combine_regions", "cross_region", "held_out_bins",
    "adaptation_curve", "constant_adjustment",
]

Factory = Callable[[], Any]
Progress = Callable[[str], None]

#: Columns of the score frames returned here.
TRANSFER_COLUMNS: tuple[str, ...] = ("model", "kind", "imt", "n_records", "n_events", "rms", "bias", "tau", "phi",
                                     "coverage_68", "llh")

#: Held-out bins of :func:`held_out_bins`: name -> row filter.
DEFAULT_BINS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "M>=7": lambda t: t["mag"].to_numpy(dtype=float) >= 7.0,
    "M<5": lambda t: t["mag"].to_numpy(dtype=float) < 5.0,
    "Rrup>150km": lambda t: t["rrup"].to_numpy(dtype=float) > 150.0,
    "vs30<250": lambda t: t["vs30"].to_numpy(dtype=float) < 250.0,
}


def combine_regions(tables: Mapping[str, pd.DataFrame], imts: Sequence[str]) -> pd.DataFrame:
    """One table of several regions' records: common columns, ids prefixed by region, a ``region`` column."""
    frames = []
    for name, table in tables.items():
        t = table.copy()
        t["event_id"] = name + ":" + t["event_id"].astype(str)
        t["station_id"] = name + ":" + t["station_id"].astype(str)
        t["region"] = name
        frames.append(t)
    common = [c for c in frames[0].columns if all(c in f for f in frames[1:])]
    missing = [i for i in imts if i not in common]
    if missing:
        msg = f"IMT column(s) {missing} are not in every region's table."
        raise KeyError(msg)
    return pd.concat([f[common] for f in frames], ignore_index=True)


def _predict(model: Any, table: pd.DataFrame, imts: Sequence[str]) -> Prediction:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.predict(table, list(imts))


def _scores(label: str, kind: str, table: pd.DataFrame, pred: Prediction, imts: Sequence[str], **extra: Any) -> pd.DataFrame:
    sc = score(table, pred, list(imts))
    sc.insert(0, "kind", kind)
    sc.insert(0, "model", label)
    for key, value in extra.items():
        sc[key] = value
    return sc


def _fit(factory: Factory, table: pd.DataFrame, imts: Sequence[str]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return factory().fit(table, list(imts))


def _gmpes(gmpes: Mapping[str, str], imts: Sequence[str]) -> dict[str, tuple[Any, list[str]]]:
    """GMPE label -> (model, the IMTs of ``imts`` it is defined for)."""
    from gmlearn.gmpe.anchor import resolve_gsim
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    out = {}
    for label, name in gmpes.items():
        model = OpenQuakeGMPE(resolve_gsim(name))
        usable = [i for i in imts if i.split("(")[0] in model.supported_imts]
        if usable:
            out[label] = (model, usable)
    return out


def _score_all(train: pd.DataFrame, test: pd.DataFrame, models: Mapping[str, Factory], gmpes: Mapping[str, str],
               imts: Sequence[str], progress: Progress | None, **extra: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    rows, fitted = [], {}
    for label, (model, usable) in _gmpes(gmpes, imts).items():
        rows.append(_scores(label, "gmpe", test, _predict(model, test, usable), usable, **extra))
    for label, factory in models.items():
        if progress is not None:
            progress(f"fitting {label} on {len(train)} records")
        model = _fit(factory, train, imts)
        fitted[label] = model
        rows.append(_scores(label, "gmlearn", test, _predict(model, test, imts), imts, **extra))
        base = getattr(model, "anchor_", None)
        if base is not None:  # the model's own physics base, scored on the same rows
            rows.append(_scores(f"{label}:base", "base", test, _predict(base.ensemble, test, imts), imts, **extra))
    return pd.concat(rows, ignore_index=True), fitted


def _label(table: pd.DataFrame, region: str) -> pd.DataFrame:
    return table if "region" in table else table.assign(region=region)


def cross_region(train: pd.DataFrame, test: pd.DataFrame, models: Mapping[str, Factory], gmpes: Mapping[str, str],
                 imts: Sequence[str], *, train_region: str = "source", test_region: str = "target",
                 progress: Progress | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit every model on ``train``, score models, their bases and ``gmpes`` on ``test``.

    Tables without a ``region`` column are labelled ``train_region`` and
    ``test_region``, so the models know the test rows come from a region they
    never saw (:class:`gmlearn.gmpe.anchor.PhysicsAnchor`). Returns the score
    frame (one row per model and IMT; ``kind`` is ``gmpe``, ``gmlearn`` or
    ``base``, the base rows labelled ``"<model>:base"``) and the fitted models
    by label.
    """
    return _score_all(_label(train, train_region), _label(test, test_region), models, gmpes, imts, progress)


def held_out_bins(table: pd.DataFrame, models: Mapping[str, Factory], gmpes: Mapping[str, str], imts: Sequence[str],
                  *, bins: Mapping[str, Callable[[pd.DataFrame], np.ndarray]] | None = None, min_events: int = 3,
                  progress: Progress | None = None) -> pd.DataFrame:
    """For each bin, fit on the rows outside it and score on the rows inside it (column ``bin``).

    Bins with fewer than ``min_events`` events are skipped.
    """
    frames = []
    for name, rule in (bins or DEFAULT_BINS).items():
        inside = np.asarray(rule(table), dtype=bool)
        test, train = table[inside].reset_index(drop=True), table[~inside].reset_index(drop=True)
        if test["event_id"].nunique() < min_events:
            continue
        if progress is not None:
            progress(f"bin {name}: {len(test)} records held out")
        frames.append(_score_all(train, test, models, gmpes, imts, progress, bin=name)[0])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*TRANSFER_COLUMNS, "bin"])


def constant_adjustment(model: Any, table: pd.DataFrame, imts: Sequence[str]) -> np.ndarray:
    """What engineers do today: the mean event-level residual of ``model`` on ``table``, per IMT.

    The bias of a mixed-effects fit (event terms integrated out) when the
    rows hold two events or more, the plain mean residual otherwise; shape (n_imts,).
    """
    from gmlearn.gmpe.mixed_effects import fit_mixed_effects

    pred = _predict(model, table, imts)
    events = table["event_id"].astype(str).to_numpy()
    out = np.zeros(len(imts))
    for k, imt in enumerate(imts):
        r = pd.to_numeric(table[imt]).to_numpy(dtype=float) - pred.mean[k]
        ok = np.isfinite(r)
        if ok.sum() >= 3 and np.unique(events[ok]).size >= 2:
            out[k] = fit_mixed_effects(r[ok], events[ok]).bias
        elif ok.any():
            out[k] = float(np.mean(r[ok]))
    return out


def _shift(pred: Prediction, offsets: np.ndarray) -> Prediction:
    return Prediction(pred.imts, pred.mean + offsets[:, None], pred.tau, pred.phi, pred.sigma)


def adaptation_curve(source_model: Any, target: pd.DataFrame, imts: Sequence[str], *, gmpe: str,
                     scratch: Factory | None = None, ks: Sequence[int | str] = (1, 3, 10, "all"), repeats: int = 5,
                     random_state: int = 0, region: str = "target", progress: Progress | None = None) -> pd.DataFrame:
    """Learning curve of regional adaptation: RMS on held-out target events against ``k``.

    For each ``k`` (an int, or ``"all"`` for 5-fold event cross-validation over
    the whole target) and each of ``repeats`` random draws of ``k`` target
    events, the rest of the target is scored for: ``gmpe`` (as published),
    ``gmpe+constant`` (plus :func:`constant_adjustment` on the ``k`` events),
    ``source`` (the pretrained model as it is), ``adapted``
    (``source_model.adapt`` on the ``k`` events) and ``scratch`` (a model from
    ``scratch()`` trained on the ``k`` events alone, when they are at least 5).

    A ``target`` without a ``region`` column is labelled ``region``.
    Returns one row per (k, repeat, approach, IMT) with ``rms`` and ``bias``.
    """
    target = _label(target, region)
    from gmlearn.gmpe.anchor import resolve_gsim
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    reference = OpenQuakeGMPE(resolve_gsim(gmpe))
    events = np.array(sorted(target["event_id"].astype(str).unique()))
    rng = np.random.default_rng(random_state)
    rows = []
    for k in ks:
        splits = []
        if k == "all":
            perm = rng.permutation(events)
            for fold in np.array_split(perm, 5):
                splits.append(np.setdiff1d(events, fold))
        else:
            if int(k) >= len(events):
                continue
            splits = [rng.choice(events, int(k), replace=False) for _ in range(repeats)]
        for rep, chosen in enumerate(splits):
            on = target["event_id"].astype(str).isin(chosen).to_numpy()
            fit_rows, test = target[on].reset_index(drop=True), target[~on].reset_index(drop=True)
            if progress is not None:
                progress(f"k={k} draw {rep + 1}/{len(splits)}: {len(fit_rows)} records to adapt, {len(test)} to score")
            gm = _predict(reference, test, imts)
            approaches = {
                "gmpe": gm,
                "gmpe+constant": _shift(gm, constant_adjustment(reference, fit_rows, imts)),
                "source": _predict(source_model, test, imts),
                "adapted": _predict(source_model.adapt(fit_rows, list(imts)), test, imts),
            }
            if scratch is not None and len(chosen) >= 5:
                try:
                    approaches["scratch"] = _predict(_fit(scratch, fit_rows, imts), test, imts)
                except ValueError:  # too few records of an IMT to fit
                    pass
            for label, pred in approaches.items():
                sc = score(test, pred, list(imts))
                for r in sc.itertuples():
                    rows.append({"k": str(k), "repeat": rep, "approach": label, "imt": r.imt,
                                 "rms": float(r.rms), "bias": float(r.bias), "n_records": int(r.n_records)})
    return pd.DataFrame(rows)
