"""Training and evaluation sets: processed real records with an event-grouped split, and simulations.

Used by ``data_recipes/train_waveforms.py`` and ``benchmarks/waveforms.py`` so both see
the same records, the same held-out events and the same simulated conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gmlearn.waveform.representation import N_BANDS, encode

__all__ = ["RealSet", "real_records", "event_split", "simulation_set", "impute_vertical", "HELD_OUT_FRACTION"]

#: Fraction of events (not records) held out from training.
HELD_OUT_FRACTION = 0.25


@dataclass
class RealSet:
    """Processed real records (arrays share the first axis)."""

    acc: np.ndarray  # (n, 3, 2000) g
    present: np.ndarray  # (n, 3) bool
    mag: np.ndarray
    rrup: np.ndarray
    vs30: np.ndarray
    event_id: np.ndarray
    record_id: np.ndarray
    source: np.ndarray
    rjb: np.ndarray

    def subset(self, mask: np.ndarray) -> "RealSet":
        """Rows where ``mask`` is True."""
        return RealSet(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def real_records(shared: str | Path) -> RealSet:
    """Read, join and process both real record sets under ``shared`` (the shared data folder)."""
    from gmlearn.waveform.processing import prepare
    from gmlearn.waveform.records import read_all

    records = read_all(shared)
    acc, present = prepare(records)
    meta = [r.meta for r in records]
    return RealSet(acc, present, np.array([m["mag"] for m in meta]), np.array([m["rrup"] for m in meta]),
                   np.array([m["vs30"] for m in meta]), np.array([r.event_id for r in records]),
                   np.array([r.record_id for r in records]), np.array([m["source"] for m in meta]),
                   np.array([m.get("rjb", m["rrup"]) for m in meta]))


def event_split(event_id: np.ndarray, fraction: float = HELD_OUT_FRACTION, seed: int = 0) -> np.ndarray:
    """Boolean mask of held-out records: whole events drawn at random (seeded) until ``fraction`` of events."""
    events = np.unique(event_id)
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(events)[: max(1, int(round(fraction * len(events))))]
    return np.isin(event_id, chosen)


def simulation_set(n: int, seed: int = 0, chunk: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """``n`` stochastic simulations at random conditions: envelopes (n, 36, 80) and conditions (n, 3) raw.

    Conditions: mag uniform 4.5-8, rrup log-uniform 1-300 km, vs30 log-uniform 150-1500 m/s.
    """
    from gmlearn.waveform.stochastic import simulate

    rng = np.random.default_rng(seed)
    mag = rng.uniform(4.5, 8.0, n)
    rrup = np.exp(rng.uniform(np.log(1.0), np.log(300.0), n))
    vs30 = np.exp(rng.uniform(np.log(150.0), np.log(1500.0), n))
    env = np.concatenate([encode(simulate(mag[i:i + chunk], rrup[i:i + chunk], vs30[i:i + chunk],
                                          random_state=seed * 7919 + i)) for i in range(0, n, chunk)])
    return env, np.stack([mag, rrup, vs30], axis=1)


def impute_vertical(env: np.ndarray, present: np.ndarray, offset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fill the vertical envelope of records without one: mean horizontal log envelope + a per-band offset.

    The offset (N_BANDS,) is the median V - H difference over records that have all
    three components (returned, so the same offset can be reused).
    """
    e = env.reshape(len(env), 3, N_BANDS, -1).copy()
    horiz = 0.5 * (e[:, 0] + e[:, 1])
    full = present.all(axis=1)
    if offset is None:
        offset = np.median((e[full, 2] - horiz[full]).mean(axis=-1), axis=0)
    missing = ~present[:, 2]
    e[missing, 2] = horiz[missing] + offset[None, :, None]
    return e.reshape(env.shape), offset
