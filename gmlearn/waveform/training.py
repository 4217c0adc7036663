"""Retraining a waveform generator on any record collection: simulations first, then the records.

:func:`train` is what ``gmlearn waveforms train`` and ``data_recipes/train_waveforms.py``
call. Records are sorted by id, processed (:func:`gmlearn.waveform.processing.prepare`)
and encoded; whole events are held out (:func:`gmlearn.waveform.dataset.event_split`);
the generator is pretrained on stochastic simulations and fine-tuned on the training
records mixed with simulations. Everything is seeded (network construction included)
and runs with deterministic algorithms, so the same records and seed give
byte-identical weight files.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable

import numpy as np

from gmlearn.waveform.errors import WaveformModelError

__all__ = ["KINDS", "ARCHITECTURES", "train"]

#: Generator kinds :func:`train` builds.
KINDS = ("cgan", "diffusion")
#: Default architecture arguments per kind (those of the shipped weights).
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "cgan": {"latent": 32, "channels": 32, "critic_channels": 32},
    "diffusion": {"channels": 48, "timesteps": 200, "sample_steps": 10},
}
_LR = {"cgan": 2e-4, "diffusion": 1e-3}


def _encode(records: list) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    from gmlearn.waveform.dataset import impute_vertical
    from gmlearn.waveform.processing import prepare
    from gmlearn.waveform.representation import N_BANDS, encode

    acc, present = prepare(records)
    env = encode(acc)
    offset = None if present.all(axis=1).any() else np.full(N_BANDS, np.log(0.65))
    env, offset = impute_vertical(env, present, offset)
    meta = {key: np.array([float(r.meta[key]) for r in records]) for key in ("mag", "rrup", "vs30")}
    meta["event_id"] = np.array([str(r.event_id) for r in records])
    meta["record_id"] = np.array([str(r.record_id) for r in records])
    meta["offset"] = np.asarray(offset, dtype=float)
    return env, meta


def train(records: list, *, kind: str = "cgan", seed: int = 0, n_sim: int = 1000, pretrain_steps: int = 300,
          steps: int = 300, held_out_fraction: float = 0.25, architecture: dict | None = None,
          progress: Callable[[str, int, float], None] | None = None) -> Any:
    """Train a generator of ``kind`` on ``records`` (:class:`gmlearn.waveform.records.Record`); returns the model.

    Parameters
    ----------
    records
        Records with ``meta`` holding ``mag``, ``rrup`` (km) and ``vs30`` (m/s).
    kind
        ``"cgan"`` or ``"diffusion"``.
    seed
        Seed of the networks, the split, the simulations and the batches.
    n_sim, pretrain_steps
        Stochastic simulations (mag 4.5-8, rrup 1-300 km, vs30 150-1500 m/s) and the
        pretraining steps on them; ``n_sim=0`` trains on the records alone.
    steps
        Fine-tuning steps on the training records (mixed half and half with simulations).
    held_out_fraction
        Fraction of events held out (0: none).
    architecture
        Overrides of :data:`ARCHITECTURES`.
    progress
        Called as ``progress(phase, step, loss)``.
    """
    from gmlearn.waveform.dataset import event_split, simulation_set
    from gmlearn.waveform.generators import CGAN, Diffusion, device, normalise_conditions

    if kind not in KINDS:
        raise WaveformModelError(f"The 'kind' parameter must be one of {list(KINDS)}. Got {kind!r} instead.")
    if not records:
        raise WaveformModelError("The 'records' parameter must hold at least one record. Got none.")
    records = sorted(records, key=lambda r: str(r.record_id))
    env, meta = _encode(records)
    held = (event_split(meta["event_id"], held_out_fraction, seed) if held_out_fraction > 0
            and len(np.unique(meta["event_id"])) > 1 else np.zeros(len(records), dtype=bool))
    train_rows = ~held
    real_env = env[train_rows]
    real_cond = normalise_conditions(meta["mag"][train_rows], meta["rrup"][train_rows], meta["vs30"][train_rows])
    arch = {**ARCHITECTURES[kind], **(architecture or {}), "seed": int(seed)}
    model = CGAN(**arch) if kind == "cgan" else Diffusion(**arch)
    sim = simulation_set(n_sim, seed=seed, chunk=min(500, max(n_sim, 1))) if n_sim > 0 else None
    model.set_normalisation(sim[0] if sim is not None else real_env)
    extra = {"n_critic": 3} if kind == "cgan" else {}
    lr = _LR[kind]

    def report(phase: str) -> Callable[[int, float], None]:
        return lambda step, loss: progress(phase, step, loss) if progress is not None else None

    if sim is not None and pretrain_steps > 0:
        sim_cond = normalise_conditions(*sim[1].T)
        model.fit(sim[0], sim_cond, steps=pretrain_steps, lr=lr, seed=seed, progress=report("pretrain"), **extra)
    mix = (sim[0], normalise_conditions(*sim[1].T)) if sim is not None else None
    if steps > 0:
        model.fit(real_env, real_cond, steps=steps, lr=lr * 0.5, seed=seed + 1, extra=mix, mix=0.5,
                  progress=report("finetune"), **extra)
    ranges = {k: (float(min(meta[k].min(), lo)), float(max(meta[k].max(), hi)))
              for k, (lo, hi) in (("mag", (4.5, 8.0)), ("rrup", (0.0, 300.0)), ("vs30", (150.0, 1500.0)))}
    model.ranges = ranges if sim is not None else {k: (float(meta[k].min()), float(meta[k].max()))
                                                   for k in ("mag", "rrup", "vs30")}
    model.meta = {
        "seed": int(seed), "device": device(), "pretrain_steps": int(pretrain_steps if sim is not None else 0),
        "finetune_steps": int(steps), "simulations": int(n_sim),
        "train_records": sorted(meta["record_id"][train_rows].tolist()),
        "held_out_records": sorted(meta["record_id"][held].tolist()),
        "held_out_events": sorted(np.unique(meta["event_id"][held]).tolist()),
        "data_sha256": hashlib.sha256(np.ascontiguousarray(env, dtype=np.float32).tobytes()).hexdigest(),
        "vertical_offset_by_band": [float(x) for x in meta["offset"]],
        "final_loss": float(np.mean(model.history[-50:])) if model.history else None,
    }
    return model
