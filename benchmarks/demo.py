"""Time ``gmlearn demo`` (what ``make demo`` runs) and its peak memory.

Runs ``gmlearn demo --out <fresh folder>`` in a subprocess, as on a fresh clone (the
output folder is new; the numba cache of OpenQuake is whatever the environment has), and
records the wall time and the peak resident memory of the demo process (``os.wait4``
resource usage: the largest of the process and the children it waited for).
Writes ``benchmarks/results/demo.json``.

    python benchmarks/demo.py                  # the full demo
    python benchmarks/demo.py --quick          # gmlearn demo --quick (smoke test)
    python benchmarks/demo.py --cold-numba     # also a run that compiles OpenQuake's numba code first
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

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "demo.json"


def _machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "load_average_1min_at_start": round(os.getloadavg()[0], 2)}


def _run(cmd: list[str], work: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS (MB, of the demo process and the children it waited for), exit status, stderr tail."""
    log = work / "stderr.log"
    t0 = time.perf_counter()
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=err)  # noqa: S603
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode, log.read_text()[-4000:]


def _measure(args: argparse.Namespace, cold: bool) -> dict:
    gmlearn = Path(sys.executable).with_name("gmlearn")
    work = Path(tempfile.mkdtemp(prefix="gmlearn-demo-bench-"))
    cmd = [str(gmlearn), "demo", "--out", str(work / "gmlearn-demo"), *(["--quick"] if args.quick else []),
           *(["--stages", args.stages] if args.stages else [])]
    env = {**os.environ, "MPLBACKEND": "Agg", "OQ_DISTRIBUTE": "no"}
    env.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".venv" / "numba_cache"))  # as the Makefile sets it
    if cold:
        env["NUMBA_CACHE_DIR"] = str(work / "numba_cache")
    try:
        seconds, peak_mb, status, err = _run(cmd, work, env)
        if status != 0:
            sys.stderr.write(err)
            raise SystemExit(f"gmlearn demo failed with status {status}")
        summary = json.loads((work / "gmlearn-demo" / "demo.json").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"command": " ".join(["gmlearn", "demo", "--out", "gmlearn-demo", *cmd[4:]]), "numba_cache": "cold" if cold else "warm",
            "seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb, 1), "stages": summary["stages"],
            "absent": summary["absent"], "stage_seconds": summary["stage_seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="gmlearn demo --quick")
    parser.add_argument("--stages", help="comma-separated stages (gmlearn demo --stages); default: all")
    parser.add_argument("--cold-numba", action="store_true",
                        help="also time a run with an empty NUMBA_CACHE_DIR: OpenQuake's numba compilation, which "
                             "make install does once, is then part of the demo's time")
    parser.add_argument("--out", type=Path, default=RESULTS, help="result JSON")
    args = parser.parse_args()
    machine = _machine()
    rows = [_measure(args, cold=False)]
    if args.cold_numba:
        rows.append(_measure(args, cold=True))
    warm = rows[0]
    result = {
        "benchmark": "demo",
        "command": " ".join(["python benchmarks/demo.py", *sys.argv[1:]]),
        "data": ("bundled datasets nzsmd and ngawest2_subset (store, models, evaluation, Kaikoura shakemap, SHAP "
                 "report); OpenQuake's demo AreaSourceClassicalPSHA (hazard); shipped waveform generator weights"),
        "machine": machine,
        "rows": rows,
        "summary": {"make_demo_seconds": warm["seconds"], "peak_rss_mb": warm["peak_rss_mb"], "stages": warm["stages"],
                    **({"make_demo_seconds_cold_numba": rows[1]["seconds"]} if len(rows) > 1 else {})},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'stage':<12}" + "".join(f"{r['numba_cache'] + ' numba':>14}" for r in rows))
    for stage in warm["stage_seconds"]:
        print(f"{stage:<12}" + "".join(f"{r['stage_seconds'][stage]:>14.1f}" for r in rows))
    print(f"{'total':<12}" + "".join(f"{r['seconds']:>14.1f}" for r in rows))
    print(f"{'peak RSS MB':<12}" + "".join(f"{r['peak_rss_mb']:>14.0f}" for r in rows) + f"   -> {args.out}")


if __name__ == "__main__":
    main()
