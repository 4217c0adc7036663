"""Integrity of model folders: manifest hash, optional signature, plausible values.

``metadata.json`` lists the SHA-256 of every data file; this module protects
``metadata.json`` itself and what it says:

* ``manifest_sha256``: SHA-256 of the canonical JSON of the metadata (every
  key except ``manifest_sha256`` and ``signature``, so the file hashes are
  covered too). Any hand edit (reversed ``features``, another ``class``,
  swapped file names) that does not recompute it is refused.
* ``signature`` (optional): an HMAC-SHA256 of the same bytes with a key the
  user controls, given as an argument or in the ``GMLEARN_MODEL_KEY``
  environment variable. With a key set, :func:`check_manifest` refuses an
  unsigned model or one signed with another key: a model archive that
  travels cannot be altered (or swapped) without the key.
* :func:`check_values`: the variance components and random-effect terms must
  be finite and physically plausible (``0 <= tau < 3``, ``0 < phi < 3`` in ln
  units, ``|bias| < 10``, ``|term| < 10``), so a model holding ``tau = 1e308``
  is refused instead of producing infinite ground motions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from gmlearn.exceptions import ModelError

__all__ = ["manifest_digest", "check_digest", "signature", "model_key", "stamp", "check_manifest", "check_values", "check_terms",
           "KEY_ENV", "MAX_SIGMA", "MAX_BIAS", "MAX_TERM", "MIN_KEY_BYTES"]

#: Environment variable holding the model signing key (text, at least :data:`MIN_KEY_BYTES` bytes).
KEY_ENV = "GMLEARN_MODEL_KEY"
#: Shortest signing key accepted (bytes).
MIN_KEY_BYTES = 16
#: Largest plausible standard deviation of ln ground motion (tau, phi and their parts).
MAX_SIGMA = 3.0
#: Largest plausible |bias| (ln units) of a model's fixed effects.
MAX_BIAS = 10.0
#: Largest plausible |event or station term| (ln units).
MAX_TERM = 10.0
_SIGMA_KEYS = ("tau", "phi", "phi_ss", "phi_s2s", "tau_train", "phi_train", "phi_ss_train", "sigma")
_POSITIVE = ("phi",)
_UNSIGNED = ("manifest_sha256", "signature")


def _canonical(meta: dict[str, Any]) -> bytes:
    body = {k: v for k, v in meta.items() if k not in _UNSIGNED}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def manifest_digest(meta: dict[str, Any]) -> str:
    """SHA-256 of the metadata without ``manifest_sha256`` and ``signature``."""
    return hashlib.sha256(_canonical(meta)).hexdigest()


def model_key(key: str | bytes | None = None) -> bytes | None:
    """The signing key: ``key`` if given, else ``$GMLEARN_MODEL_KEY``, else ``None``.

    Raises
    ------
    ModelError
        If the key is shorter than :data:`MIN_KEY_BYTES` bytes.
    """
    if key is None:
        key = os.environ.get(KEY_ENV) or None
        source = f"${KEY_ENV}"
    else:
        source = "the 'key' argument"
    if key is None:
        return None
    raw = key.encode() if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_KEY_BYTES:
        msg = f"The model signing key ({source}) must be at least {MIN_KEY_BYTES} bytes; got {len(raw)}."
        raise ModelError(msg)
    return raw


def signature(meta: dict[str, Any], key: bytes) -> dict[str, str]:
    """``{"algorithm": "hmac-sha256", "value": hex}`` of the canonical metadata."""
    return {"algorithm": "hmac-sha256", "value": hmac.new(key, _canonical(meta), hashlib.sha256).hexdigest()}


def stamp(meta: dict[str, Any], key: str | bytes | None = None) -> dict[str, Any]:
    """``meta`` with ``manifest_sha256`` and, when a key is set, ``signature`` added."""
    out = json.loads(json.dumps({k: v for k, v in meta.items() if k not in _UNSIGNED}, default=str))  # as it will read back
    out["manifest_sha256"] = manifest_digest(out)
    raw = model_key(key)
    if raw is not None:
        out["signature"] = signature(out, raw)
    return out


def check_digest(meta: dict[str, Any], source: Path | str) -> None:
    """Refuse metadata whose ``manifest_sha256`` (when present) differs from its digest."""
    stored = meta.get("manifest_sha256")
    if stored is not None and stored != manifest_digest(meta):
        msg = (f"{source}: manifest_sha256 does not match the metadata; metadata.json was edited after saving "
               "(features, class, files or variance components changed). Save the model again instead of editing it.")
        raise ModelError(msg)


def check_manifest(meta: dict[str, Any], source: Path | str, key: str | bytes | None = None) -> None:
    """Refuse metadata whose manifest hash or signature does not match.

    Metadata written before manifest hashes existed (no ``manifest_sha256``)
    passes unless a key is set, which requires a valid signature.

    Raises
    ------
    ModelError
        If ``manifest_sha256`` differs from the metadata's digest, a key is
        set and the signature is missing or wrong, or the signature names
        another algorithm.
    """
    check_digest(meta, source)
    raw = model_key(key)
    sig = meta.get("signature")
    if raw is None:
        return
    if not isinstance(sig, dict) or sig.get("algorithm") != "hmac-sha256" or not isinstance(sig.get("value"), str):
        msg = (f"{source}: the model is not signed (or not with hmac-sha256) and a signing key is set; "
               "sign it with gmlearn.gmpe.persistence.sign_model(folder, key) or unset the key.")
        raise ModelError(msg)
    if not hmac.compare_digest(sig["value"], signature(meta, raw)["value"]):
        msg = f"{source}: the model's signature does not match the signing key; it was altered or signed with another key."
        raise ModelError(msg)


def _bad_value(source: Path | str, key: str, value: Any, allowed: str) -> ModelError:
    return ModelError(f"{source}: metadata key {key!r} holds {value!r}; it must be {allowed}. The model file is corrupt "
                      "or was edited.")


def check_values(meta: dict[str, Any], source: Path | str) -> None:
    """Refuse variance components and biases that are not finite and plausible.

    Raises
    ------
    ModelError
        Naming the key, its value and the allowed range.
    """
    effects = meta.get("effects") or {}
    for imt, eff in effects.items():
        if not isinstance(eff, dict):
            continue
        for key, value in eff.items():
            if key in _SIGMA_KEYS and value is not None:
                lo_ok = (value > 0) if key in _POSITIVE else (value >= 0)
                if not isinstance(value, (int, float)) or not np.isfinite(value) or not lo_ok or value >= MAX_SIGMA:
                    allowed = f"{'>' if key in _POSITIVE else '>='} 0 and < {MAX_SIGMA} (ln units)"
                    raise _bad_value(source, f"effects.{imt}.{key}", value, allowed)
            elif key == "bias" and value is not None and (
                    not isinstance(value, (int, float)) or not np.isfinite(value) or abs(value) >= MAX_BIAS):
                raise _bad_value(source, f"effects.{imt}.bias", value, f"finite with |bias| < {MAX_BIAS} (ln units)")


def check_terms(terms: Any, source: Path | str, imts: list[str]) -> None:
    """Refuse a random-effects table with unknown columns, IMTs or implausible terms.

    ``terms`` is the ``random_effects.parquet`` table (``imt``, ``kind``,
    ``id``, ``term``).

    Raises
    ------
    ModelError
        Naming the file, the first offending row and what is allowed.
    """
    need = ["imt", "kind", "id", "term"]
    missing = [c for c in need if c not in terms.columns]
    if missing:
        msg = f"{source}: random-effects table lacks column(s) {missing}; it has {list(terms.columns)}."
        raise ModelError(msg)
    if terms.columns.duplicated().any():
        msg = f"{source}: random-effects table has duplicate columns {list(terms.columns)}."
        raise ModelError(msg)
    try:
        values = terms["term"].to_numpy(dtype=float)
    except (TypeError, ValueError):
        msg = f"{source}: random-effects column 'term' is not numeric."
        raise ModelError(msg) from None
    bad = ~np.isfinite(values) | (np.abs(values) >= MAX_TERM)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        msg = (f"{source}: random-effect term of {terms['kind'].iloc[pos]} {terms['id'].iloc[pos]!r} "
               f"({terms['imt'].iloc[pos]}) is {values[pos]!r}; terms must be finite with |term| < {MAX_TERM} ln units "
               f"({int(bad.sum())} such row(s)).")
        raise ModelError(msg)
    kinds = set(terms["kind"].astype(str))
    if not kinds <= {"event", "station"}:
        msg = f"{source}: random-effect kinds must be 'event' or 'station'; got {sorted(kinds)}."
        raise ModelError(msg)
    unknown = set(terms["imt"].astype(str)) - set(imts)
    if unknown:
        msg = f"{source}: random effects name IMT(s) {sorted(unknown)} that the model does not have ({imts})."
        raise ModelError(msg)
