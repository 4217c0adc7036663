"""Save and load trained models as folders of data (never pickle).

A model folder holds::

    metadata.json        format, format_version, gmlearn_version, class, arguments,
                         IMTs, features, applicability ranges, variance components,
                         training data hash, metrics, SHA-256 of every file
    booster_<k>.ubj      one XGBoost model per IMT (XGBoost's own binary JSON)
    random_effects.parquet  event and station terms per IMT
    posterior.nc         BayesianNNGMM only, instead of the boosters: posterior draws
                         of the network (ArviZ InferenceData as NetCDF)

Saving writes a temporary folder and renames it into place, so a crash leaves
the previous model intact; loading checks the format, the class and every
file's hash, and rebuilds a model whose predictions equal the saved one's bit
for bit.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from gmlearn._version import __version__
from gmlearn.exceptions import ModelError
from gmlearn.store.atomic import atomic_folder, atomic_write_json

__all__ = ["save_model", "load_model", "MODEL_FORMAT", "MODEL_FORMAT_VERSION", "model_classes"]

MODEL_FORMAT = "gmlearn-model"
MODEL_FORMAT_VERSION = 1
_EFFECT_KEYS = ("bias", "tau", "phi", "phi_ss", "phi_s2s", "sigma_from", "tau_train", "phi_train", "phi_ss_train", "rounds")


def model_classes() -> dict[str, type]:
    """Class name -> class of every model that can be saved."""
    from gmlearn.gmpe.bnn import BayesianNNGMM  # hook model, see the end of this module
    from gmlearn.gmpe.hybrid import HybridGMM
    from gmlearn.gmpe.monotone import MonotoneGMM
    from gmlearn.gmpe.tree import TreeGMM

    return {c.__name__: c for c in (TreeGMM, MonotoneGMM, HybridGMM, BayesianNNGMM)}


# -- published OpenQuake GMPEs: a folder with metadata only ------------------------------
def _save_reference(model: Any, path: Path, overwrite: bool) -> Path:
    """Save an :class:`~gmlearn.gmpe.reference.OpenQuakeGMPE` (its name and arguments)."""
    meta = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "gmlearn_version": __version__,
        "class": "OpenQuakeGMPE",
        "params": _jsonable(model.get_params()),
        "imts": [],
        "supported_imts": model.supported_imts,
        "required_features": list(model.required_features),
        "ranges": {},
        "effects": {},
        "files": {},
        "sha256": {},
    }
    if path.exists() and not overwrite:
        msg = f"{path} exists; pass overwrite=True to replace it."
        raise FileExistsError(msg)
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path / "metadata.json", meta)
    return path


def _load_reference(meta: dict[str, Any]) -> Any:
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    params = dict(meta["params"])
    gsim = params.pop("gsim", None)
    if not isinstance(gsim, str):
        msg = f"OpenQuakeGMPE metadata needs params.gsim (a GSIM class name); got {gsim!r}."
        raise ModelError(msg)
    model = OpenQuakeGMPE(gsim, **params)
    model.metadata_ = meta
    return model


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    training_hash: str | None = None,
    metrics: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Save a fitted model to a folder.

    Parameters
    ----------
    model
        A fitted :class:`~gmlearn.gmpe.tree.TreeGMM`, ``MonotoneGMM``, ``HybridGMM`` or
        ``BayesianNNGMM``.
    path
        Folder to create.
    training_hash
        Content hash of the training data (``FeatureStore.content_hash``).
    metrics
        Scores to keep with the model (e.g. CV RMS per IMT).
    overwrite
        Replace an existing model folder (atomically).

    Returns
    -------
    pathlib.Path
        The folder.
    """
    classes = model_classes()
    name = type(model).__name__
    if name == "OpenQuakeGMPE":
        return _save_reference(model, Path(path), overwrite)
    if name not in classes:
        msg = f"Cannot save a {name}; savable models are {sorted(classes)}."
        raise ModelError(msg)
    if not hasattr(model, "imts_" if hasattr(model, "_save_arrays") else "boosters_"):  # hook models: see the end
        msg = f"This {name} is not fitted; fit it before saving."
        raise ModelError(msg)
    path = Path(path)
    if path.exists() and not overwrite:
        msg = f"{path} exists; pass overwrite=True to replace it."
        raise FileExistsError(msg)

    def _write(tmp: Path) -> None:
        if hasattr(model, "_save_arrays"):  # hook models (BayesianNNGMM): see the end of this module
            atomic_write_json(tmp / "metadata.json", _hook_metadata(model, tmp, training_hash, metrics))
            return
        files: dict[str, str] = {}
        terms = []
        for k, imt in enumerate(model.imts_):
            file = f"booster_{k}.ubj"
            model.boosters_[imt].save_model(str(tmp / file))
            files[imt] = file
            eff = model.effects_[imt]
            for kind in ("event", "station"):
                series = eff[f"{kind}_terms"]
                terms.append(pd.DataFrame({"imt": imt, "kind": kind, "id": series.index.astype(str), "term": series.to_numpy(dtype=float)}))
        pd.concat(terms, ignore_index=True).to_parquet(tmp / "random_effects.parquet", index=False)
        meta = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "gmlearn_version": __version__,
            "class": name,
            "params": _jsonable(model.get_params()),
            "imts": list(model.imts_),
            "features": list(model.features),
            "required_features": list(model.required_features),
            "ranges": _jsonable(model.ranges_),
            "effects": {imt: {k: _jsonable(model.effects_[imt][k]) for k in _EFFECT_KEYS} for imt in model.imts_},
            "training": {"content_hash": training_hash},
            "metrics": _jsonable(dict(metrics or {})),
            "files": files,
            "sha256": {f: _sha256(tmp / f) for f in [*files.values(), "random_effects.parquet"]},
        }
        atomic_write_json(tmp / "metadata.json", meta)

    if path.exists():
        staging = path.with_name(f".{path.name}.new")
        shutil.rmtree(staging, ignore_errors=True)
        atomic_folder(staging, _write)
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
        os.replace(staging, path)
        shutil.rmtree(old, ignore_errors=True)
        return path
    return atomic_folder(path, _write)


def _read_metadata(path: Path) -> dict[str, Any]:
    meta_file = path / "metadata.json"
    if not meta_file.is_file():
        msg = f"{path} is not a gmlearn model folder (no metadata.json)."
        raise ModelError(msg)
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        msg = f"Corrupt model metadata {meta_file}: {exc}."
        raise ModelError(msg) from exc
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        msg = f"{meta_file} is not gmlearn model metadata (format {meta.get('format') if isinstance(meta, dict) else None!r}, expected {MODEL_FORMAT!r})."
        raise ModelError(msg)
    if not isinstance(meta.get("format_version"), int) or meta["format_version"] > MODEL_FORMAT_VERSION:
        msg = f"{meta_file} has format_version {meta.get('format_version')!r}; this gmlearn reads up to {MODEL_FORMAT_VERSION}."
        raise ModelError(msg)
    for key, kind in (("class", str), ("params", dict), ("imts", list), ("ranges", dict), ("effects", dict), ("files", dict), ("sha256", dict)):
        if not isinstance(meta.get(key), kind):
            msg = f"{meta_file}: field {key!r} must be a {kind.__name__}; got {type(meta.get(key)).__name__}."
            raise ModelError(msg)
    return meta


def load_model(path: str | os.PathLike[str]) -> Any:
    """Load a model saved by :func:`save_model`.

    Raises
    ------
    ModelError
        If the folder is not a gmlearn model, names an unknown class, misses a
        file, or a file's SHA-256 differs from the metadata (corrupt or altered).
    """
    import xgboost as xgb

    path = Path(path)
    meta = _read_metadata(path)
    if meta["class"] == "OpenQuakeGMPE":
        return _load_reference(meta)
    classes = model_classes()
    cls = classes.get(meta["class"])
    if cls is None:
        msg = f"{path}: unknown model class {meta['class']!r}; known classes are {sorted([*classes, 'OpenQuakeGMPE'])}."
        raise ModelError(msg)
    needed = {*meta["files"].values(), "random_effects.parquet"}
    unlisted = sorted(needed - set(meta["sha256"]))
    if unlisted:
        msg = f"{path}: metadata.json has no SHA-256 for {unlisted}; refusing to load unverified files."
        raise ModelError(msg)
    for file, digest in meta["sha256"].items():
        full = path / file
        if Path(file).name != file or not full.is_file():
            msg = f"{path}: file {file!r} listed in metadata.json is missing."
            raise ModelError(msg)
        if _sha256(full) != digest:
            msg = f"{path}: {file} does not match its SHA-256 in metadata.json; the model is corrupt or was altered."
            raise ModelError(msg)
    try:
        model = cls(**meta["params"])
    except TypeError as exc:
        msg = f"{path}: arguments {meta['params']} do not fit {meta['class']}: {exc}"
        raise ModelError(msg) from exc
    if hasattr(model, "_load_arrays"):  # hook models (BayesianNNGMM): see the end of this module
        return _hook_load(model, path, meta)
    terms = pd.read_parquet(path / "random_effects.parquet")
    model.boosters_, model.effects_ = {}, {}
    for imt in meta["imts"]:
        booster = xgb.XGBRegressor()
        try:
            booster.load_model(str(path / meta["files"][imt]))
        except (xgb.core.XGBoostError, ValueError) as exc:
            msg = f"{path}: {meta['files'][imt]} is not a readable XGBoost model: {exc}"
            raise ModelError(msg) from exc
        model.boosters_[imt] = booster
        eff = dict(meta["effects"][imt])
        for kind in ("event", "station"):
            sub = terms[(terms["imt"] == imt) & (terms["kind"] == kind)]
            eff[f"{kind}_terms"] = pd.Series(sub["term"].to_numpy(dtype=float), index=pd.Index(sub["id"].astype(str)), dtype=float)
        model.effects_[imt] = eff
    model.imts_ = list(meta["imts"])
    model.ranges_ = {k: [float(v[0]), float(v[1])] for k, v in meta["ranges"].items()}
    model.n_features_in_ = len(model.features)
    model.metadata_ = meta
    return model


# -- Models that write their own arrays (BayesianNNGMM, issue 3) ------------------------------
# Such a model provides ``_save_arrays(folder) -> {"files": {role: file}, "effects": {imt: {...}}}``
# (its native weight files, e.g. NetCDF posterior draws, plus JSON-ready scalars per IMT) and
# ``_load_arrays(folder, meta)``, which restores its learned arrays after the hashes were checked.
# The XGBoost path above does not use these hooks.


def _hook_metadata(model: Any, tmp: Path, training_hash: str | None, metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    """Let ``model`` write its files into ``tmp``; return the metadata that describes them."""
    arrays = model._save_arrays(tmp)
    files = dict(arrays["files"])
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "gmlearn_version": __version__,
        "class": type(model).__name__,
        "params": _jsonable(model.get_params()),
        "imts": list(model.imts_),
        "features": list(model.features),
        "required_features": list(model.required_features),
        "ranges": _jsonable(model.ranges_),
        "effects": _jsonable(arrays["effects"]),
        "training": {"content_hash": training_hash},
        "metrics": _jsonable(dict(metrics or {})),
        "files": files,
        "sha256": {f: _sha256(tmp / f) for f in files.values()},
    }


def _hook_load(model: Any, path: Path, meta: dict[str, Any]) -> Any:
    """Restore a hook model's arrays and the fields every model shares."""
    model._load_arrays(path, meta)
    model.imts_ = list(meta["imts"])
    model.ranges_ = {k: [float(v[0]), float(v[1])] for k, v in meta["ranges"].items()}
    model.n_features_in_ = len(model.features)
    model.metadata_ = meta
    return model
