"""Outputs of an OpenQuake calculation as pandas DataFrames, read from its datastore.

Every table is long ("tidy") and uses OpenQuake's IMT strings:

* ``hazard_curves``: ``site_id, lon, lat, kind, imt, iml, poe`` — probability of
  exceedance in the investigation time of intensity ``iml`` (g for PGA and SA,
  cm/s for PGV); ``kind`` is a statistic (``mean``, ``quantile-0.15``) or a
  realization (``rlz-000``).
* ``hazard_maps``: ``site_id, lon, lat, kind, imt, poe, iml`` — intensity with
  probability ``poe`` of exceedance.
* ``uhs``: ``site_id, lon, lat, kind, poe, imt, period, iml`` — uniform hazard
  spectra (PGA at period 0).
* ``gmfs``: ``event_id, rlz_id, site_id, lon, lat`` and one column per IMT
  (ground-motion values, g or cm/s).
* ``disaggregation``: ``site_id, lon, lat, kind, output, imt, poe`` then the
  bin centres of the output's dimensions (``mag``, ``dist`` km, ``eps``,
  ``bin_lon``, ``bin_lat``, ``trt``; NaN or empty where the output does not
  split by it) and ``prob``, the probability of exceedance contributed by the
  bin, for each disaggregation output (``Mag``, ``Mag_Dist_Eps`` ...) and
  target ``poe`` (``poes_disagg``).
* ``conditional_spectra``: ``site_id, lon, lat, kind, poe, period, median,
  sigma_ln`` — conditional spectrum (OpenQuake's ``postproc_func =
  conditional_spectrum.main``) conditioned on ``imt_ref`` at each ``poe``:
  median (g) and standard deviation of ln SA.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["HazardResult", "read_result", "COMPUTE_OPERATIONS"]

#: Task names in OpenQuake's performance table whose time is the calculation proper.
COMPUTE_OPERATIONS: tuple[str, ...] = ("total classical", "total event_based", "total compute_gmfs",
                                       "total postclassical", "total gen_event_based", "total ebrisk")


@dataclass
class HazardResult:
    """What one OpenQuake job produced.

    Attributes
    ----------
    calc_id
        OpenQuake calculation id (in the job database the run used: OpenQuake's own by default).
    calculation_mode
        ``classical``, ``scenario``, ``event_based`` ...
    datastore
        Path of the calculation's HDF5 datastore.
    sites
        ``site_id, lon, lat`` and the site parameters OpenQuake kept.
    hazard_curves, hazard_maps, uhs, gmfs, disaggregation, conditional_spectra
        See the module docstring; ``None`` when the job did not produce them.
    investigation_time
        Years the probabilities of exceedance refer to (classical, event-based).
    timings
        Seconds: ``wall`` (the whole job, start-up included), ``tasks`` (the
        calculation's tasks: classical or GMF tasks and post-processing),
        ``gsim`` (inside GSIM ``compute``: OpenQuake's "computing mean_std(s)"),
        ``startup`` (``wall - tasks``: reading inputs, building sources and
        contexts, storing).
    performance
        OpenQuake's performance table summed by operation.
    exported
        Files written by :meth:`export`.
    """

    calc_id: int
    calculation_mode: str
    datastore: Path
    sites: pd.DataFrame
    hazard_curves: pd.DataFrame | None = None
    hazard_maps: pd.DataFrame | None = None
    uhs: pd.DataFrame | None = None
    gmfs: pd.DataFrame | None = None
    disaggregation: pd.DataFrame | None = None
    conditional_spectra: pd.DataFrame | None = None
    investigation_time: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    performance: pd.DataFrame | None = None
    exported: list[Path] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The non-empty output tables by name."""
        named = {"sites": self.sites, "hazard_curves": self.hazard_curves, "hazard_maps": self.hazard_maps,
                 "uhs": self.uhs, "gmfs": self.gmfs, "disaggregation": self.disaggregation,
                 "conditional_spectra": self.conditional_spectra}
        return {k: v for k, v in named.items() if v is not None and len(v)}

    def export(self, folder: str | os.PathLike[str], *, plots: bool = True) -> list[Path]:
        """Write every table as CSV and, with ``plots``, PNG figures; returns the files.

        Each file is written under a temporary name and renamed into place.
        """
        from gmlearn.hazard.plots import save_plots
        from gmlearn.store.atomic import atomic_write_with

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for name, table in self.tables().items():
            path = atomic_write_with(folder / f"{name}.csv", lambda tmp, t=table: t.to_csv(tmp, index=False))
            files.append(path)
        if plots:
            files.extend(save_plots(self, folder))
        self.exported = files
        return files


def _kinds(ds, key: str) -> list[str]:  # noqa: ANN001 - OpenQuake DataStore
    info = json.loads(ds[key].attrs["json"])
    if key.endswith("-stats"):
        return [str(s) for s in info["stat"]]
    n = info["rlz_id"] if isinstance(info["rlz_id"], int) else len(info["rlz_id"])
    return [f"rlz-{r:03d}" for r in range(n)]


def _keys(ds, stem: str) -> list[str]:  # noqa: ANN001
    """``<stem>-stats`` and ``<stem>-rlzs``, leaving out a lone realization equal to the mean."""
    keys = [k for k in (f"{stem}-stats", f"{stem}-rlzs") if k in ds]
    if len(keys) == 2 and len(_kinds(ds, keys[1])) == 1:
        keys = keys[:1]
    return keys


def _curves(ds, oq, sites: pd.DataFrame) -> pd.DataFrame | None:  # noqa: ANN001
    frames = []
    for key in _keys(ds, "hcurves"):
        arr = ds[key][()]  # (N, K, M, L)
        kinds = _kinds(ds, key)
        for m, imt in enumerate(oq.imtls):
            levels = np.asarray(oq.imtls[imt], dtype=float)
            for k, kind in enumerate(kinds):
                block = arr[:, k, m, : len(levels)]
                frames.append(pd.DataFrame({
                    "site_id": np.repeat(sites["site_id"].to_numpy(), len(levels)),
                    "lon": np.repeat(sites["lon"].to_numpy(), len(levels)),
                    "lat": np.repeat(sites["lat"].to_numpy(), len(levels)),
                    "kind": kind, "imt": imt, "iml": np.tile(levels, len(sites)), "poe": block.reshape(-1),
                }))
    return pd.concat(frames, ignore_index=True) if frames else None


def _maps(ds, oq, sites: pd.DataFrame) -> pd.DataFrame | None:  # noqa: ANN001
    frames = []
    for key in _keys(ds, "hmaps"):
        arr = ds[key][()]  # (N, K, M, P)
        kinds = _kinds(ds, key)
        for m, imt in enumerate(oq.imtls):
            for k, kind in enumerate(kinds):
                for p, poe in enumerate(oq.poes):
                    frames.append(pd.DataFrame({
                        "site_id": sites["site_id"].to_numpy(), "lon": sites["lon"].to_numpy(),
                        "lat": sites["lat"].to_numpy(), "kind": kind, "imt": imt, "poe": float(poe),
                        "iml": arr[:, k, m, p],
                    }))
    return pd.concat(frames, ignore_index=True) if frames else None


def uhs_from_maps(maps: pd.DataFrame) -> pd.DataFrame | None:
    """Uniform hazard spectra (PGA and SA rows of a hazard-map table, by period)."""
    from openquake.hazardlib.imt import from_string

    spectral = maps[maps["imt"].str.startswith(("PGA", "SA("))].copy()
    if spectral.empty:
        return None
    spectral["period"] = [float(from_string(i).period) for i in spectral["imt"]]
    cols = ["site_id", "lon", "lat", "kind", "poe", "imt", "period", "iml"]
    return spectral[cols].sort_values(["kind", "poe", "site_id", "period"], kind="stable").reset_index(drop=True)


def _gmfs(ds, sites: pd.DataFrame) -> pd.DataFrame | None:  # noqa: ANN001
    if "gmf_data" not in ds or "sid" not in ds["gmf_data"]:
        return None
    df = ds.read_df("gmf_data")
    imts = [c for c in df.columns if c not in ("sid", "eid", "rup_info", "sigma_epsilon")]
    out = pd.DataFrame({"event_id": df["eid"].to_numpy(), "site_id": df["sid"].to_numpy()})
    if "events" in ds:
        rlz = ds["events"]["rlz_id"]
        out.insert(1, "rlz_id", np.asarray(rlz)[out["event_id"].to_numpy()])
    loc = sites.set_index("site_id")
    out["lon"] = loc["lon"].reindex(out["site_id"]).to_numpy()
    out["lat"] = loc["lat"].reindex(out["site_id"]).to_numpy()
    for imt in imts:
        out[imt] = df[imt].to_numpy(dtype=float)
    return out.sort_values(["event_id", "site_id"], kind="stable").reset_index(drop=True)


_DISAGG_COLUMNS = {"Mag": "mag", "Dist": "dist", "Eps": "eps", "Lon": "bin_lon", "Lat": "bin_lat", "TRT": "trt"}


def _z_labels(ds, oq, key: str, site: int) -> list[str]:  # noqa: ANN001
    if key.endswith("-stats"):
        return [str(s) for s in oq.hazard_stats()]
    return [f"rlz-{int(r):03d}" for r in ds["best_rlzs"][site]]


def _disagg(ds, oq, sites: pd.DataFrame) -> pd.DataFrame | None:  # noqa: ANN001
    """Long table of every disaggregation output (see the module docstring)."""
    if "disagg-bins" not in ds:
        return None
    bins = ds["disagg-bins"]
    imts, poes = list(oq.imtls), [float(p) for p in (oq.poes_disagg or oq.poes)]
    frames = []
    for key in [k for k in ("disagg-stats", "disagg-rlzs") if k in ds]:
        for output in ds[key]:
            arr = ds[key][output][()]
            dims = [d.decode() if isinstance(d, bytes) else str(d) for d in ds.get_attrs(f"{key}/{output}")["shape_descr"]]
            for n, site_id in enumerate(sites["site_id"].to_numpy()):
                axes: list[list[Any]] = []
                for dim, size in zip(dims[1:], arr.shape[1:]):
                    if dim == "imt":
                        axes.append(imts[:size])
                    elif dim == "poe":
                        axes.append(poes[:size])
                    elif dim == "Z":
                        axes.append(_z_labels(ds, oq, key, n)[:size])
                    elif dim == "TRT":
                        axes.append([t.decode() if isinstance(t, bytes) else str(t) for t in bins["TRT"][()]][:size])
                    else:
                        edges = np.asarray(bins[dim][()], dtype=float)
                        edges = edges[n] if edges.ndim == 2 else edges  # Lon, Lat: per site
                        axes.append(list((edges[:-1] + edges[1:]) / 2)[:size])
                index = pd.MultiIndex.from_product(axes, names=dims[1:])
                frame = index.to_frame(index=False).rename(columns={"Z": "kind", **_DISAGG_COLUMNS})
                frame["prob"] = arr[n].reshape(-1)
                frame.insert(0, "output", output)
                frame.insert(0, "lat", float(sites["lat"].iloc[n]))
                frame.insert(0, "lon", float(sites["lon"].iloc[n]))
                frame.insert(0, "site_id", int(site_id))
                frames.append(frame)
    if not frames:
        return None
    out = pd.concat(frames, ignore_index=True)
    cols = ["site_id", "lon", "lat", "kind", "output", "imt", "poe",
            *[c for c in _DISAGG_COLUMNS.values() if c in out.columns], "prob"]
    return out[cols]


def _conditional_spectra(ds, sites: pd.DataFrame) -> pd.DataFrame | None:  # noqa: ANN001
    frames = []
    for key in [k for k in ("cs-stats", "cs-rlzs") if k in ds]:
        df = ds[key].to_dframe(skip_zeros=False)
        kind = df["stat"].astype(str) if "stat" in df else df["rlz"].map(lambda r: f"rlz-{int(r):03d}")
        loc = sites.set_index("site_id")
        frames.append(pd.DataFrame({
            "site_id": df["site_id"].astype(int).to_numpy(), "lon": loc["lon"].reindex(df["site_id"]).to_numpy(),
            "lat": loc["lat"].reindex(df["site_id"]).to_numpy(), "kind": kind.to_numpy(),
            "poe": df["poe"].astype(float).to_numpy(), "period": df["period"].astype(float).to_numpy(),
            "median": df["mea"].astype(float).to_numpy(), "sigma_ln": df["std"].astype(float).to_numpy()}))
    return pd.concat(frames, ignore_index=True) if frames else None


def _performance(ds) -> pd.DataFrame:  # noqa: ANN001
    perf = ds.read_df("performance_data")
    perf["operation"] = perf["operation"].map(lambda b: b.decode() if isinstance(b, bytes) else str(b))
    return (perf.groupby("operation", sort=False)[["time_sec", "counts"]].sum().reset_index()
            .sort_values("time_sec", ascending=False, kind="stable").reset_index(drop=True))


def read_result(path: str | os.PathLike[str], *, wall: float | None = None) -> HazardResult:
    """Read a calculation's datastore (``calc_<id>.hdf5``) into a :class:`HazardResult`."""
    from openquake.commonlib.datastore import read

    ds = read(str(path))
    try:
        oq = ds["oqparam"]
        col = ds["sitecol"]
        sites = pd.DataFrame({name: col.array[name] for name in col.array.dtype.names if name != "sids"})
        sites.insert(0, "site_id", col.sids.astype(int))
        maps = _maps(ds, oq, sites)
        perf = _performance(ds)
        ops = perf.set_index("operation")["time_sec"]
        tasks = float(sum(ops.get(op, 0.0) for op in COMPUTE_OPERATIONS))
        timings = {"tasks": tasks, "gsim": float(ops.get("computing mean_std", 0.0) + ops.get("computing mean_stds", 0.0))}
        if wall is not None:
            timings = {"wall": float(wall), **timings, "startup": float(wall) - tasks}
        return HazardResult(
            calc_id=int(Path(str(path)).stem.split("_")[-1]),
            calculation_mode=str(oq.calculation_mode),
            datastore=Path(ds.filename),
            sites=sites,
            hazard_curves=_curves(ds, oq, sites),
            hazard_maps=maps,
            uhs=None if maps is None else uhs_from_maps(maps),
            gmfs=_gmfs(ds, sites),
            disaggregation=_disagg(ds, oq, sites),
            conditional_spectra=_conditional_spectra(ds, sites),
            investigation_time=float(oq.investigation_time) if oq.investigation_time else None,
            timings=timings,
            performance=perf,
        )
    finally:
        ds.close()
