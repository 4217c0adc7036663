"""Accuracy benchmark: OpenQuake GMPEs vs a plain XGBoost (event-held-out 5-fold CV).

Run from the repository root::

    python benchmarks/accuracy.py [--folds 5] [--seed 0]

Data: the bundled NZSMD flatfile (crustal records, RotD50) and the bundled
NGA-West2 1000-record subset, both loaded through a FeatureStore. Prints one
table per dataset and writes benchmarks/results/accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gmlearn import datasets
from gmlearn.gmpe.yardstick import run_evaluation
from gmlearn.store import FeatureStore

IMTS = ["PGA", "PGV", "SA(0.2)", "SA(1.0)", "SA(3.0)"]
CASES = {
    "nzsmd_crustal": {"dataset": "nzsmd", "region": "crustal", "gmpes": ["ASK14", "BSSA14", "CB14", "CY14", "Bradley2013"]},
    "ngawest2_subset": {"dataset": "ngawest2_subset", "region": None, "gmpes": ["ASK14", "BSSA14", "CB14", "CY14"]},
}
RESULTS = Path(__file__).resolve().parent / "results"


def _machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _table(store_dir: Path, case: dict) -> pd.DataFrame:
    store = FeatureStore.create(store_dir / case["dataset"], overwrite=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.append(datasets.load(case["dataset"]))
    filters = {"tectonic_region": case["region"]} if case["region"] else {}
    return store.to_frame(imts=IMTS, dropna=False, **filters)


def _print(name: str, scores: pd.DataFrame, n_rec: int, n_ev: int) -> None:
    print(f"\n== {name}: {n_rec} records, {n_ev} events; event-grouped 5-fold CV for XGBoost ==")
    cols = ["rms", "tau", "phi", "llh", "edr", "coverage_95"]
    for metric in cols:
        pivot = scores.pivot(index="model", columns="imt", values=metric)[[i for i in IMTS if i in set(scores.imt)]]
        print(f"\n{metric}:")
        print(pivot.to_string(float_format=lambda v: f"{v:.3f}", na_rep="-"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plots", type=Path, default=None, help="Folder for residual plots (optional).")
    args = parser.parse_args()
    rows, summary, timing = [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, case in CASES.items():
            t0 = time.perf_counter()
            table = _table(Path(tmp), case)
            out = args.plots / name if args.plots else None
            result = run_evaluation(table, IMTS, case["gmpes"], out=out, n_splits=args.folds, random_state=args.seed)
            timing[name] = round(time.perf_counter() - t0, 1)
            scores = result.scores.copy()
            scores.insert(0, "data", name)
            rows += json.loads(scores.to_json(orient="records"))
            _print(name, result.scores, len(table), table["event_id"].nunique())
            best = result.best("rms", kind="gmpe")
            xgb = result.scores[result.scores["model"] == "XGBoost"].set_index("imt")["rms"]
            summary[name] = {
                "n_records": int(len(table)),
                "n_events": int(table["event_id"].nunique()),
                "best_gmpe_rms": {r.imt: round(float(r.rms), 4) for r in best.itertuples()},
                "best_gmpe": {r.imt: r.model for r in best.itertuples()},
                "xgboost_baseline_rms": {i: round(float(v), 4) for i, v in xgb.items()},
                "seconds": timing[name],
            }
    nz = summary["nzsmd_crustal"]
    payload = {
        "benchmark": "accuracy",
        "command": "python benchmarks/accuracy.py" + (f" --folds {args.folds}" if args.folds != 5 else "") + (f" --seed {args.seed}" if args.seed else ""),
        "data": "gmlearn.datasets nzsmd (GeoNet NZSMD RotD50, crustal records) and ngawest2_subset (PEER NGA-West2 1000-record subset)",
        "split": f"GMPEs: all records (not fitted); XGBoost: event-grouped {args.folds}-fold CV, seed {args.seed}",
        "machine": _machine(),
        "rows": rows,
        "summary": {
            "best_gmpe_rms": nz["best_gmpe_rms"],
            "best_gmpe": nz["best_gmpe"],
            "xgboost_baseline_rms": nz["xgboost_baseline_rms"],
            "by_dataset": summary,
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "accuracy.json"
    existing = json.loads(path.read_text()) if path.exists() else {}
    if isinstance(existing.get("summary"), dict):  # later issues add their own summary figures
        payload["summary"] = {**existing["summary"], **payload["summary"]}
    path.write_text(json.dumps(payload, indent=2, allow_nan=True) + "\n")
    print("\nsummary (NZSMD crustal, total RMS):")
    print(pd.DataFrame({"best GMPE": nz["best_gmpe"], "best GMPE rms": nz["best_gmpe_rms"], "XGBoost rms": nz["xgboost_baseline_rms"]}).to_string())
    print(f"\nwrote {path}")
    sys.stdout.flush()
    _ = np  # numpy kept for float formatting consistency


if __name__ == "__main__":
    main()
