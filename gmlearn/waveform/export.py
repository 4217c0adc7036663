"""Writing generated records: NPZ, CSV and PEER AT2-style text (all atomic)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

__all__ = ["FORMATS", "write_records"]

FORMATS = ("npz", "csv", "at2")


def _at2(acc: np.ndarray, dt: float, title: str) -> str:
    lines = ["GMLEARN GENERATED STRONG MOTION RECORD (not a recording)", title,
             "ACCELERATION TIME SERIES IN UNITS OF G", f"NPTS= {acc.size:7d}, DT= {dt:.4f} SEC"]
    vals = [f"{v:15.7E}" for v in acc]
    lines += ["".join(vals[i:i + 5]) for i in range(0, len(vals), 5)]
    return "\n".join(lines) + "\n"


def write_records(acc: np.ndarray, dt: float, out: str | Path, *, name: str = "record", formats: tuple = FORMATS,
                  conditions: dict | None = None, lengths: np.ndarray | None = None) -> list[Path]:
    """Write records ``acc`` (n, 3, n_t) in g to ``out``; returns the files written.

    ``lengths`` (s, one per record) trims the zero padding of records of different
    lengths in the CSV and AT2 files (the NPZ keeps the padded array and ``length_s``).

    ``npz``: one ``<name>.npz`` with ``acc``, ``dt``, ``components`` and the conditions;
    ``csv``: ``<name>_<i>.csv`` with columns ``time_s, H1_g, H2_g, V_g``;
    ``at2``: ``<name>_<i>_<comp>.AT2`` in the PEER layout (5 values per line, g).
    """
    from gmlearn.store.atomic import atomic_write_bytes, atomic_write_with

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"The 'formats' parameter must hold values from {list(FORMATS)}. Got {bad} instead.")
    cond = dict(conditions or {})
    n_keep = np.full(len(acc), acc.shape[-1]) if lengths is None else np.minimum(
        np.round(np.asarray(lengths, dtype=float) / dt).astype(int), acc.shape[-1])
    if lengths is not None:
        cond["length_s"] = np.asarray(lengths, dtype=float)
    files = []
    if "npz" in formats:
        def _npz(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, acc=acc.astype(np.float32), dt=dt, components=np.array(["H1", "H2", "V"]),
                                    **{k: np.asarray(v) for k, v in cond.items()})

        files.append(atomic_write_with(out / f"{name}.npz", _npz))
    for i, full in enumerate(acc):
        rec = full[:, : n_keep[i]]
        t = np.arange(rec.shape[-1]) * dt
        if "csv" in formats:
            buf = io.StringIO()
            np.savetxt(buf, np.column_stack([t, rec.T]), delimiter=",", fmt="%.6g", header="time_s,H1_g,H2_g,V_g",
                       comments="")
            files.append(atomic_write_bytes(out / f"{name}_{i:03d}.csv", buf.getvalue().encode()))
        if "at2" in formats:
            label = ", ".join(f"{k}={np.ravel(v)[i if np.size(v) > 1 else 0]:g}" for k, v in cond.items())
            for j, comp in enumerate(("H1", "H2", "V")):
                text = _at2(rec[j], dt, f"{name} {i}, {label}, {comp}")
                files.append(atomic_write_bytes(out / f"{name}_{i:03d}_{comp}.AT2", text.encode()))
    return files
