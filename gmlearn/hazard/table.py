"""Export a saved gmlearn model as an OpenQuake ``GMPETable`` HDF5 file.

Stock OpenQuake (``oq engine --run``, no gmlearn installed) can read ground-motion
models as tables of median and total sigma over magnitude × one distance
metric (:class:`openquake.hazardlib.gsim.gmpe_table.GMPETable`). A table is a
*reduction* of a gmlearn model, and these things are lost:

- **Site dependence.** Every cell is computed for one site (``vs30``, and
  ``z1pt0``/``z2pt5`` from OpenQuake's vs30 correlations unless set); the
  table applies it to every site of the job whatever its site model says.
- **Rupture parameters other than magnitude.** Rake, dip, depth to top of
  rupture and width are fixed (rake 0 by default, dip from rake, width from
  Wells & Coppersmith 1994, ztor from a 10 km hypocentre).
- **All distances but one.** The other metrics a model reads come from one
  generic geometry: a site on the footwall side of the rupture's mid-point,
  ``rrup = sqrt(rjb² + ztor²)``, ``rx = -rjb``, ``ry0 = 0``, ``repi = rjb``,
  ``rhypo = sqrt(repi² + hypo_depth²)``. Hanging-wall effects vanish.
- **The split of sigma.** Only total sigma is stored, so OpenQuake cannot
  draw spatially correlated fields or condition on stations with a table.
- **Between the nodes.** OpenQuake interpolates linearly in magnitude on
  log10(IML), linearly in distance on IML, and log-log in period; it clips
  magnitudes above the last node and sets IML to 1e-20 beyond the last
  distance. Station terms and epistemic (BNN) uncertainty are not exported.
- **A single SA period.** OpenQuake's period interpolation needs two nodes
  (with one it returns NaN and a classical job ends with zero curves), so a
  lone period ``T`` is written as the flat axis ``[T, (1 + 1e-3) T]`` holding
  the same values: OpenQuake then reads ``SA(T)`` exactly and refuses other
  periods.

Every table is read back through OpenQuake's ``GMPETable`` before it is
published (:func:`check_table`): medians and sigmas must be finite and
positive at every magnitude node, between nodes, and at distances inside the
table, for every IMT written.

Use the table only where those simplifications hold (a uniform site class,
one style of faulting); otherwise run the model itself with
:func:`gmlearn.hazard.run`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gmlearn.exceptions import ModelError
from gmlearn.schema import imt_string

__all__ = ["DEFAULT_DISTANCES", "DEFAULT_MAGS", "TABLE_METRICS", "check_table", "export_table", "scenario_table"]

#: Magnitude nodes (Mw) of a table unless given.
DEFAULT_MAGS: np.ndarray = np.round(np.arange(4.0, 8.51, 0.25), 2)
#: Distance nodes (km) unless given; dense near the source, as in OpenQuake's demo tables.
DEFAULT_DISTANCES: np.ndarray = np.array([0.0, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 12.5, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0,
                                          60.0, 70.0, 80.0, 100.0, 120.0, 140.0, 160.0, 180.0, 200.0, 250.0, 300.0,
                                          350.0, 400.0, 500.0, 600.0, 800.0, 1000.0])
#: Distance metrics a GMPETable can be indexed by.
TABLE_METRICS: tuple[str, ...] = ("rrup", "rjb", "rhypo", "repi")
_DEFAULT_HYPO_DEPTH = 10.0
#: Relative offset of the twin node that makes a lone SA period a two-node axis.
_LONE_PERIOD_STEP = 1e-3


def _geometry(mag: np.ndarray, dist: np.ndarray, metric: str, fixed: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Rupture and distance columns of the generic footwall geometry (see the module docstring)."""
    from gmlearn.store.derived import dip_from_rake, width_from_mag, ztor_from_hypocentre

    n = len(mag)
    rake = np.full(n, float(fixed.get("rake", 0.0)))
    dip = np.full(n, float(fixed["dip"])) if "dip" in fixed else dip_from_rake(rake)
    width = np.full(n, float(fixed["width"])) if "width" in fixed else width_from_mag(mag)
    hypo_depth = np.full(n, float(fixed.get("hypo_depth", _DEFAULT_HYPO_DEPTH)))
    ztor = np.full(n, float(fixed["ztor"])) if "ztor" in fixed else ztor_from_hypocentre(hypo_depth, width, dip)
    if metric == "rrup":
        rjb = np.sqrt(np.maximum(dist**2 - ztor**2, 0.0))
        rrup = np.maximum(dist, ztor)
    elif metric in ("rjb", "repi"):
        rjb = dist
        rrup = np.sqrt(dist**2 + ztor**2)
    else:  # rhypo
        rjb = np.sqrt(np.maximum(dist**2 - hypo_depth**2, 0.0))
        rrup = np.sqrt(rjb**2 + ztor**2)
    repi = rjb
    return {"mag": mag, "rake": rake, "dip": dip, "width": width, "hypo_depth": hypo_depth, "ztor": ztor,
            "rrup": rrup, "rjb": rjb, "rx": -rjb, "ry0": np.zeros(n), "repi": repi,
            "rhypo": np.sqrt(repi**2 + hypo_depth**2)}


def scenario_table(features: Sequence[str], mags: Sequence[float], distances: Sequence[float], *,
                   metric: str = "rrup", vs30: float = 760.0, fixed: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The feature rows of every (distance, magnitude) node, distance varying fastest within a magnitude.

    Parameters
    ----------
    features
        Columns the model reads (OpenQuake context names).
    mags, distances
        Table nodes.
    metric
        The distance the table is indexed by (one of :data:`TABLE_METRICS`).
    vs30
        Site vs30 (m/s); ``z1pt0`` (m) and ``z2pt5`` (km) follow from it unless in ``fixed``.
    fixed
        Values for any other column (e.g. ``{"rake": 90, "hypo_depth": 15}``).

    Raises
    ------
    ModelError
        If the model reads a column this geometry cannot supply and ``fixed``
        does not give it; the message names it.
    """
    from gmlearn.store.derived import z1pt0_from_vs30, z2pt5_from_vs30

    fixed = dict(fixed or {})
    if metric not in TABLE_METRICS:
        msg = f"metric={metric!r} is not a GMPETable distance; use one of {list(TABLE_METRICS)}."
        raise ModelError(msg)
    mags_a = np.asarray(mags, dtype=float)
    dists_a = np.asarray(distances, dtype=float)
    mag = np.repeat(mags_a, len(dists_a))
    dist = np.tile(dists_a, len(mags_a))
    cols: dict[str, Any] = _geometry(mag, dist, metric, fixed)
    n = len(mag)
    vs = np.full(n, float(fixed.get("vs30", vs30)))
    cols.update(vs30=vs, vs30measured=np.full(n, bool(fixed.get("vs30measured", True))),
                z1pt0=np.full(n, float(fixed["z1pt0"])) if "z1pt0" in fixed else z1pt0_from_vs30(vs),
                z2pt5=np.full(n, float(fixed["z2pt5"])) if "z2pt5" in fixed else z2pt5_from_vs30(vs))
    for name, value in fixed.items():
        if name not in cols:
            cols[name] = np.full(n, value)
    missing = [f for f in features if f not in cols]
    if missing:
        msg = (f"the model reads {missing}, which a magnitude-distance table cannot derive; give a value for each "
               f"(Python: fixed={{'{missing[0]}': ...}}; CLI: --set {missing[0]}=VALUE).")
        raise ModelError(msg)
    return pd.DataFrame({f: cols[f] for f in features})


def _parse_imts(names: Sequence[str]) -> tuple[list[str], list[float]]:
    scalars, periods = [], []
    for name in names:
        s = imt_string(name)
        if s.startswith("SA("):
            periods.append(float(s[3:-1]))
        elif s in ("PGA", "PGV"):
            scalars.append(s)
        else:
            msg = f"IMT {s!r} cannot go into a GMPETable; OpenQuake's tables hold PGA, PGV and SA(T)."
            raise ModelError(msg)
    return scalars, sorted(set(periods))


def export_table(
    model_file: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    imts: Sequence[str] | None = None,
    mags: Sequence[float] | None = None,
    distances: Sequence[float] | None = None,
    metric: str = "rrup",
    vs30: float = 760.0,
    fixed: Mapping[str, float] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a saved model's medians and total sigma as an OpenQuake GMPETable HDF5 file.

    Parameters
    ----------
    model_file
        Model folder, its ``metadata.json`` or a ``.zip`` (as for ``GMLearnGSIM``).
    out
        HDF5 file to write (atomically).
    imts
        IMTs to tabulate (default: all the model predicts; an ``OpenQuakeGMPE``
        needs them given). SA periods form one period axis.
    mags, distances
        Table nodes (default :data:`DEFAULT_MAGS`, :data:`DEFAULT_DISTANCES`).
    metric
        Distance metric of the table: ``rrup`` (default), ``rjb``, ``rhypo``, ``repi``.
    vs30, fixed
        The one site and the fixed rupture parameters (see :func:`scenario_table`).
    overwrite
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The file. Use it in a logic tree as
        ``<uncertaintyModel gmpe_table="table.hdf5">GMPETable</uncertaintyModel>``.

    Raises
    ------
    ModelError
        Unknown model file, IMTs the model lacks, columns the table cannot
        derive, or non-increasing nodes.
    """
    import h5py

    from gmlearn.hazard.gsim import cached_model, check_imts, model_spec
    from gmlearn.store.atomic import atomic_write_with

    out = Path(out)
    if out.exists() and not overwrite:
        msg = f"{out} exists; pass overwrite=True (CLI: --overwrite) to replace it."
        raise FileExistsError(msg)
    spec = model_spec(model_file, refresh=True)
    names = [imt_string(i) for i in (imts or spec.imts)]
    if not names:
        msg = f"the model in {spec.folder!r} ({spec.model_class}) lists no IMTs; pass imts=[...] (CLI: --imts)."
        raise ModelError(msg)
    check_imts(spec, names)
    scalars, periods = _parse_imts(names)
    mags_a = np.asarray(DEFAULT_MAGS if mags is None else mags, dtype=float)
    dists_a = np.asarray(DEFAULT_DISTANCES if distances is None else distances, dtype=float)
    for label, nodes in (("mags", mags_a), ("distances", dists_a)):
        if nodes.ndim != 1 or len(nodes) < 2 or not np.all(np.diff(nodes) > 0) or not np.all(np.isfinite(nodes)):
            msg = f"{label} must be at least two finite, strictly increasing values; got {nodes.tolist()}."
            raise ModelError(msg)
    if dists_a[0] < 0:
        msg = f"distances must be >= 0 km; got {dists_a[0]}."
        raise ModelError(msg)
    table = scenario_table(spec.features, mags_a, dists_a, metric=metric, vs30=vs30, fixed=fixed)
    model = cached_model(spec.folder)
    sa = [f"SA({p})" for p in periods]
    pred = model.predict(table, scalars + sa)
    shape = (len(mags_a), len(dists_a))

    def _cube(kind: str, imt_names: list[str]) -> np.ndarray:
        # GMPETable layout: (n_distances, n_periods, n_mags)
        values = getattr(pred, kind)[[pred.imts.index(i) for i in imt_names]]  # (n_imt, n_rows)
        return np.stack([v.reshape(shape).T for v in values], axis=1)

    attrs = {"generator": "gmlearn.hazard.export_table", "model_folder": spec.folder, "model_class": spec.model_class,
             "metric": metric, "vs30": float(vs30), "fixed": json.dumps(dict(fixed or {}))}

    def _write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as fh:
            dset = fh.create_dataset("Distances", data=np.repeat(dists_a[:, None, None], len(mags_a), axis=2))
            dset.attrs["metric"] = metric
            fh.create_dataset("Mw", data=mags_a)
            for group, kind in (("IMLs", "mean"), ("Total", "sigma")):
                g = fh.create_group(group)
                for name in scalars:
                    cube = _cube(kind, [name])
                    g.create_dataset(name, data=np.exp(cube) if kind == "mean" else cube)
                if sa:
                    cube = _cube(kind, sa)
                    if len(periods) == 1:  # OpenQuake's period interpolation needs two nodes
                        cube = np.concatenate([cube, cube], axis=1)
                    g.create_dataset("SA", data=np.exp(cube) if kind == "mean" else cube)
                    g.create_dataset("T", data=_period_axis(periods))
            for key, value in attrs.items():
                fh.attrs[key] = value

    def _write_checked(tmp: Path) -> None:
        _write(tmp)
        try:
            check_table(tmp, names)
        except ModelError as exc:
            msg = f"{str(exc).replace(str(tmp), str(out))} {out} was not written."
            raise ModelError(msg) from exc

    return atomic_write_with(out, _write_checked)


def _period_axis(periods: list[float]) -> np.ndarray:
    """The table's period nodes: the periods, or ``[T, (1 + 1e-3) T]`` for a lone period ``T``."""
    if len(periods) == 1:
        return np.array([periods[0], periods[0] * (1.0 + _LONE_PERIOD_STEP)])
    return np.asarray(periods, dtype=float)


def check_table(path: str | os.PathLike[str], imts: Sequence[str]) -> None:
    """Read a GMPETable HDF5 through OpenQuake and check it gives usable ground motions.

    For every IMT, OpenQuake's ``GMPETable.compute`` runs at each magnitude
    node, at the mid-point between nodes, and at each distance node and
    mid-point inside the table; medians must be finite and positive and
    total sigma finite and non-negative.

    Parameters
    ----------
    path
        The HDF5 file.
    imts
        IMT strings the table must serve (``PGA``, ``PGV``, ``SA(T)``).

    Raises
    ------
    ModelError
        If OpenQuake cannot read the file or an IMT gives a non-finite value;
        the message names the IMT, magnitude and distance.
    """
    import h5py
    from openquake.hazardlib import imt as oq_imt
    from openquake.hazardlib.gsim.gmpe_table import GMPETable

    try:
        gsim = GMPETable(gmpe_table=str(path))
    except (OSError, KeyError, ValueError) as exc:
        msg = f"OpenQuake cannot read the GMPETable {str(path)!r}: {exc}"
        raise ModelError(msg) from exc
    with h5py.File(path, "r") as fh:
        metric = fh["Distances"].attrs["metric"]
        metric = metric.decode() if isinstance(metric, bytes) else str(metric)
    mags = np.round(np.asarray(gsim.m_w, dtype=float), 2)
    mags = np.unique(np.round(np.concatenate([mags, (mags[:-1] + mags[1:]) / 2]), 2))
    nodes = np.asarray(gsim.distances[:, 0, 0], dtype=float)
    dists = np.concatenate([nodes, (nodes[:-1] + nodes[1:]) / 2])
    imt_objs = [oq_imt.from_string(imt_string(i)) for i in imts]
    n = len(dists)
    for mag in mags:
        ctx = np.rec.fromarrays([np.full(n, mag), dists], names=["mag", metric])
        mean, sig, tau, phi = (np.zeros((len(imt_objs), n)) for _ in range(4))
        try:
            gsim.compute(ctx, imt_objs, mean, sig, tau, phi)
        except ValueError as exc:
            msg = f"OpenQuake's GMPETable fails on {str(path)!r} at M{mag:g}: {exc}"
            raise ModelError(msg) from exc
        for k, name in enumerate(imts):
            bad = ~np.isfinite(mean[k]) | ~np.isfinite(sig[k]) | (sig[k] < 0)
            if bad.any():
                msg = (f"the GMPETable written to {str(path)!r} gives non-finite ground motion for {name} at M{mag:g}, "
                       f"{metric}={dists[bad][0]:g} km (mean {mean[k][bad][0]}, sigma {sig[k][bad][0]}); the model "
                       "predicts NaN or infinity there.")
                raise ModelError(msg)
