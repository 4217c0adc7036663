"""Saving and loading waveform generators: safetensors weights + a JSON sidecar, never pickle.

A saved generator is two files, ``<name>.safetensors`` and ``<name>.json``. The
sidecar holds ``format_version``, ``gmlearn_version``, the model kind and
architecture arguments, the conditioning and envelope normalisations, the
training ranges and data summary, and the SHA-256 of the weights file, which
:func:`load` checks before reading the tensors with :func:`safetensors.torch.load_file`.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from gmlearn.waveform.errors import WaveformModelError

__all__ = ["FORMAT", "FORMAT_VERSION", "MODELS", "save", "load", "shipped"]

FORMAT = "gmlearn.waveform"
FORMAT_VERSION = 1
#: Names accepted by :func:`load`.
MODELS: tuple[str, ...] = ("cgan", "diffusion", "stochastic")


def _classes() -> dict[str, type]:
    from gmlearn.waveform.generators import CGAN, Diffusion

    return {"cgan": CGAN, "diffusion": Diffusion}


def shipped() -> Path:
    """Folder of the weights shipped with the package."""
    return Path(str(resources.files("gmlearn.waveform").joinpath("weights")))


def save(model: Any, path: str | Path) -> Path:
    """Write ``path.safetensors`` and ``path.json`` (``path`` without suffix) atomically; returns the JSON path."""
    from safetensors.torch import save as save_bytes

    from gmlearn import __version__
    from gmlearn.store.atomic import atomic_write_bytes, atomic_write_json

    path = Path(path)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    blob = save_bytes(tensors, metadata={"format": FORMAT, "kind": model.kind})
    weights = path.with_suffix(".safetensors")
    atomic_write_bytes(weights, blob)
    sidecar = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "gmlearn_version": __version__,
        "kind": model.kind,
        "architecture": model.config,
        "n_parameters": model.n_parameters(),
        "condition_normalisation": model.cond_norm,
        "envelope_mean": [float(x) for x in model.mean],
        "envelope_std": [float(x) for x in model.std],
        "ranges": {k: list(v) for k, v in model.ranges.items()},
        "training": model.meta,
        "weights_file": weights.name,
        "weights_sha256": hashlib.sha256(blob).hexdigest(),
    }
    return atomic_write_json(path.with_suffix(".json"), sidecar)


def load(name: str | Path = "cgan") -> Any:
    """Load a generator: ``"cgan"``, ``"diffusion"`` (shipped weights), ``"stochastic"``, or a saved path.

    Raises
    ------
    WaveformModelError
        For an unknown name, a missing file, a format mismatch or a weights file whose
        SHA-256 differs from the sidecar.
    """
    from gmlearn.waveform.generators import StochasticGenerator

    if str(name) == "stochastic":
        return StochasticGenerator()
    if isinstance(name, str) and name in MODELS:
        path = shipped() / name
    elif isinstance(name, (str, Path)) and (Path(name).with_suffix(".json").exists()):
        path = Path(name)
    else:
        raise WaveformModelError(f"Unknown waveform model {str(name)!r}; use one of {list(MODELS)} or the path of a "
                                 "saved model (<path>.json + <path>.safetensors).")
    meta_file, weights = path.with_suffix(".json"), path.with_suffix(".safetensors")
    if not meta_file.exists() or not weights.exists():
        raise WaveformModelError(f"Model files {meta_file} and {weights} must both exist; run "
                                 "data_recipes/train_waveforms.py to create the shipped weights.")
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != FORMAT or meta.get("format_version", 0) > FORMAT_VERSION:
        raise WaveformModelError(f"{meta_file} is not a gmlearn waveform model of format version <= "
                                 f"{FORMAT_VERSION} (format {meta.get('format')!r}, "
                                 f"version {meta.get('format_version')!r}).")
    blob = weights.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != meta["weights_sha256"]:
        raise WaveformModelError(f"{weights} has SHA-256 {digest} but {meta_file.name} records "
                                 f"{meta['weights_sha256']}; the weights are damaged or were replaced.")
    classes = _classes()
    if meta["kind"] not in classes:
        raise WaveformModelError(f"{meta_file} holds an unknown model kind {meta['kind']!r}; known: {sorted(classes)}.")
    from safetensors.torch import load as load_bytes

    model = classes[meta["kind"]](**meta["architecture"])
    model.load_state_dict(load_bytes(blob))
    model.net.eval()
    model.cond_norm = {k: tuple(v) for k, v in meta["condition_normalisation"].items()}
    model.mean = np.asarray(meta["envelope_mean"], dtype=np.float32)
    model.std = np.asarray(meta["envelope_std"], dtype=np.float32)
    model.ranges = {k: tuple(v) for k, v in meta["ranges"].items()}
    model.meta = meta.get("training", {})
    return model
