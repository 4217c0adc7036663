"""Station-grouped cross-validation of site terms: how much within-event phi they remove at unseen stations."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import ModelError
from gmlearn.gmpe.base import as_imts
from gmlearn.site.amplification import SiteAmplificationModel, station_terms

__all__ = ["station_cv_phi"]


def station_cv_phi(
    table: pd.DataFrame,
    base: Any,
    imts: str | Sequence[str],
    feature_sets: Mapping[str, str | Sequence[str]] | None = None,
    *,
    n_splits: int = 5,
    random_state: int = 0,
    alpha: float = 1.0,
) -> pd.DataFrame:
    """Within-event phi at held-out stations with no site term and with each feature set's site term.

    Each IMT uses all records where it is observed. Stations are split into ``n_splits`` folds. For each fold the mixed-effects
    split and the site models are fitted on the other stations' records; the
    held-out records' within-event residuals (total residual minus the fitted
    bias and event term) are then corrected by the predicted dS2S.

    Returns
    -------
    pandas.DataFrame
        One row per (imt, site term): ``imt, site_term, phi, n_records``; the
        ``site_term`` ``"none"`` is the uncorrected within-event phi.
    """
    names = as_imts(imts)
    sets = dict(feature_sets or {"vs30": "vs30", "all": "all"})
    if n_splits < 2:
        msg = f"The 'n_splits' parameter must be >= 2. Got {n_splits!r} instead."
        raise ModelError(msg)
    if len(names) > 1:  # each IMT on all of its own records
        return pd.concat([station_cv_phi(table, base, [imt], sets, n_splits=n_splits, random_state=random_state,
                                         alpha=alpha) for imt in names], ignore_index=True)
    data = table.dropna(subset=names).reset_index(drop=True)
    ids = data["station_id"].astype(str).to_numpy()
    uniq = np.unique(ids)
    rng = np.random.default_rng(random_state)
    fold_of = dict(zip(uniq, rng.permutation(len(uniq)) % n_splits))
    folds = np.array([fold_of[s] for s in ids])
    pred = base.predict(data, names)
    resid = {imt: data[imt].to_numpy(float) - pred.mean[i] for i, imt in enumerate(names)}
    within: dict[tuple[str, str], list[np.ndarray]] = {}

    class _Fixed:  # the base prediction, reused (avoids predicting again per fold)
        def __init__(self, rows: np.ndarray) -> None:
            self.rows = rows

        def predict(self, t: pd.DataFrame, i: list[str]) -> Any:  # noqa: ARG002
            from gmlearn.gmpe.prediction import Prediction

            return Prediction(pred.imts, pred.mean[:, self.rows], pred.tau[:, self.rows], pred.phi[:, self.rows],
                              pred.sigma[:, self.rows])

    for k in range(n_splits):
        tr, te = folds != k, folds == k
        train, test = data[tr].reset_index(drop=True), data[te].reset_index(drop=True)
        terms = station_terms(train, _Fixed(np.flatnonzero(tr)), names)
        models = {label: SiteAmplificationModel(_Fixed(np.flatnonzero(tr)), features=fs, alpha=alpha,
                                                random_state=random_state).fit(train, names, terms=terms)
                  for label, fs in sets.items()}
        for imt in names:
            eff = terms[imt]
            ev = eff.event_terms.reindex(test["event_id"].astype(str).to_numpy()).to_numpy(float)
            dw = resid[imt][te] - eff.bias - ev
            ok = np.isfinite(dw)
            within.setdefault((imt, "none"), []).append(dw[ok])
            for label, model in models.items():
                amp, _ = model.predict_terms(test, [imt])
                within.setdefault((imt, label), []).append((dw - amp[0])[ok])
    rows = []
    for (imt, label), parts in within.items():
        x = np.concatenate(parts)
        rows.append({"imt": imt, "site_term": label, "phi": float(np.sqrt(np.mean((x - x.mean()) ** 2))),
                     "n_records": int(x.size)})
    return pd.DataFrame(rows)
