"""Ecosystem benchmark: does gmlearn work the way OpenQuake, scikit-learn and ShakeMap users already work?

Run from the repository root::

    python benchmarks/ecosystem.py [--startup-runs 200] [--parts stock_openquake,wheel_demo,python_startup]

Each part is a function ``part_<name>(env) -> (rows, summary)``; the summary of
the file merges them. A part whose function is not defined here records
``null`` for its keys (see ``PARTS``).

* ``stock_openquake``: a wheel is built from the repository and installed
  (``--no-deps``, not editable) into a fresh virtual environment that sees this
  environment's packages through a path file. Every example job of
  ``docs/examples`` (classical, event-based, disaggregation, conditional
  spectrum, scenario, conditioned scenario), each with ``[GMLearnGSIM]``
  branches, runs under stock ``oq engine --run`` (``python -m
  openquake.commands``) with a private OpenQuake configuration (sqlite job
  database in a temporary folder, ``OQ_DISTRIBUTE=no``), and again with
  ``gmlearn hazard run`` (:func:`gmlearn.hazard.run`). Rows compare the two
  datastores: hazard curves (``hcurves-stats``) or ground-motion fields
  (``gmf_data``), largest relative difference over values above 1e-12.
* ``wheel_demo``: ``gmlearn demo --quick`` from the wheel, run in an empty
  folder outside the checkout; ok when every stage of the package ran.
* ``python_startup``: ``python -c pass`` in the fresh venv with and without the
  gmlearn wheel (same interpreter and path file), ``--startup-runs`` interleaved
  pairs; the delta is the median of the paired differences (wall time). Plus
  ``-X importtime`` of the start-up hook ``_gmlearn_openquake``.

Writes benchmarks/results/ecosystem.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
EXAMPLES = ROOT / "docs" / "examples"
#: Job kind -> (example job file, datastore dataset compared with gmlearn hazard run).
JOBS: dict[str, tuple[str, str]] = {
    "classical": ("hazard_classical/job.ini", "hcurves-stats"),
    "event_based": ("hazard_classical/job_event_based.ini", "gmf_data"),
    "disaggregation": ("hazard_classical/job_disaggregation.ini", "disagg-rlzs"),
    "conditional_spectrum": ("hazard_classical/job_conditional_spectrum.ini", "cs-rlzs"),
    "scenario": ("hazard_scenario/job.ini", "gmf_data"),
    "conditioned_scenario": ("hazard_scenario_conditioned/job.ini", "gmf_data"),
}
#: Part name -> the summary keys it fills. Parts of other areas are added as functions named part_<name>.
PARTS: dict[str, list[str]] = {
    "stock_openquake": ["stock_oq_jobs_ok", "oq_curves_max_rel_diff_stock_vs_gmlearn"],
    "wheel_demo": ["wheel_demo_ok"],
    "python_startup": ["python_startup_ms_delta"],
    "sklearn": ["sklearn_checks_passed", "sklearn_checks_failed_unexplained"],
    "cf_compliance": ["cf_compliance_errors"],
    "gmice": ["gmice_mmi"],
}


@dataclass
class Env:
    """The wheel, a venv with it installed, a bare venv for comparison, and a scratch folder."""

    work: Path
    wheel: Path
    venv: Path
    bare: Path
    startup_runs: int


def _clean_env(tmp: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OQ_DATABASE")}
    env.update(OQ_DISTRIBUTE="no", MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if tmp is not None:
        tmp.mkdir(parents=True, exist_ok=True)
        cfg = tmp / "openquake.cfg"
        cfg.write_text(f"[dbserver]\nfile = {tmp / 'db.sqlite3'}\nhost = 127.0.0.1\n"
                       "[directory]\nshared_dir =\ncustom_tmp =\n")
        env.update(HOME=str(tmp), OQ_CONFIG_FILE=str(cfg), OQ_DATADIR=str(tmp / "oqdata"))
    return env


def _venv(path: Path, wheel: Path | None) -> Path:
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, env=env)
    py = path / "bin" / "python"
    if wheel is not None:
        subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
                       check=True, env=env)
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, env=env).stdout.strip()
    Path(purelib, "_host_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return path


def make_env(work: Path, startup_runs: int) -> Env:
    out = work / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(ROOT)], check=True, env=_clean_env())
    [wheel] = out.glob("gmlearn-*.whl")
    return Env(work, wheel, _venv(work / "venv", wheel), _venv(work / "bare", None), startup_runs)


def _max_rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        return float("inf")
    scale = np.maximum(np.abs(a), np.abs(b))
    keep = scale > 1e-12
    return float(np.max(np.abs(a - b)[keep] / scale[keep])) if keep.any() else 0.0


def _dataset(path: Path, name: str) -> np.ndarray:
    import h5py

    with h5py.File(path, "r") as fh:
        node = fh[name]
        if isinstance(node, h5py.Group):  # gmf_data (one column per IMT), disagg-rlzs (one array per output)
            parts = [node[k][()].ravel() for k in sorted(node)
                     if isinstance(node[k], h5py.Dataset) and node[k].dtype.kind == "f"]
            return np.concatenate(parts) if parts else np.zeros(0)
        return node[()]


def part_stock_openquake(env: Env) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from gmlearn import hazard

    rows, ok, curve_diffs = [], [], []
    for kind, (job, dataset) in JOBS.items():
        tmp = env.work / "oq" / kind
        t0 = time.perf_counter()
        out = subprocess.run([str(env.venv / "bin" / "python"), "-m", "openquake.commands", "engine", "--run",
                              str(EXAMPLES / job)], cwd=env.work, env=_clean_env(tmp), capture_output=True, text=True)
        wall = time.perf_counter() - t0
        calcs = sorted((tmp / "oqdata").glob("calc_*.hdf5"))
        row: dict[str, Any] = {"part": "stock_openquake", "job_kind": kind, "job": f"docs/examples/{job}",
                               "stock_rc": out.returncode, "stock_wall_s": round(wall, 1), "dataset": dataset}
        if out.returncode == 0 and calcs:
            stock = _dataset(calcs[-1], dataset)
            row["stock_values"] = int(stock.size)
            t0 = time.perf_counter()
            ours = hazard.run(EXAMPLES / job, data_dir=env.work / "gmlearn" / kind, plots=False)
            row["gmlearn_wall_s"] = round(time.perf_counter() - t0, 1)
            row["max_rel_diff_stock_vs_gmlearn"] = _max_rel_diff(stock, _dataset(Path(ours.datastore), dataset))
            if stock.size and np.isfinite(stock).all():
                ok.append(kind)
            if dataset.startswith("hcurves"):
                curve_diffs.append(row["max_rel_diff_stock_vs_gmlearn"])
        else:
            row["error"] = (out.stderr.strip().splitlines() or ["no datastore"])[-1][:300]
        rows.append(row)
    return rows, {"stock_oq_jobs_ok": ok,
                  "oq_curves_max_rel_diff_stock_vs_gmlearn": max(curve_diffs) if curve_diffs else None}


def part_wheel_demo(env: Env) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    folder = env.work / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    out = subprocess.run([str(env.venv / "bin" / "gmlearn"), "demo", "--quick", "--out", "demo"], cwd=folder,
                         env=_clean_env(folder / "oq"), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    summary_file = folder / "demo" / "demo.json"
    demo = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    stages = demo.get("stages", [])
    ok = out.returncode == 0 and {"store", "train", "evaluation", "hazard", "explain"} <= set(stages)
    row = {"part": "wheel_demo", "command": "gmlearn demo --quick (wheel install, empty folder)", "rc": out.returncode,
           "wall_s": round(wall, 1), "stages": stages, "skipped": demo.get("skipped"), "ok": ok}
    if out.returncode != 0:
        row["error"] = (out.stderr.strip().splitlines() or [""])[-1][:300]
    return [row], {"wheel_demo_ok": ok}


def _startup_ms(python: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(python), "-c", "pass"], check=True, env=_clean_env())
    return (time.perf_counter() - t0) * 1000


def part_python_startup(env: Env) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    with_gm, bare = [], []
    for _ in range(3):  # warm the file cache
        _startup_ms(env.venv / "bin" / "python")
        _startup_ms(env.bare / "bin" / "python")
    for _ in range(env.startup_runs):
        with_gm.append(_startup_ms(env.venv / "bin" / "python"))
        bare.append(_startup_ms(env.bare / "bin" / "python"))
    out = subprocess.run([str(env.venv / "bin" / "python"), "-X", "importtime", "-c", "pass"], capture_output=True,
                         text=True, env=_clean_env())
    hook = [line for line in out.stderr.splitlines() if re.search(r"\|\s*_gmlearn_openquake\s*$", line)]
    hook_us = int(hook[0].split("|")[1]) if hook else None
    # interleaved pairs share the machine's load of the moment: the median paired difference is the estimate
    delta = statistics.median(a - b for a, b in zip(with_gm, bare))
    rows = [{"part": "python_startup", "venv": name, "runs": len(t), "median_ms": round(statistics.median(t), 2),
             "p10_ms": round(float(np.percentile(t, 10)), 2), "p90_ms": round(float(np.percentile(t, 90)), 2)}
            for name, t in (("without gmlearn", bare), ("with gmlearn wheel", with_gm))]
    rows.append({"part": "python_startup", "venv": "with gmlearn wheel", "hook_import_cumulative_us": hook_us,
                 "modules_loaded_by_hook": "sys, os (already loaded at start-up)"})
    return rows, {"python_startup_ms_delta": round(delta, 2), "python_startup_hook_import_us": hook_us}


def _machine() -> dict[str, Any]:
    from importlib import metadata

    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(), "openquake": metadata.version("openquake.engine"),
            "setuptools": metadata.version("setuptools"), "pip": metadata.version("pip")}


def _print(rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items() if k != "part"), f"[{row['part']}]")
    print()
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        print(f"{key:<{width}}  {json.dumps(value)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--startup-runs", type=int, default=200)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {list(PARTS)}")
    args = parser.parse_args()
    wanted = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in PARTS]
    if unknown:
        parser.error(f"--parts must name parts from {list(PARTS)}; got {unknown}")
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {key: None for part in PARTS for key in PARTS[part]}
    with tempfile.TemporaryDirectory(prefix="gmlearn-ecosystem-") as tmp:
        env = make_env(Path(tmp), args.startup_runs)
        for part in wanted:
            func: Callable[[Env], tuple[list[dict[str, Any]], dict[str, Any]]] | None = globals().get(f"part_{part}")
            if func is None:  # not built yet: its keys stay null
                continue
            got_rows, got = func(env)
            rows += got_rows
            summary.update(got)
    result = {"benchmark": "ecosystem", "command": "python benchmarks/ecosystem.py " + " ".join(sys.argv[1:]),
              "data": "docs/examples (OpenQuake demo sources, BA08 as a gmlearn model); bundled nzsmd for the demo",
              "machine": _machine(), "rows": rows, "summary": summary}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ecosystem.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    _print(rows, summary)


if __name__ == "__main__":
    main()
