"""``GMLearnGSIM``: any saved gmlearn model as an OpenQuake GSIM.

In a gsim logic tree (or ``gsim =`` in a job.ini) write::

    <uncertaintyModel>
        [GMLearnGSIM]
        model_file = "models/tree_crustal/metadata.json"
    </uncertaintyModel>

``model_file`` is the ``metadata.json`` of a folder written by
:func:`gmlearn.gmpe.persistence.save_model`, or a ``.zip`` archive of such a
folder (:func:`gmlearn.hazard.archive.pack_model`); OpenQuake resolves a
relative path against the logic-tree file. (OpenQuake checksums and stores every
``*_file`` argument as one file, so it cannot be the folder itself; in Python,
``GMLearnGSIM(model_file=folder)`` also works.) The GSIM's ``DEFINED_FOR_*`` and ``REQUIRES_*`` sets come
from the model's metadata, so OpenQuake builds exactly the context columns the
model reads; ``compute`` turns the context array into a DataFrame (OpenQuake
names are gmlearn names) and fills mean, total sigma, tau and phi.

OpenQuake 3.25 allows a GSIM class only the ``compute`` method (helpers live
at module level) and pickles every instance to every task, so an instance
keeps the model path and a few name sets; the model itself is loaded once per
process through :func:`cached_model`, keyed by path.
"""

# No ``from __future__ import annotations``: OpenQuake's metaclass reads
# ``compute.__annotations__["ctx"]`` and needs the real ``np.recarray`` class.
import hashlib
import json
import logging
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openquake.hazardlib import const
from openquake.hazardlib import imt as oq_imt
from openquake.hazardlib.contexts import KNOWN_DISTANCES, RuptureContext
from openquake.hazardlib.gsim.base import GMPE
from openquake.hazardlib.site import site_param_dt

from gmlearn.exceptions import ModelError, OutOfRangeWarning
from gmlearn.schema import imt_string

__all__ = ["GMLearnGSIM", "ModelSpec", "cached_model", "check_epistemic", "check_imts", "clear_cache", "context_table", "model_spec",
           "prepare_model", "resolve_model_folder"]

log = logging.getLogger(__name__)

#: Rupture parameters an OpenQuake context can carry.
RUPTURE_PARAMETERS: frozenset[str] = frozenset(RuptureContext._slots_) - {"hypo_loc", "src_id", "rup_id"}
#: Site parameters an OpenQuake site collection can carry.
SITE_PARAMETERS: frozenset[str] = frozenset(site_param_dt) - {"sids", "site_id"}

_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}
_SPECS: dict[str, "ModelSpec"] = {}
_STAMPS: dict[str, tuple[int, int]] = {}
_ORIGINS: dict[str, str] = {}  # SHA-256 of metadata.json -> a complete model folder
_WARNED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class ModelSpec:
    """What a saved model declares, in OpenQuake's terms.

    Attributes
    ----------
    folder
        Absolute path of the model folder.
    model_class
        ``metadata.json`` class name (``TreeGMM``, ``OpenQuakeGMPE``, ...).
    features
        Context columns the model reads, in the model's order.
    imts
        IMT strings the model predicts; empty for an ``OpenQuakeGMPE`` (any
        period its coefficient table covers).
    imt_families
        IMT class names (``PGA``, ``SA``, ``PGV``).
    rupture, distances, sites
        ``features`` split into OpenQuake's rupture, distance and site parameters.
    trt, imc
        Tectonic region type and intensity-measure component.
    """

    folder: str
    model_class: str
    features: tuple[str, ...]
    imts: tuple[str, ...]
    imt_families: frozenset[str]
    rupture: frozenset[str]
    distances: frozenset[str]
    sites: frozenset[str]
    trt: Any
    imc: Any


def resolve_model_folder(model_file: str | os.PathLike[str]) -> Path:
    """The model folder named by ``model_file``: the folder, its ``metadata.json`` or a ``.zip`` archive.

    Archives (:func:`gmlearn.hazard.archive.pack_model`) are extracted once
    into :func:`gmlearn.hazard.archive.data_dir` ``/models``.

    Raises
    ------
    ModelError
        If the path does not exist or holds no ``metadata.json``; the message
        names the path and how to make one.
    """
    path = Path(model_file).expanduser().absolute()
    if not path.exists():
        msg = (f"GMLearnGSIM: model_file {str(path)!r} does not exist. Point model_file at the metadata.json of a folder "
               "written by gmlearn.gmpe.persistence.save_model (or `gmlearn train --out`), or at a .zip made by "
               "gmlearn.hazard.pack_model; a relative path is read from the folder of the logic-tree file or job.ini.")
        raise ModelError(msg)
    if path.is_file() and path.suffix == ".zip":
        from gmlearn.hazard.archive import unpack_model

        return unpack_model(path)
    folder = path if path.is_dir() else path.parent
    if not (folder / "metadata.json").is_file() or (path.is_file() and path.name != "metadata.json"):
        msg = (f"GMLearnGSIM: model_file {str(path)!r} is not a gmlearn model (expected a model folder's metadata.json "
               "or a .zip archive of the folder). Save the model with gmlearn.gmpe.persistence.save_model and point "
               "model_file at <folder>/metadata.json.")
        raise ModelError(msg)
    return folder


def _read_spec(folder: Path) -> ModelSpec:
    from gmlearn.gmpe.persistence import _read_metadata, load_model

    try:
        meta = _read_metadata(folder)
    except ModelError as exc:
        msg = f"GMLearnGSIM: cannot use model_file {str(folder)!r}: {exc} Re-save the model with gmlearn.gmpe.persistence.save_model."
        raise ModelError(msg) from exc
    if meta["class"] == "OpenQuakeGMPE":
        native = load_model(folder)._gsim
        return ModelSpec(
            folder=str(folder), model_class="OpenQuakeGMPE",
            features=tuple(sorted(set(native.REQUIRES_RUPTURE_PARAMETERS) | set(native.REQUIRES_DISTANCES)
                                  | set(native.REQUIRES_SITES_PARAMETERS))),
            imts=(), imt_families=frozenset(c.__name__ for c in native.DEFINED_FOR_INTENSITY_MEASURE_TYPES),
            rupture=frozenset(native.REQUIRES_RUPTURE_PARAMETERS), distances=frozenset(native.REQUIRES_DISTANCES),
            sites=frozenset(native.REQUIRES_SITES_PARAMETERS),
            trt=native.DEFINED_FOR_TECTONIC_REGION_TYPE, imc=native.DEFINED_FOR_INTENSITY_MEASURE_COMPONENT,
        )
    features = tuple(str(f) for f in meta.get("required_features", meta.get("features", [])))
    unknown = [f for f in features if f not in RUPTURE_PARAMETERS | KNOWN_DISTANCES | SITE_PARAMETERS]
    if unknown:
        msg = (f"GMLearnGSIM: the model in {str(folder)!r} reads {unknown}, which OpenQuake cannot supply; "
               f"OpenQuake contexts carry rupture parameters {sorted(RUPTURE_PARAMETERS)}, distances "
               f"{sorted(KNOWN_DISTANCES)} and site parameters {sorted(SITE_PARAMETERS)}. Retrain without them.")
        raise ModelError(msg)
    imts = tuple(imt_string(i) for i in meta["imts"])
    if not imts:
        msg = f"GMLearnGSIM: the model in {str(folder)!r} lists no IMTs in metadata.json; it is not fitted."
        raise ModelError(msg)
    trt = meta.get("tectonic_region_type", const.TRT.ACTIVE_SHALLOW_CRUST)
    return ModelSpec(
        folder=str(folder), model_class=str(meta["class"]), features=features, imts=imts,
        imt_families=frozenset(i.split("(")[0] for i in imts),
        rupture=frozenset(f for f in features if f in RUPTURE_PARAMETERS),
        distances=frozenset(f for f in features if f in KNOWN_DISTANCES),
        sites=frozenset(f for f in features if f in SITE_PARAMETERS and f not in RUPTURE_PARAMETERS),
        trt=trt, imc=const.IMC.RotD50,
    )


def _stamp(folder: Path) -> tuple[int, int]:
    stat = (folder / "metadata.json").stat()
    return stat.st_mtime_ns, stat.st_size


def model_spec(model_file: str | os.PathLike[str], *, refresh: bool = False) -> ModelSpec:
    """Declared inputs and outputs of a saved model (read once per process).

    With ``refresh=True`` (as when OpenQuake builds a GSIM) a model folder
    rewritten since it was cached is read again.
    """
    spec = _SPECS.get(str(model_file))
    if spec is not None and not refresh:
        return spec
    folder = resolve_model_folder(model_file)
    if refresh and _STAMPS.get(str(folder)) != _stamp(folder):
        with _LOCK:
            for cache in (_SPECS, _MODELS):
                stale = cache.get(str(folder))
                for key in [k for k, v in cache.items() if k == str(folder) or (stale is not None and v is stale)]:
                    del cache[key]
            _STAMPS[str(folder)] = _stamp(folder)
    spec = _SPECS.get(str(folder)) or _read_spec(folder)
    with _LOCK:
        _SPECS[str(folder)] = _SPECS[str(model_file)] = spec
    return spec


def cached_model(model_file: str | os.PathLike[str]) -> Any:
    """The model saved in ``model_file``, loaded once per process (hash-checked by ``load_model``)."""
    from gmlearn.gmpe.persistence import load_model

    model = _MODELS.get(str(model_file))
    if model is not None:
        return model
    try:
        key = str(resolve_model_folder(model_file))
    except ModelError as exc:
        msg = (f"{exc} (If OpenQuake rebuilt this GSIM from a datastore copy of metadata.json, the weight files "
               "were not stored with it: pack the model into one archive with gmlearn.hazard.pack_model and use "
               "model_file = \"name.zip\".)")
        raise ModelError(msg) from exc
    model = _MODELS.get(key)
    if model is None:
        try:
            model = load_model(key)
        except ModelError as exc:
            msg = f"GMLearnGSIM: cannot load model_file {key!r}: {exc} Re-save the model with gmlearn.gmpe.persistence.save_model."
            raise ModelError(msg) from exc
        _single_threaded(model)
    with _LOCK:
        _MODELS[key] = _MODELS[str(model_file)] = model
    return model


def _single_threaded(model: Any) -> None:
    """Predict with one thread: OpenQuake parallelises over tasks, and XGBoost's
    default of all cores makes each of the many small GSIM calls wait on
    OpenMP barriers (tens of times slower on a busy machine). Boosted models
    are then compiled into lookup tables (:mod:`gmlearn.gmpe.compiled`), which
    are exact to about 1e-5 in ln units and several times faster; a booster
    that cannot be compiled keeps XGBoost's own prediction."""
    for booster in getattr(model, "boosters_", {}).values():
        if hasattr(booster, "set_params"):
            booster.set_params(n_jobs=1)
    if hasattr(model, "compile") and os.environ.get("GMLEARN_COMPILE_TREES", "1") != "0":
        try:
            model.compile()
        except ModelError as exc:
            log.warning("GMLearnGSIM: %s; using XGBoost's prediction.", exc)


def _complete(folder: Path, meta: dict[str, Any]) -> bool:
    return all((folder / name).is_file() for name in meta.get("sha256", {}))


def prepare_model(model_file: str | os.PathLike[str]) -> Path:
    """Resolve, check and load (into the cache) the model a GSIM names; returns its folder.

    When OpenQuake rebuilds a GSIM from a datastore (scenario and event-based
    calculators do) it writes the stored ``metadata.json`` into a temporary
    folder and deletes it afterwards. A folder whose ``metadata.json`` has the
    same bytes as one already seen in this process is the same model (the
    metadata lists every file's SHA-256), so when that folder lacks weight
    files or has none, the GSIM uses the folder seen first while it exists.
    """
    folder = resolve_model_folder(model_file)
    data = (folder / "metadata.json").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        meta = json.loads(data)
    except json.JSONDecodeError:
        meta = {}
    known = _ORIGINS.get(digest)
    # Only a folder without weights (metadata-only) or with weights missing is
    # swapped; a complete folder is always loaded, so its hashes are checked.
    swap = not meta.get("sha256") or not _complete(folder, meta)
    if swap and known is not None and known != str(folder) and Path(known, "metadata.json").is_file():
        folder = Path(known)
    spec = model_spec(folder, refresh=True)
    if _complete(folder, meta):
        _ORIGINS.setdefault(digest, str(folder))
        if not Path(_ORIGINS[digest], "metadata.json").is_file():
            _ORIGINS[digest] = str(folder)
        cached_model(folder)
    return Path(spec.folder)


def clear_cache() -> None:
    """Forget loaded models and specs (after a model folder was overwritten)."""
    with _LOCK:
        _MODELS.clear()
        _SPECS.clear()
        _STAMPS.clear()
        _ORIGINS.clear()
        _WARNED.clear()


def check_imts(spec: ModelSpec, imts: list[str]) -> None:
    """Raise if the model cannot predict one of ``imts`` (OpenQuake IMT strings)."""
    names = [imt_string(i) for i in imts]
    if spec.imts:
        missing = [i for i in names if i not in spec.imts]
    else:
        missing = [i for i in names if i.split("(")[0] not in spec.imt_families]
    if missing:
        have = list(spec.imts) or sorted(spec.imt_families)
        msg = (f"GMLearnGSIM: the model in {spec.folder!r} cannot predict {missing}; it predicts {have}. "
               "Remove those IMTs from intensity_measure_types(_and_levels) or retrain the model with them.")
        raise ModelError(msg)


def context_table(ctx: np.recarray, features: tuple[str, ...]) -> pd.DataFrame:
    """The model's feature columns of an OpenQuake context array (float64; ``vs30measured`` bool)."""
    cols: dict[str, np.ndarray] = {}
    for name in features:
        values = np.asarray(ctx[name])
        cols[name] = values.astype(bool) if name == "vs30measured" else values.astype(np.float64)
    return pd.DataFrame(cols, copy=False)


def check_epistemic(model_file: str | os.PathLike[str], epistemic_z: float | None) -> None:
    """Raise unless ``epistemic_z`` is None or the model has epistemic uncertainty (a Bayesian model)."""
    if epistemic_z is None:
        return
    spec = model_spec(model_file)
    try:
        z = float(epistemic_z)
    except (TypeError, ValueError):
        z = float("nan")
    if not np.isfinite(z):
        msg = f"GMLearnGSIM: epistemic_z must be a finite number (standard deviations); got {epistemic_z!r}."
        raise ModelError(msg)
    if not hasattr(cached_model(spec.folder), "predict_branch"):
        msg = (f"GMLearnGSIM: epistemic_z is set but the model in {spec.folder!r} ({spec.model_class}) has no "
               "epistemic uncertainty; only Bayesian models (BayesianNNGMM) have epistemic branches. "
               "Remove epistemic_z from the logic tree.")
        raise ModelError(msg)


def _predict(model_file: str, ctx: np.recarray, imts: list[Any], epistemic_z: float | None = None,
             extrapolation: str | None = None) -> Any:
    spec = model_spec(model_file)
    names = [im.string for im in imts]
    check_imts(spec, names)
    model = cached_model(model_file)
    table = context_table(ctx, spec.features)
    policy = getattr(model, "extrapolation", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OutOfRangeWarning)
        try:
            if extrapolation is not None and policy is not None:
                model.extrapolation = extrapolation
            if epistemic_z is None:
                pred = model.predict(table, [imt_string(n) for n in names])
            else:
                pred = model.predict_branch(table, [imt_string(n) for n in names], z=float(epistemic_z))
        finally:
            if policy is not None:
                model.extrapolation = policy
    for w in caught:
        if not issubclass(w.category, OutOfRangeWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            continue
        key = (spec.folder, str(w.message).split(" outside")[0].split("have ")[-1])
        if key not in _WARNED:
            _WARNED.add(key)
            log.warning("GMLearnGSIM %s: %s", spec.folder, w.message)
    return pred


def _fill(model_file: str, ctx: np.recarray, imts: list[Any], mean: np.ndarray, sig: np.ndarray,
          tau: np.ndarray, phi: np.ndarray, epistemic_z: float | None = None, extrapolation: str | None = None) -> None:
    if len(ctx) == 0:
        return
    pred = _predict(model_file, ctx, imts, epistemic_z, extrapolation)
    mean[:] = pred.mean
    sig[:] = pred.sigma
    tau[:] = pred.tau
    phi[:] = pred.phi


class GMLearnGSIM(GMPE):
    """A saved gmlearn model (any class ``save_model`` writes) as an OpenQuake GMPE.

    Parameters
    ----------
    model_file
        Model folder (or its ``metadata.json``). OpenQuake makes a relative
        path absolute against the logic-tree file's folder.
    epistemic_z
        Bayesian models only: this branch's shift of the posterior mean in
        epistemic standard deviations (sigma is then aleatory only). Written
        by :func:`gmlearn.hazard.write_epistemic_logic_tree`; leave unset for
        the posterior predictive (epistemic variance inside sigma).
    extrapolation
        ``"base"``, ``"warn"`` or ``"raise"``: the model's policy outside its
        training domain (:mod:`gmlearn.gmpe.anchor`) for this branch; unset keeps
        the policy saved with the model (``"base"`` by default).

    Raises
    ------
    ModelError
        At logic-tree parsing, before any computation, if the folder is
        missing, is not a gmlearn model, or its metadata is corrupt.
    """

    DEFINED_FOR_TECTONIC_REGION_TYPE = const.TRT.ACTIVE_SHALLOW_CRUST
    #: Set per instance from the model's IMTs.
    DEFINED_FOR_INTENSITY_MEASURE_TYPES = {oq_imt.PGA, oq_imt.PGV, oq_imt.SA}
    DEFINED_FOR_INTENSITY_MEASURE_COMPONENT = const.IMC.RotD50
    DEFINED_FOR_STANDARD_DEVIATION_TYPES = {const.StdDev.TOTAL, const.StdDev.INTER_EVENT, const.StdDev.INTRA_EVENT}
    #: The three sets below are set per instance from the model's features.
    REQUIRES_SITES_PARAMETERS = {"vs30"}
    REQUIRES_RUPTURE_PARAMETERS = {"mag"}
    REQUIRES_DISTANCES = {"rrup"}

    def __init__(self, model_file: str, epistemic_z: float | None = None, extrapolation: str | None = None) -> None:
        folder = prepare_model(model_file)
        spec = model_spec(folder)
        check_epistemic(folder, epistemic_z)
        if extrapolation is not None:
            from gmlearn.gmpe.anchor import check_policy

            check_policy(extrapolation, "GMLearnGSIM")
        self.extrapolation = extrapolation
        self.model_folder = spec.folder
        self.epistemic_z = None if epistemic_z is None else float(epistemic_z)
        self.DEFINED_FOR_TECTONIC_REGION_TYPE = spec.trt
        self.DEFINED_FOR_INTENSITY_MEASURE_COMPONENT = spec.imc
        self.DEFINED_FOR_INTENSITY_MEASURE_TYPES = frozenset(getattr(oq_imt, f) for f in spec.imt_families)
        self.REQUIRES_RUPTURE_PARAMETERS = spec.rupture
        self.REQUIRES_DISTANCES = spec.distances
        self.REQUIRES_SITES_PARAMETERS = spec.sites

    def compute(self, ctx: np.recarray, imts, mean, sig, tau, phi) -> None:  # noqa: ANN001 - OpenQuake's signature
        """Fill ln mean, total sigma, tau and phi, each (M, N), for the N context rows."""
        _fill(self.model_folder, ctx, imts, mean, sig, tau, phi, self.epistemic_z, self.extrapolation)
