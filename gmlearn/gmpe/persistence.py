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
the previous model intact; loading validates ``metadata.json`` against
:data:`METADATA_SCHEMA` (a clear :class:`~gmlearn.exceptions.ModelError` naming
the key), refuses symlinks, special files and oversized files, checks every
file's hash, and rebuilds a model whose predictions equal the saved one's bit
for bit. Nothing in a model folder is ever executed: the class is looked up by
name among :func:`model_classes`, weights are XGBoost UBJ, Parquet or NetCDF.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from gmlearn._version import __version__
from gmlearn.exceptions import ModelError
from gmlearn.gmpe.integrity import check_manifest, check_terms, check_values, stamp
from gmlearn.store.atomic import atomic_folder, atomic_write_json

__all__ = [
    "save_model", "load_model", "sign_model", "validate_metadata", "model_classes",
    "MODEL_FORMAT", "MODEL_FORMAT_VERSION", "METADATA_SCHEMA", "MAX_METADATA_BYTES", "MAX_FILE_BYTES",
]

MODEL_FORMAT = "gmlearn-model"
MODEL_FORMAT_VERSION = 1
_EFFECT_KEYS = ("bias", "tau", "phi", "phi_ss", "phi_s2s", "sigma_from", "tau_train", "phi_train", "phi_ss_train", "rounds")
#: Per-IMT entries of newer models (the scale of the epistemic term outside the training domain).
_OPTIONAL_EFFECT_KEYS = ("epistemic", "mag_allowance")
#: Largest ``metadata.json`` read (bytes); larger files are refused before parsing.
MAX_METADATA_BYTES = 16 * 2**20
#: Largest data file of a model folder (bytes).
MAX_FILE_BYTES = 8 * 2**30
#: Top-level keys of ``metadata.json``: key -> (JSON type, required). Other keys are ignored.
METADATA_SCHEMA: dict[str, tuple[type, bool]] = {
    "format": (str, True),
    "format_version": (int, True),
    "gmlearn_version": (str, True),
    "class": (str, True),
    "params": (dict, True),
    "imts": (list, True),
    "ranges": (dict, True),
    "effects": (dict, True),
    "files": (dict, True),
    "sha256": (dict, True),
    "features": (list, False),
    "required_features": (list, False),
    "supported_imts": (list, False),
    "training": (dict, False),
    "metrics": (dict, False),
    "tectonic_region_type": (str, False),
    "anchor": (dict, False),
    "domain": (dict, False),
}
_HEX = re.compile(r"^[0-9a-f]{64}$")


def model_classes() -> dict[str, type]:
    """Class name -> class of every model that can be saved."""
    from gmlearn.gmpe.bnn import BayesianNNGMM  # hook model, see the end of this module
    from gmlearn.gmpe.hybrid import HybridGMM
    from gmlearn.gmpe.monotone import MonotoneGMM
    from gmlearn.gmpe.tree import TreeGMM

    return {c.__name__: c for c in (TreeGMM, MonotoneGMM, HybridGMM, BayesianNNGMM)}


# -- published OpenQuake GMPEs: a folder with metadata only ------------------------------
def _save_reference(model: Any, path: Path, overwrite: bool, key: str | bytes | None = None) -> Path:
    """Save an :class:`~gmlearn.gmpe.reference.OpenQuakeGMPE` (its name and arguments)."""
    meta = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "gmlearn_version": __version__,
        "class": "OpenQuakeGMPE",
        "params": _jsonable(model.get_params(deep=False)),
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
    atomic_write_json(path / "metadata.json", stamp(meta, key))
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
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


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
    key: str | bytes | None = None,
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
    key
        Signing key (HMAC-SHA256, at least 16 bytes); default ``$GMLEARN_MODEL_KEY``.
        Without one the metadata still carries its ``manifest_sha256``
        (:mod:`gmlearn.gmpe.integrity`).

    Returns
    -------
    pathlib.Path
        The folder.
    """
    classes = model_classes()
    name = type(model).__name__
    if name == "OpenQuakeGMPE":
        return _save_reference(model, Path(path), overwrite, key)
    if name not in classes:
        msg = f"Cannot save a {name}; savable models are {sorted(classes)}."
        raise ModelError(msg)
    if not hasattr(model, "imts_" if hasattr(model, "_save_arrays") else "boosters_"):  # hook models: see the end
        msg = f"This {name} is not fitted; fit it before saving."
        raise ModelError(msg)
    path = Path(path)
    _recover(path)
    if path.exists() and not overwrite:
        msg = f"{path} exists; pass overwrite=True to replace it."
        raise FileExistsError(msg)

    def _write(tmp: Path) -> None:
        if hasattr(model, "_save_arrays"):  # hook models (BayesianNNGMM): see the end of this module
            atomic_write_json(tmp / "metadata.json", stamp(_hook_metadata(model, tmp, training_hash, metrics), key))
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
            "params": _jsonable(model.get_params(deep=False)),
            "imts": list(model.imts_),
            "features": list(model.features),
            "required_features": list(model.required_features),
            "ranges": _jsonable(model.ranges_),
            "effects": {imt: {k: _jsonable(model.effects_[imt][k]) for k in (*_EFFECT_KEYS, *_OPTIONAL_EFFECT_KEYS)
                              if k in model.effects_[imt]} for imt in model.imts_},
            "training": {"content_hash": training_hash},
            **_trt(model),
            "metrics": _jsonable(dict(metrics or {})),
            "files": files,
            "sha256": {f: _sha256(tmp / f) for f in [*files.values(), "random_effects.parquet"]},
        }
        atomic_write_json(tmp / "metadata.json", stamp(meta, key))

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


def _bad(meta_file: Path | str, key: str, expected: str, value: Any) -> ModelError:
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return ModelError(f"{meta_file}: metadata key {key!r} must be {expected}; got {shown} ({type(value).__name__}).")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_names(meta_file: Path | str, key: str, value: Any, *, imts: bool = False) -> None:
    from gmlearn.exceptions import InvalidIMTError
    from gmlearn.schema import imt_string

    if not all(isinstance(v, str) for v in value):
        raise _bad(meta_file, key, "a list of strings", value)
    if imts:
        for v in value:
            try:
                imt_string(v)
            except InvalidIMTError as exc:
                raise _bad(meta_file, key, "a list of IMT strings (PGA, PGV, SA(T))", v) from exc


def _check_files(meta_file: Path | str, meta: dict[str, Any]) -> None:
    for key in ("files", "sha256"):
        for role, file in meta[key].items():
            name = file if key == "files" else role
            if not isinstance(name, str) or not name or Path(name).name != name or name in (".", "..") or "\\" in name:
                msg = (f"{meta_file}: metadata key '{key}.{role}' names {name!r}, which is missing from the model folder; "
                       "metadata may list only plain file names inside it (no paths).")
                raise ModelError(msg)
    for file, digest in meta["sha256"].items():
        if not isinstance(digest, str) or not _HEX.match(digest):
            raise _bad(meta_file, f"sha256.{file}", "a SHA-256 hex digest (64 lower-case hex digits)", digest)


def _check_effects(meta_file: Path | str, meta: dict[str, Any]) -> None:
    """Booster models: one booster file and one set of variance components per IMT."""
    for imt in meta["imts"]:
        if not isinstance(meta["files"].get(imt), str):
            raise _bad(meta_file, f"files.{imt}", "the booster file of that IMT", meta["files"].get(imt))
        eff = meta["effects"].get(imt)
        if not isinstance(eff, dict):
            raise _bad(meta_file, f"effects.{imt}", "an object of variance components", eff)
        allowance = eff.get("mag_allowance")
        if allowance is not None and not _is_allowance(allowance):
            raise _bad(meta_file, f"effects.{imt}.mag_allowance", "[magnitudes, allowances]: two equal-length lists of finite numbers", allowance)
        for key in (*_EFFECT_KEYS, *(k for k in ("epistemic",) if k in eff)):
            value = eff.get(key)
            if key == "sigma_from":
                ok = isinstance(value, str)
            elif key == "rounds":
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
            else:
                ok = _is_number(value) and np.isfinite(value) and (key == "bias" or value >= 0)
            if not ok:
                want = {"sigma_from": "a string", "rounds": "a positive integer"}.get(key, "a finite number")
                raise _bad(meta_file, f"effects.{imt}.{key}", want, value)


def _is_allowance(value: Any) -> bool:
    """``[magnitudes, allowances]``: two equal-length lists of finite numbers, magnitudes increasing."""
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, list) for v in value)):
        return False
    if len(value[0]) != len(value[1]) or not 2 <= len(value[0]) <= 1000:
        return False
    if not all(_is_number(v) and np.isfinite(v) for v in [*value[0], *value[1]]):
        return False
    return bool(np.all(np.diff(np.asarray(value[0], dtype=float)) > 0))


def validate_metadata(meta: Any, source: Path | str = "metadata.json") -> dict[str, Any]:
    """Check model metadata against :data:`METADATA_SCHEMA`; return it unchanged.

    Checks the format and version, the type of every known key, that IMTs
    parse, that ranges are ``[lo, hi]`` pairs of finite numbers, that file
    names are plain names inside the folder with SHA-256 digests, and, for
    the boosted models, the variance components of every IMT. Unknown keys
    are allowed (they are ignored).

    Raises
    ------
    ModelError
        Naming the first offending key, what it must be and what it holds.
    """
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        fmt = meta.get("format") if isinstance(meta, dict) else None
        msg = f"{source} is not gmlearn model metadata (format {fmt!r}, expected {MODEL_FORMAT!r})."
        raise ModelError(msg)
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MODEL_FORMAT_VERSION:
        msg = f"{source} has format_version {version!r}; this gmlearn reads versions 1 to {MODEL_FORMAT_VERSION}."
        raise ModelError(msg)
    for key, (kind, required) in METADATA_SCHEMA.items():
        if key not in meta:
            if required:
                msg = f"{source}: required metadata key {key!r} is missing; the file has {sorted(meta)}."
                raise ModelError(msg)
            continue
        value = meta[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            if not (key in ("training", "metrics") and value is None):
                raise _bad(source, key, f"a JSON {'object' if kind is dict else kind.__name__}", value)
    _check_names(source, "imts", meta["imts"], imts=True)
    for key in ("features", "required_features", "supported_imts"):
        if key in meta:
            _check_names(source, key, meta[key])
    if not all(isinstance(k, str) for k in meta["params"]):
        raise _bad(source, "params", "an object with string keys", meta["params"])
    for name, pair in meta["ranges"].items():
        ok = isinstance(pair, list) and len(pair) == 2 and all(_is_number(v) and np.isfinite(v) for v in pair)
        if not ok or pair[0] > pair[1]:
            raise _bad(source, f"ranges.{name}", "a [lo, hi] pair of finite numbers with lo <= hi", pair)
    _check_files(source, meta)
    if meta["class"] in ("TreeGMM", "MonotoneGMM", "HybridGMM"):
        if not isinstance(meta.get("features"), list):
            raise _bad(source, "features", "a list of feature names", meta.get("features"))
        _check_effects(source, meta)
    return meta


def _read_metadata(path: Path) -> dict[str, Any]:
    meta_file = path / "metadata.json"
    if meta_file.is_symlink() or not meta_file.is_file():
        msg = f"{path} is not a gmlearn model folder (no metadata.json, or it is not a regular file)."
        raise ModelError(msg)
    size = meta_file.stat().st_size
    if size > MAX_METADATA_BYTES:
        msg = f"{meta_file} is {size} bytes; model metadata is at most {MAX_METADATA_BYTES} bytes. Refusing to read it."
        raise ModelError(msg)
    try:
        meta = json.loads(meta_file.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        msg = f"Corrupt model metadata {meta_file}: {exc}."
        raise ModelError(msg) from exc
    return validate_metadata(meta, meta_file)


def _check_data_file(path: Path, file: str, digest: str) -> None:
    """Refuse a listed file that is missing, a symlink, not a regular file, too large or altered."""
    full = path / file
    try:
        info = full.lstat()
    except OSError:
        msg = f"{path}: file {file!r} listed in metadata.json is missing."
        raise ModelError(msg) from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        msg = f"{path}: {file!r} is a symlink or not a regular file; a model folder holds regular files only."
        raise ModelError(msg)
    if info.st_size > MAX_FILE_BYTES:
        msg = f"{path}: {file!r} is {info.st_size} bytes, more than the {MAX_FILE_BYTES} allowed for a model file."
        raise ModelError(msg)
    if _sha256(full) != digest:
        msg = f"{path}: {file} does not match its SHA-256 in metadata.json; the model is corrupt or was altered."
        raise ModelError(msg)


def _read_terms(file: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(file)
    except (OSError, ValueError) as exc:
        msg = f"{file} is not a readable random-effects table: {exc}"
        raise ModelError(msg) from None


def _recover(path: Path) -> None:
    """Finish an overwrite that was killed between its two renames (the old folder comes back)."""
    old = path.with_name(f".{path.name}.old")
    if not path.exists() and (old / "metadata.json").is_file():
        os.replace(old, path)


def sign_model(path: str | os.PathLike[str], key: str | bytes | None = None) -> Path:
    """Sign a saved model folder in place (HMAC-SHA256 of its metadata, which lists every file's hash).

    The folder is first checked as :func:`load_model` would (schema, manifest
    hash, file hashes), so an altered model is never signed.

    Parameters
    ----------
    path
        A model folder written by :func:`save_model`.
    key
        Signing key (at least 16 bytes); default ``$GMLEARN_MODEL_KEY``.
    """
    from gmlearn.gmpe.integrity import KEY_ENV, check_digest, model_key

    path = Path(path)
    meta = _read_metadata(path)
    check_digest(meta, path / "metadata.json")
    raw = model_key(key)
    if raw is None:
        msg = f"sign_model needs a key: pass key=... or set ${KEY_ENV}."
        raise ModelError(msg)
    for file, digest in meta["sha256"].items():
        _check_data_file(path, file, digest)
    atomic_write_json(path / "metadata.json", stamp(meta, raw))
    return path


def load_model(path: str | os.PathLike[str], *, key: str | bytes | None = None) -> Any:
    """Load a model saved by :func:`save_model`.

    A folder left without its model by a save killed between its two renames
    (``overwrite=True``) is first restored from ``.<name>.old``.

    Parameters
    ----------
    path
        The model folder.
    key
        Signing key; default ``$GMLEARN_MODEL_KEY``. When a key is set, only
        a model signed with it loads.

    Raises
    ------
    ModelError
        If the folder is not a gmlearn model, its metadata breaks
        :data:`METADATA_SCHEMA`, it names an unknown class, a listed file is
        missing, a symlink, a special or oversized file, or a file's SHA-256
        differs from the metadata (corrupt or altered), the manifest hash or
        signature does not match, a variance component, bias or random-effect
        term is not finite and plausible, or a booster file is malformed
        (checked before XGBoost reads it).
    """
    import xgboost as xgb

    from gmlearn.gmpe.booster_check import check_booster_file

    path = Path(path)
    _recover(path)
    meta = _read_metadata(path)
    classes = model_classes()
    cls = classes.get(meta["class"])
    if cls is None and meta["class"] != "OpenQuakeGMPE":
        msg = f"{path}: unknown model class {meta['class']!r}; known classes are {sorted([*classes, 'OpenQuakeGMPE'])}."
        raise ModelError(msg)
    check_manifest(meta, path / "metadata.json", key)
    check_values(meta, path / "metadata.json")
    if meta["class"] == "OpenQuakeGMPE":
        return _load_reference(meta)
    needed = {*meta["files"].values(), "random_effects.parquet"}
    unlisted = sorted(needed - set(meta["sha256"]))
    if unlisted:
        msg = f"{path}: metadata.json has no SHA-256 for {unlisted}; refusing to load unverified files."
        raise ModelError(msg)
    for file, digest in meta["sha256"].items():
        _check_data_file(path, file, digest)
    params = dict(meta["params"])
    if "anchor" not in meta and "base" not in params and meta["class"] in ("TreeGMM", "MonotoneGMM"):
        params["base"] = None  # saved before physics bases existed: the boosters learned ln IM from the data alone
    try:
        model = cls(**params)
    except TypeError as exc:
        msg = f"{path}: arguments {meta['params']} do not fit {meta['class']}: {exc}"
        raise ModelError(msg) from exc
    if hasattr(model, "_load_arrays"):  # hook models (BayesianNNGMM): see the end of this module
        if isinstance(meta["files"].get("random_effects"), str):
            check_terms(_read_terms(path / meta["files"]["random_effects"]), path / meta["files"]["random_effects"], meta["imts"])
        return _hook_load(model, path, meta)
    terms = _read_terms(path / "random_effects.parquet")
    check_terms(terms, path / "random_effects.parquet", meta["imts"])
    model.boosters_, model.effects_ = {}, {}
    for imt in meta["imts"]:
        check_booster_file(path / meta["files"][imt], max_bytes=MAX_FILE_BYTES)
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
    model.tectonic_region_type_ = meta.get("tectonic_region_type")
    _restore_domain(model, meta, path)
    model.n_features_in_ = len(model.features)
    model.metadata_ = meta
    return model


# -- Models that write their own arrays (BayesianNNGMM, issue 3) ------------------------------
# Such a model provides ``_save_arrays(folder) -> {"files": {role: file}, "effects": {imt: {...}}}``
# (its native weight files, e.g. NetCDF posterior draws, plus JSON-ready scalars per IMT) and
# ``_load_arrays(folder, meta)``, which restores its learned arrays after the hashes were checked.
# The XGBoost path above does not use these hooks.


def _trt(model: Any) -> dict[str, Any]:
    """``tectonic_region_type`` of the training data (OpenQuake's name), when it was one region,
    and the physics anchor and training domain of models that have them."""
    trt = getattr(model, "tectonic_region_type_", None)
    out: dict[str, Any] = {"tectonic_region_type": str(trt)} if trt else {}
    for key in ("anchor", "domain"):
        value = getattr(model, f"{key}_", None)
        if value is not None:
            out[key] = _jsonable(value.to_dict())
    return out


def _restore_domain(model: Any, meta: dict[str, Any], source: Path) -> None:
    """Set ``anchor_`` and ``domain_`` from metadata (models saved before them keep neither)."""
    from gmlearn.gmpe.anchor import PhysicsAnchor
    from gmlearn.gmpe.domain import TrainingDomain

    try:
        if "anchor" in meta:
            model.anchor_ = PhysicsAnchor.from_dict(meta["anchor"])
        if "domain" in meta:
            model.domain_ = TrainingDomain.from_dict(meta["domain"])
    except ValueError as exc:
        raise ModelError(f"{source}: {exc}") from None


def _hook_metadata(model: Any, tmp: Path, training_hash: str | None, metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    """Let ``model`` write its files into ``tmp``; return the metadata that describes them."""
    arrays = model._save_arrays(tmp)
    files = dict(arrays["files"])
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "gmlearn_version": __version__,
        "class": type(model).__name__,
        "params": _jsonable(model.get_params(deep=False)),
        "imts": list(model.imts_),
        "features": list(model.features),
        "required_features": list(model.required_features),
        "ranges": _jsonable(model.ranges_),
        "effects": _jsonable(arrays["effects"]),
        "training": {"content_hash": training_hash},
        **_trt(model),
        "metrics": _jsonable(dict(metrics or {})),
        "files": files,
        "sha256": {f: _sha256(tmp / f) for f in files.values()},
    }


def _hook_load(model: Any, path: Path, meta: dict[str, Any]) -> Any:
    """Restore a hook model's arrays and the fields every model shares."""
    model._load_arrays(path, meta)
    model.imts_ = list(meta["imts"])
    model.ranges_ = {k: [float(v[0]), float(v[1])] for k, v in meta["ranges"].items()}
    model.tectonic_region_type_ = meta.get("tectonic_region_type")
    _restore_domain(model, meta, path)
    model.n_features_in_ = len(model.features)
    model.metadata_ = meta
    return model
