"""Leave-stations-out validation of conditioning on recorded events.

For one event, stations are split at random: a fraction is held out, the
rest condition the model, and the ln residuals at the held-out stations are
compared conditioned vs unconditioned. Distances and site columns come from
the feature table itself (for NZSMD: the flatfile's ``rrup``, ``rjb``,
``rx`` and ``ry0``), so the comparison isolates the conditioning.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from gmlearn.gmpe.base import as_imts
from gmlearn.shakemap.correlation import CorrelationModel
from gmlearn.shakemap.errors import ShakemapError
from gmlearn.shakemap.scenario import condition_at

__all__ = ["leave_stations_out", "rms_ratio"]


def leave_stations_out(
    table: pd.DataFrame,
    model: Any,
    imts: str | Sequence[str],
    *,
    holdout: float = 0.2,
    repeats: int = 10,
    seed: int = 0,
    correlation: CorrelationModel | None = None,
    imt_mode: str = "same",
) -> pd.DataFrame:
    """Held-out residuals of one event, conditioned and unconditioned, over repeated random splits.

    Parameters
    ----------
    table
        Records of one event: model features, ``station_id``, ``lon``, ``lat``
        and the ln IMT columns (rows with a NaN IMT are dropped).
    model
        Any model with ``predict(table, imts)``.
    imts
        IMTs to test.
    holdout
        Fraction of stations held out in each repeat (0 < holdout < 1).
    repeats
        Number of random splits.
    seed
        Seed of the splits.

    Returns
    -------
    pandas.DataFrame
        One row per (repeat, held-out station, IMT): ``repeat, station_id, imt,
        resid_prior, resid_conditioned, sigma_prior, sigma_conditioned``.

    Raises
    ------
    ShakemapError
        For more than one event, fewer than 5 stations or a bad ``holdout``.
    """
    names = as_imts(imts)
    if not 0 < holdout < 1:
        msg = f"The 'holdout' parameter must be in (0, 1). Got {holdout!r} instead."
        raise ShakemapError(msg)
    if "event_id" in table and table["event_id"].nunique() > 1:
        msg = f"leave_stations_out takes one event; the table has {table['event_id'].nunique()}."
        raise ShakemapError(msg)
    data = table.dropna(subset=names).drop_duplicates("station_id").reset_index(drop=True)
    n = len(data)
    if n < 5:
        msg = f"leave_stations_out needs at least 5 stations with {names}; the event has {n}."
        raise ShakemapError(msg)
    rng = np.random.default_rng(seed)
    n_out = max(1, int(round(holdout * n)))
    rows = []
    for rep in range(int(repeats)):
        out_idx = rng.choice(n, size=n_out, replace=False)
        mask = np.zeros(n, dtype=bool)
        mask[out_idx] = True
        train, test = data[~mask].reset_index(drop=True), data[mask].reset_index(drop=True)
        prior, cond, _ = condition_at(model, train, test, names, correlation=correlation, imt_mode=imt_mode)
        obs = test[names].to_numpy(float).T
        for a, imt in enumerate(names):
            rows.append(pd.DataFrame({
                "repeat": rep, "station_id": test["station_id"].to_numpy(), "imt": imt,
                "resid_prior": obs[a] - prior.mean[a], "resid_conditioned": obs[a] - cond["mean"][a],
                "sigma_prior": prior.sigma[a], "sigma_conditioned": cond["sigma"][a],
            }))
    return pd.concat(rows, ignore_index=True)


def rms_ratio(frame: pd.DataFrame) -> dict[str, float]:
    """RMS of conditioned / unconditioned held-out residuals, overall and per IMT."""
    def rms(x: pd.Series) -> float:
        return float(np.sqrt(np.mean(np.square(x.to_numpy(float)))))

    out = {"all": rms(frame["resid_conditioned"]) / rms(frame["resid_prior"])}
    for imt, g in frame.groupby("imt", sort=False):
        out[str(imt)] = rms(g["resid_conditioned"]) / rms(g["resid_prior"])
    return out
