"""Saving and loading waveform generators: safetensors weights + a JSON sidecar, never pickle.

A saved generator is two files, ``<name>.safetensors`` and ``<name>.json`` (or a
folder holding ``model.safetensors`` and ``model.json``, :func:`save_folder`). The
weights are serialised by :func:`safetensors_bytes` with tensors and header keys in
sorted order and fixed metadata, so the same tensors always give the same bytes. The
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

__all__ = ["FORMAT", "FORMAT_VERSION", "MODELS", "save", "save_folder", "load", "shipped", "safetensors_bytes"]

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


_DTYPES = {"float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16", "int64": "I64", "int32": "I32",
           "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def safetensors_bytes(tensors: dict, metadata: dict[str, str]) -> bytes:
    """The safetensors serialisation of ``tensors`` (name -> torch tensor), byte for byte reproducible.

    Layout of the safetensors format: 8-byte little-endian header length, a JSON header
    (``__metadata__`` and, per tensor, ``dtype``, ``shape``, ``data_offsets``) padded with
    spaces to a multiple of 8, then the little-endian tensor data. Keys are sorted and
    the data laid out in name order, so equal tensors give equal bytes.
    """
    header: dict[str, Any] = {"__metadata__": {str(k): str(v) for k, v in sorted(metadata.items())}}
    chunks, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        dtype = str(t.dtype).replace("torch.", "")
        if dtype not in _DTYPES:
            raise WaveformModelError(f"Tensor {name!r} has dtype {dtype}; safetensors_bytes writes {sorted(_DTYPES)}.")
        data = t.view(-1).view(torch_uint8()).numpy().tobytes() if t.numel() else b""
        header[name] = {"data_offsets": [offset, offset + len(data)], "dtype": _DTYPES[dtype], "shape": list(t.shape)}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + b"".join(chunks)


def torch_uint8():  # noqa: ANN201 - torch dtype
    """``torch.uint8`` (imported on demand)."""
    import torch

    return torch.uint8


def save_folder(model: Any, folder: str | Path) -> Path:
    """Write a model folder (``model.safetensors`` + ``model.json``) that :func:`load` reads; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save(model, folder / "model")
    return folder


def save(model: Any, path: str | Path) -> Path:
    """Write ``path.safetensors`` and ``path.json`` (``path`` without suffix) atomically; returns the JSON path."""
    from gmlearn import __version__
    from gmlearn.store.atomic import atomic_write_bytes, atomic_write_json

    path = Path(path)
    blob = safetensors_bytes(model.state_dict(), {"format": FORMAT, "kind": model.kind})
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
    elif isinstance(name, (str, Path)) and Path(name).is_dir() and (Path(name) / "model.json").exists():
        path = Path(name) / "model"
    elif isinstance(name, (str, Path)) and (Path(name).with_suffix(".json").exists()):
        path = Path(name)
    else:
        raise WaveformModelError(f"Unknown waveform model {str(name)!r}; use one of {list(MODELS)} or the path of a "
                                 "saved model (<path>.json + <path>.safetensors, or a folder with model.json + model.safetensors).")
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
