"""Scenario shakemaps: rupture + sites + model (+ stations) -> conditioned median and sigma maps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from gmlearn.gmpe.base import as_imts
from gmlearn.gmpe.prediction import Prediction
from gmlearn.schema import parse_imt
from gmlearn.shakemap.conditioning import Conditioner, condition, prepare
from gmlearn.shakemap.correlation import CorrelationModel
from gmlearn.shakemap.errors import ShakemapError, StationError
from gmlearn.shakemap.rupture import Rupture
from gmlearn.shakemap.sites import Sites, complete_site_columns
from gmlearn.shakemap.stations import validate_stations

__all__ = ["model_label", "ShakeMap", "compute_shakemap", "condition_at", "predict_sites", "conditioning_sets", "OUTSIDE_MODES",
           "IMT_MODES"]

#: What :func:`compute_shakemap` does with stations outside the site grid's box.
OUTSIDE_MODES: tuple[str, ...] = ("use", "drop", "error")
#: Which observed IMTs condition each target IMT.
IMT_MODES: tuple[str, ...] = ("same", "all")

Progress = Callable[[int, int, str], None]


@dataclass
class ShakeMap:
    """Result of :func:`compute_shakemap`.

    Attributes
    ----------
    dataset
        ``xarray.Dataset`` with dims ``imt`` and (``lat``, ``lon``) for a grid or
        ``site`` for a site list; variables ``mean``, ``tau``, ``phi``,
        ``sigma`` (conditioned, ln units), ``mean_prior``, ``tau_prior``,
        ``phi_prior``, ``sigma_prior``, ``median`` (linear), ``vs30``, ``rrup``, ``rjb``
        and, with a GMICE, ``mmi`` and ``mmi_sigma`` (intensity units).
        CF-1.8 attributes (``Conventions``, units, standard names).
    stations
        Stations with observations, model prediction and residuals
        (``<imt>``, ``<imt>_prior``, ``<imt>_resid``), and ``used`` flags.
    rupture
        The scenario rupture.
    bias
        Between-event bias per IMT (see :meth:`Conditioner.bias`); empty without stations.
    """

    dataset: Any
    stations: pd.DataFrame | None
    rupture: Rupture
    bias: dict = field(default_factory=dict)

    @property
    def imts(self) -> list[str]:
        """Mapped IMTs."""
        return [str(i) for i in self.dataset["imt"].to_numpy()]

    def write(self, out: Any, *, formats: Sequence[str] = ("netcdf", "csv", "geojson", "png", "gridxml"),
              progress: Callable[[str], None] | None = None, extra: dict | None = None) -> list[Any]:
        """Write the map files into folder ``out``; see :func:`gmlearn.shakemap.export.write_all`."""
        from gmlearn.shakemap.export import write_all

        return write_all(self, out, formats=formats, progress=progress, extra=extra)


def _period(imt: str) -> float:
    p = parse_imt(imt)
    return float(getattr(p, "period", None) or 0.0)


def conditioning_sets(target_imts: Sequence[str], observed_imts: Sequence[str], mode: str = "same") -> list[tuple[list[str], list[str]]]:
    """Group target IMTs by the observed IMTs that condition them.

    ``mode="same"`` follows ShakeMap 4 and OpenQuake: an observed target IMT is
    conditioned on its own observations; an unobserved one on the observed
    IMTs of the nearest shorter and longer periods. ``mode="all"`` conditions
    every target on every observed IMT jointly (cross-IMT correlation).
    """
    if mode not in IMT_MODES:
        msg = f"The 'imt_mode' parameter must be one of {list(IMT_MODES)}. Got {mode!r} instead."
        raise ShakemapError(msg)
    observed = list(observed_imts)
    if mode == "all":
        return [(list(target_imts), observed)]
    groups: dict[tuple[str, ...], list[str]] = {}
    by_period = sorted(observed, key=_period)
    for imt in target_imts:
        if imt in observed:
            key = (imt,)
        else:
            t = _period(imt)
            lower = [o for o in by_period if _period(o) < t]
            upper = [o for o in by_period if _period(o) > t]
            key = tuple(x for x in (lower[-1] if lower else None, upper[0] if upper else None) if x is not None)
        groups.setdefault(key, []).append(imt)
    return [(targets, list(obs)) for obs, targets in groups.items()]


def predict_sites(model: Any, table: pd.DataFrame, imts: Sequence[str], *, block: int = 200_000) -> Prediction:
    """``model.predict`` in blocks of rows, checked for NaN; returns one :class:`Prediction`."""
    parts = [model.predict(table.iloc[i:i + block], list(imts)) for i in range(0, len(table), block)]
    if not parts:
        msg = "No sites to predict."
        raise ShakemapError(msg)
    pred = Prediction(parts[0].imts, *(np.concatenate([getattr(p, k) for p in parts], axis=1)
                                       for k in ("mean", "tau", "phi", "sigma")))
    bad = ~np.isfinite(pred.mean) | ~np.isfinite(pred.phi) | ~np.isfinite(pred.tau)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        msg = f"The model returned NaN for {pred.imts[i]} at site row {j}; check the site and rupture inputs."
        raise ShakemapError(msg)
    return pred


#: Smallest rrup/rhypo handed to a model (km): some GSIMs divide by the distance (Bradley 2013 at rrup = 0).
MIN_DISTANCE_KM = 0.1


def _context(rupture: Rupture, frame: pd.DataFrame, tectonic_region: str) -> pd.DataFrame:
    table = rupture.context(frame)
    for col in ("rrup", "rhypo"):
        table[col] = np.maximum(table[col].to_numpy(), MIN_DISTANCE_KM)
    table["tectonic_region"] = tectonic_region
    return table


def _station_inputs(stations: pd.DataFrame | None, sites: Sites, outside: str, imts: list[str]) -> pd.DataFrame | None:
    if stations is None:
        return None
    if outside not in OUTSIDE_MODES:
        msg = f"The 'outside' parameter must be one of {list(OUTSIDE_MODES)}. Got {outside!r} instead."
        raise ShakemapError(msg)
    sta = stations if "imts" in stations.attrs else validate_stations(stations)
    lon0, lat0, lon1, lat1 = sites.bounds()
    inside = sta["lon"].between(lon0, lon1) & sta["lat"].between(lat0, lat1)
    n_out = int((~inside).sum())
    if n_out and outside == "error":
        ids = sta.loc[~inside, "station_id"].tolist()
        msg = (f"{n_out} station(s) lie outside the site box {sites.bounds()}: {ids[:10]}; "
               "pass outside='use' to condition on them anyway or 'drop' to ignore them.")
        raise StationError(msg)
    if n_out and outside == "drop":
        sta = sta[inside.to_numpy()].reset_index(drop=True)
        sta.attrs["imts"] = stations.attrs.get("imts", [])
        if sta.empty:
            msg = "Every station lies outside the site box; nothing to condition on."
            raise StationError(msg)
    imts_attr = sta.attrs.get("imts", [])
    sta = complete_site_columns(sta)
    sta.attrs["imts"] = imts_attr
    sta["inside_grid"] = sta["lon"].between(lon0, lon1) & sta["lat"].between(lat0, lat1)
    return sta


def compute_shakemap(
    rupture: Rupture,
    sites: Sites,
    model: Any,
    imts: str | Sequence[str],
    stations: pd.DataFrame | None = None,
    *,
    correlation: CorrelationModel | None = None,
    imt_mode: str = "same",
    obs_sigma: float = 0.0,
    outside: str = "use",
    tectonic_region: str = "crustal",
    gmice: str | None = "WordenEtAl2012",
    block: int = 4096,
    progress: Progress | None = None,
) -> ShakeMap:
    """Median and sigma maps of a scenario, conditioned on stations when given.

    Parameters
    ----------
    rupture
        The scenario (:class:`Rupture`).
    sites
        Target sites (:func:`grid_sites` or :func:`read_sites`).
    model
        Any object with ``predict(table, imts) -> Prediction`` giving ``tau`` and
        ``phi`` (a gmlearn model or ``OpenQuakeGMPE``).
    imts
        IMTs to map.
    stations
        Station table (:func:`read_stations` / :func:`validate_stations`), or None
        for the unconditioned model.
    correlation
        :class:`CorrelationModel` (default JB2009 case 2 + BJ2008 + GA2009).
    imt_mode
        ``"same"`` (ShakeMap/OpenQuake IMT selection) or ``"all"``; see :func:`conditioning_sets`.
    obs_sigma
        Extra observation standard deviation (ln units).
    outside
        Stations outside the site box: ``"use"`` (default; they inform the
        bias and nearby sites), ``"drop"`` or ``"error"``.
    tectonic_region
        Value of the ``tectonic_region`` column given to the model.
    gmice
        Ground-motion to intensity conversion of the MMI layer:
        ``"WordenEtAl2012"`` (default), ``"WordenEtAl2012MR"`` (its
        magnitude-distance form) or None for no MMI. MMI comes from the first
        mapped IMT of PGV, PGA, SA(1.0), SA(0.3), SA(3.0), with the GMICE's
        scatter and the conditioned sigma combined (:mod:`gmlearn.shakemap.gmice`).
    block
        Sites per conditioning block.
    progress
        Called as ``progress(step, total, message)``.

    Raises
    ------
    ShakemapError
        (and its subclasses) for bad input; nothing is written by this function.
    """
    targets = as_imts(imts)
    if gmice is not None:
        from gmlearn.shakemap.gmice import GMICES

        if gmice not in GMICES:
            msg = f"The 'gmice' parameter must be one of {list(GMICES)} or None. Got {gmice!r} instead."
            raise ShakemapError(msg)
    if imt_mode not in IMT_MODES:
        msg = f"The 'imt_mode' parameter must be one of {list(IMT_MODES)}. Got {imt_mode!r} instead."
        raise ShakemapError(msg)
    if int(block) < 1:
        msg = f"The 'block' parameter must be >= 1. Got {block!r} instead."
        raise ShakemapError(msg)
    total = 3 if stations is None else 4

    def step(k: int, message: str) -> None:
        if progress:
            progress(k, total, message)

    sta = _station_inputs(stations, sites, outside, targets)
    step(0, "predicting at the sites")
    site_table = _context(rupture, sites.frame, tectonic_region)
    prior = predict_sites(model, site_table, targets)
    result = {k: getattr(prior, k).copy() for k in ("mean", "tau", "phi", "sigma")}
    bias: dict = {}
    station_frame = None
    if sta is not None:
        groups = conditioning_sets(targets, list(sta.attrs["imts"]), imt_mode)
        needed = {o for _, obs in groups for o in obs}
        observed_imts = [i for i in sta.attrs["imts"] if i in needed]  # only what conditions a target
        step(1, f"predicting at {len(sta)} stations")
        sta_table = _context(rupture, sta, tectonic_region)
        sta_pred = predict_sites(model, sta_table, observed_imts)
        station_frame = _station_frame(sta, sta_table, sta_pred)
        for g, (tgt, obs) in enumerate(groups):
            rows = [observed_imts.index(o) for o in obs]
            cond = prepare(sta["lon"].to_numpy(), sta["lat"].to_numpy(), sta[obs].to_numpy(float).T, obs,
                           sta_pred.mean[rows], sta_pred.tau[rows], sta_pred.phi[rows], tgt,
                           correlation=correlation, obs_sigma=obs_sigma)
            idx = [targets.index(t) for t in tgt]
            label = f"conditioning {','.join(tgt)} ({g + 1}/{len(groups)})"
            res = condition(cond, sites.frame["lon"].to_numpy(), sites.frame["lat"].to_numpy(), prior.mean[idx],
                            prior.tau[idx], prior.phi[idx], prior.sigma[idx], block=block,
                            progress=lambda done, n, label=label: step(2, f"{label}: {done}/{n} sites"))
            for name in result:
                result[name][idx] = res[name]
            for t in tgt:
                bias[t] = cond.bias()[t] | {"conditioned_on": list(obs), "n_obs": int(cond.n_obs)}
    step(total - 1, "assembling the dataset")
    from gmlearn.shakemap.export import to_dataset

    ds = to_dataset(sites, site_table, targets, prior, result, rupture, model, bias, correlation or CorrelationModel(),
                    None if station_frame is None else len(station_frame), gmice=gmice)
    step(total, "done")
    return ShakeMap(ds, station_frame, rupture, bias)


def _station_frame(sta: pd.DataFrame, sta_table: pd.DataFrame, pred: Prediction) -> pd.DataFrame:
    """Stations with the model prediction (``<imt>_prior``), residuals (``<imt>_resid``), rrup and rjb."""
    frame = sta.copy()
    for a, imt in enumerate(pred.imts):
        frame[f"{imt}_prior"] = pred.mean[a]
        frame[f"{imt}_resid"] = frame[imt] - pred.mean[a]
    for col in ("rrup", "rjb"):
        frame[col] = sta_table[col].to_numpy()
    return frame


def condition_at(
    model: Any,
    station_table: pd.DataFrame,
    target_table: pd.DataFrame,
    imts: Sequence[str],
    *,
    correlation: CorrelationModel | None = None,
    imt_mode: str = "same",
) -> tuple[Prediction, dict[str, np.ndarray], dict]:
    """Prior and conditioned predictions at target rows, from ready-made feature tables.

    ``station_table`` and ``target_table`` are model feature tables (with
    ``lon``, ``lat``, distances, site columns); ``station_table`` also holds
    the ln observations in the IMT columns. Used by the leave-stations-out
    validation, where distances come from the flatfile.

    Returns
    -------
    tuple
        The unconditioned :class:`Prediction` at the targets, the conditioned
        ``{"mean", "tau", "phi", "sigma"}`` (each (n_imts, n_targets)) and the bias per IMT.
    """
    targets = as_imts(imts)
    prior_t = predict_sites(model, target_table, targets)
    prior_s = predict_sites(model, station_table, targets)
    out = {k: getattr(prior_t, k).copy() for k in ("mean", "tau", "phi", "sigma")}
    bias = {}
    for tgt, obs in conditioning_sets(targets, targets, imt_mode):
        rows = [targets.index(o) for o in obs]
        cond: Conditioner = prepare(station_table["lon"].to_numpy(), station_table["lat"].to_numpy(),
                                    station_table[obs].to_numpy(float).T, obs, prior_s.mean[rows], prior_s.tau[rows],
                                    prior_s.phi[rows], tgt, correlation=correlation)
        idx = [targets.index(t) for t in tgt]
        res = condition(cond, target_table["lon"].to_numpy(), target_table["lat"].to_numpy(), prior_t.mean[idx],
                        prior_t.tau[idx], prior_t.phi[idx], prior_t.sigma[idx])
        for name in out:
            out[name][idx] = res[name]
        bias.update({t: cond.bias()[t] for t in tgt})
    return prior_t, out, bias


def model_label(model: Any) -> str:
    """A short name of a ground-motion model for titles and captions (not its full repr)."""
    gsim = getattr(model, "gsim", None)
    if type(model).__name__ == "OpenQuakeGMPE" and gsim:
        return str(gsim)
    base = getattr(model, "base", None)
    if base is not None:
        return f"{type(model).__name__}(base={base if isinstance(base, str) else model_label(base)})"
    return type(model).__name__
