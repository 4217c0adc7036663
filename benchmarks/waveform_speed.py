"""Throughput of the default waveform generator (cGAN) with the realism layer, optionally against a baseline.

Run from the repository root::

    python benchmarks/waveform_speed.py [--threads 2] [--rounds 5] [--repeats 3] [--baseline DIR --baseline-label TEXT]

The protocol is that of ``throughput()`` in ``benchmarks/waveforms.py``: 300 records
at random conditions (M 5-7.5, rrup exp(U(0, 5)) km, vs30 exp(U(5.3, 7)) m/s, seed 1),
generated 100 at a time with ``realism=True`` and no target, after a 20-record warm-up,
with ``torch.set_num_threads(--threads)``. Every round starts one fresh process per code
version: this tree and, with ``--baseline DIR``, the ``gmlearn`` package of another
checkout (for example ``git worktree add /tmp/base <commit>``). Alternating the versions
round by round puts them under the same machine load, which matters on a shared
machine; the summary gives the medians over all timed passes.

Writes benchmarks/results/waveform_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "waveform_speed.json"
N_RECORDS, BATCH = 300, 100


def passes(threads: int, repeats: int) -> list[float]:
    """Records per second of ``repeats`` timed passes in this process."""
    import warnings

    import torch

    import gmlearn.waveform as gw

    model = gw.load("cgan")
    torch.set_num_threads(threads)
    rng = np.random.default_rng(1)
    mag = rng.uniform(5, 7.5, N_RECORDS)
    rrup = np.exp(rng.uniform(0, 5, N_RECORDS))
    vs30 = np.exp(rng.uniform(5.3, 7, N_RECORDS))
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.generate(mag[:20], rrup[:20], vs30[:20], random_state=0)
        for _ in range(repeats):
            t0 = time.perf_counter()
            for i in range(0, N_RECORDS, BATCH):
                model.generate(mag[i:i + BATCH], rrup[i:i + BATCH], vs30[i:i + BATCH], random_state=i)
            out.append(N_RECORDS / (time.perf_counter() - t0))
    return out


def _child(source: Path, threads: int, repeats: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(source))
    cmd = [sys.executable, __file__, "--child", "--threads", str(threads), "--repeats", str(repeats)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd=source)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", type=Path, default=None, help="checkout whose gmlearn is the baseline")
    ap.add_argument("--baseline-label", default="", help="what the baseline is (for example its commit)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(passes(args.threads, args.repeats)))
        return
    versions = {"current": ROOT}
    if args.baseline is not None:
        if not (args.baseline / "gmlearn" / "__init__.py").is_file():
            raise SystemExit(f"The '--baseline' option must be a checkout holding gmlearn/. Got {args.baseline} instead.")
        versions["baseline"] = args.baseline.resolve()
    rows = []
    for r in range(args.rounds):
        for name, source in versions.items():
            rate = _child(source, args.threads, args.repeats)
            rows.append({"round": r, "version": name, "records_per_second": [round(x, 1) for x in rate]})
            print(f"round {r}  {name:8s}  " + "  ".join(f"{x:6.1f}" for x in rate) + "  rec/s", flush=True)
    summary = {}
    for name in versions:
        rates = [x for row in rows if row["version"] == name for x in row["records_per_second"]]
        summary[f"{name}_median_records_per_second"] = float(np.median(rates))
        summary[f"{name}_min_records_per_second"] = float(np.min(rates))
    if "baseline" in versions:
        summary["baseline"] = args.baseline_label or str(versions["baseline"])
        summary["speedup_of_medians"] = round(summary["current_median_records_per_second"]
                                              / summary["baseline_median_records_per_second"], 2)
    print(json.dumps(summary, indent=1))
    from gmlearn.store.atomic import atomic_write_json

    result = {"benchmark": "waveform_speed", "command": "python " + shlex.join(["benchmarks/waveform_speed.py", *sys.argv[1:]]),
              "data": f"{N_RECORDS} cGAN records with the realism layer at random conditions, {BATCH} per call, "
                      f"{args.threads} torch threads", "machine": _machine(), "rows": rows, "summary": summary}
    atomic_write_json(OUT, result)


if __name__ == "__main__":
    main()
