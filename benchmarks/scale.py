"""Scale benchmark: streaming prediction of 10 M rows x 5 IMTs in bounded memory, and the fuzzing counts.

Run from the repository root::

    python benchmarks/scale.py [--rows 10000000] [--chunk-rows 250000] [--fuzz]

A ``TreeGMM`` (default parameters, seed 0) is trained on the bundled NZSMD
crustal records (``gmlearn.datasets`` ``nzsmd``, 2319 records) for PGA, PGV,
SA(0.2), SA(1.0), SA(3.0) and saved. ``--rows`` feature rows are resampled
from those records with jittered magnitude and distances (as in
``benchmarks/speed.py``) and written chunk by chunk to one Parquet file in row
groups of 250 000 rows. Each run streams that file through
:func:`gmlearn.distributed.predict_parquet` (ln mean, tau, phi, sigma for the
five IMTs) into a folder of Parquet parts, in a fresh child process:

- ``local``: in the child process itself;
- ``dask``: on a ``LocalCluster`` of 2 worker processes with 1 thread each,
  started by the child (the time excludes the cluster start-up).

Peak memory is the largest resident set size summed over the child and all
its descendants (the scheduler, nannies and workers), sampled every 50 ms with
psutil. ``--fuzz`` also runs ``tests/scale/test_fuzz.py`` with the hypothesis
profile ``fuzz`` (``--fuzz-examples`` cases per target) and records how many
cases each target ran. Writes ``benchmarks/results/scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

IMTS = ["PGA", "PGV", "SA(0.2)", "SA(1.0)", "SA(3.0)"]
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
ROW_GROUP = 250_000


def _synthesise(table: pd.DataFrame, features: list[str], n: int, path: Path, seed: int) -> None:
    """``n`` jittered feature rows, written in row groups without holding them all in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    base = table[features].reset_index(drop=True)
    writer = None
    for start in range(0, n, ROW_GROUP):
        m = min(ROW_GROUP, n - start)
        chunk = base.iloc[rng.integers(0, len(base), m)].reset_index(drop=True)
        chunk["mag"] = np.clip(chunk["mag"] + rng.normal(0, 0.2, m), 3.5, 7.8)
        scale = np.exp(rng.normal(0, 0.2, m))
        chunk["rjb"] = chunk["rjb"] * scale
        chunk["rrup"] = np.maximum(chunk["rrup"] * scale, chunk["rjb"])
        arrow = pa.Table.from_pandas(chunk, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, arrow.schema)
        writer.write_table(arrow, row_group_size=ROW_GROUP)
    if writer is not None:
        writer.close()


def _child(mode: str, model: str, source: str, out: str, chunk_rows: int) -> None:
    """Run one prediction and print its timings as JSON (runs in the measured child process)."""
    import warnings

    from gmlearn.distributed import get_client, predict_parquet

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    if mode == "local":
        result = predict_parquet(model, source, out, chunk_rows=chunk_rows, keep=())
        startup = 0.0
    else:
        with get_client(n_workers=2, threads_per_worker=1, processes=True) as client:
            startup = time.perf_counter() - t0
            result = predict_parquet(model, source, out, chunk_rows=chunk_rows, keep=(), scheduler=client)
    print(json.dumps({"rows": result.rows, "parts": result.parts, "seconds": result.seconds, "startup": startup}))


def _measure(mode: str, model: Path, source: Path, out: Path, chunk_rows: int) -> dict:
    """Run the child, sampling the RSS of its whole process tree; return timings and peak memory."""
    import psutil

    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, __file__, "--child", mode, str(model), str(source), str(out), "--chunk-rows", str(chunk_rows)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    parent = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            procs = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} run failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    shutil.rmtree(out, ignore_errors=True)
    return {**result, "peak_rss_mb": peak / 2**20}


def _fuzz(examples: int) -> dict:
    """Run the fuzz tests with many examples; return the case counts per target."""
    report = Path(tempfile.mkdtemp()) / "fuzz.json"
    env = {**os.environ, "GMLEARN_HYPOTHESIS_PROFILE": "fuzz", "GMLEARN_FUZZ_EXAMPLES": str(examples),
           "GMLEARN_FUZZ_REPORT": str(report)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "tests/scale/test_fuzz.py"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:])
    counts = json.loads(report.read_text()) if report.is_file() else {}
    return {"passed": proc.returncode == 0, "targets": counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fuzz", action="store_true", help="also run the fuzz tests and record their counts")
    parser.add_argument("--fuzz-examples", type=int, default=500)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "MODEL", "SOURCE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child[:4], chunk_rows=args.chunk_rows)
        return

    from gmlearn import datasets
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.tree import TreeGMM

    work = args.work or Path(tempfile.mkdtemp(prefix="gmlearn-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    table = datasets.load("nzsmd")
    table = table[table["tectonic_region"] == "crustal"].reset_index(drop=True)
    t0 = time.perf_counter()
    model = TreeGMM(random_state=args.seed).fit(table, IMTS)
    train_seconds = time.perf_counter() - t0
    model_dir = save_model(model, work / "tree", overwrite=True)
    source = work / f"features_{args.rows}.parquet"
    t0 = time.perf_counter()
    _synthesise(table, list(model.features), args.rows, source, args.seed)
    print(f"trained in {train_seconds:.1f} s; wrote {args.rows:,} rows to {source} "
          f"({source.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f} s")
    rows = []
    for mode in ("local", "dask"):
        r = _measure(mode, model_dir, source, work / f"out-{mode}", args.chunk_rows)
        rows.append({
            "engine": "this process" if mode == "local" else "LocalCluster, 2 workers x 1 thread",
            "mode": mode, "rows": r["rows"], "imts": len(IMTS), "parts": r["parts"], "chunk_rows": args.chunk_rows,
            "seconds": round(r["seconds"], 1), "rows_per_second": round(r["rows"] / r["seconds"]),
            "cluster_startup_seconds": round(r["startup"], 1), "peak_rss_mb": round(r["peak_rss_mb"]),
        })
        print(rows[-1])
    fuzz = _fuzz(args.fuzz_examples) if args.fuzz else None
    df = pd.DataFrame(rows).drop(columns=["mode"])
    print(f"\nStreaming prediction of {args.rows:,} rows x {len(IMTS)} IMTs (ln mean, tau, phi, sigma) with a TreeGMM "
          f"trained on NZSMD crustal ({len(table)} records); peak RSS summed over all processes")
    print(df.to_string(index=False))
    fuzz_cases = sum(v.get("cases", 0) for v in fuzz["targets"].values()) if fuzz else None
    if fuzz:
        print(f"\nfuzzing: {fuzz_cases} cases, tests {'passed' if fuzz['passed'] else 'FAILED'}")
        for target, counts in fuzz["targets"].items():
            print(f"  {target}: {counts}")
    by = {r["mode"]: r for r in rows}
    command = "python benchmarks/scale.py" + (f" --rows {args.rows}" if args.rows != 10_000_000 else "")
    command += (f" --chunk-rows {args.chunk_rows}" if args.chunk_rows != 250_000 else "") + (" --fuzz" if args.fuzz else "")
    payload = {
        "benchmark": "scale",
        "command": command,
        "data": (f"gmlearn.datasets nzsmd, crustal records (training, {len(table)} records); {args.rows:,} feature rows "
                 "resampled from them with jittered magnitude and distances (prediction)"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "rows": rows,
        "fuzz": fuzz,
        "summary": {
            "peak_rss_mb_10m_rows": by["local"]["peak_rss_mb"],
            "peak_rss_mb_10m_rows_dask": by["dask"]["peak_rss_mb"],
            "rows_per_second_local": by["local"]["rows_per_second"],
            "rows_per_second_dask": by["dask"]["rows_per_second"],
            "rows": args.rows,
            "fuzz_cases": fuzz_cases,
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {RESULTS / 'scale.json'}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
