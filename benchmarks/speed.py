"""Speed benchmark: training time per model on NZSMD, and prediction of 1 M rows x 5 IMTs.

Run from the repository root::

    python benchmarks/speed.py [--rows 1000000] [--repeats 3]

Training: each gmlearn regressor fitted on the bundled NZSMD crustal records
(2319 records) for PGA, PGV, SA(0.2), SA(1.0), SA(3.0). Prediction: 1 M rows
resampled from those records with jittered magnitude and distances, mean,
tau, phi and sigma for the five IMTs, median of ``--repeats`` runs; compared
with OpenQuake's BooreEtAl2014 (BSSA14) on the same rows. Writes
benchmarks/results/speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gmlearn import datasets
from gmlearn.gmpe.bnn import BayesianNNGMM
from gmlearn.gmpe.hybrid import HybridGMM
from gmlearn.gmpe.monotone import MonotoneGMM
from gmlearn.gmpe.reference import OpenQuakeGMPE
from gmlearn.gmpe.tree import TreeGMM

IMTS = ["PGA", "PGV", "SA(0.2)", "SA(1.0)", "SA(3.0)"]
RESULTS = Path(__file__).resolve().parent / "results"


def _rows(table: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    big = table.iloc[rng.integers(0, len(table), n)].reset_index(drop=True)
    big["mag"] = np.clip(big["mag"] + rng.normal(0, 0.2, n), 3.5, 7.8)
    scale = np.exp(rng.normal(0, 0.2, n))
    for col in ("rrup", "rjb"):
        big[col] = big[col] * scale
    big["rrup"] = np.maximum(big["rrup"], big["rjb"])
    return big


def _median_time(fn, repeats: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = datasets.load("nzsmd")
    table = table[table["tectonic_region"] == "crustal"].reset_index(drop=True)
    big = _rows(table, args.rows, args.seed)
    rows = []
    bssa = OpenQuakeGMPE("BooreEtAl2014")
    bssa.predict(big.iloc[:1000], IMTS)  # warm-up (numba, coefficient tables)
    t_ref = _median_time(lambda: bssa.predict(big, IMTS), args.repeats)
    rows.append({"model": "BSSA14 (OpenQuake)", "train_seconds": None, "predict_seconds": round(t_ref, 3), "ratio_vs_bssa14": 1.0})
    models = {"tree": TreeGMM(random_state=args.seed), "monotone": MonotoneGMM(random_state=args.seed),
              "hybrid(CB14)": HybridGMM("CampbellBozorgnia2014", random_state=args.seed),
              "hybrid(BSSA14)": HybridGMM("BooreEtAl2014", random_state=args.seed),
              "bnn": BayesianNNGMM(random_state=args.seed)}
    for name, model in models.items():
        t0 = time.perf_counter()
        model.fit(table, IMTS)
        t_train = time.perf_counter() - t0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.predict(big.iloc[:1000])
            t_pred = _median_time(lambda m=model: m.predict(big, IMTS), args.repeats)
        rows.append({"model": name, "train_seconds": round(t_train, 2), "predict_seconds": round(t_pred, 3),
                     "ratio_vs_bssa14": round(t_pred / t_ref, 3)})
    df = pd.DataFrame(rows)
    print(f"\nPrediction of {args.rows:,} rows x {len(IMTS)} IMTs (mean, tau, phi, sigma); median of {args.repeats} runs; "
          f"training on NZSMD crustal ({len(table)} records, {len(IMTS)} IMTs)")
    print(df.to_string(index=False))
    gm = df[df["model"] != "BSSA14 (OpenQuake)"]
    payload = {
        "benchmark": "speed",
        "command": "python benchmarks/speed.py" + (f" --rows {args.rows}" if args.rows != 1_000_000 else ""),
        "data": "gmlearn.datasets nzsmd, crustal records (training); 1 M rows resampled from them with jitter (prediction)",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "rows": rows,
        "summary": {
            "predict_ratio_vs_bssa14": {r.model: r.ratio_vs_bssa14 for r in gm.itertuples()},
            "predict_ratio_vs_bssa14_worst": float(gm["ratio_vs_bssa14"].max()),
            "bssa14_predict_seconds": round(t_ref, 3),
            "train_seconds": {r.model: r.train_seconds for r in gm.itertuples()},
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speed.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {RESULTS / 'speed.json'}")


if __name__ == "__main__":
    main()
