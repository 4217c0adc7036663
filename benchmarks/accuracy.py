"""Accuracy benchmark: OpenQuake GMPEs vs XGBoost and gmlearn's regressors (event-held-out 5-fold CV).

Run from the repository root::

    python benchmarks/accuracy.py [--folds 5] [--seed 0]

Data: the bundled NZSMD flatfile (crustal records, RotD50) and the bundled
NGA-West2 1000-record subset, both loaded through a FeatureStore. Learned
models (plain XGBoost; gmlearn tree, monotone, hybrid and Bayesian NN, ergodic
and with known station terms) are scored on out-of-fold predictions; published GMPEs
on all records. An extrapolation test trains on M < 6.5 and tests on M >= 6.5.
Prints tables and writes benchmarks/results/accuracy.json.
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

import pandas as pd

from gmlearn import datasets
from gmlearn.evaluation.compare import compare_models, default_models, gmlearn_models
from gmlearn.evaluation.scoring import score
from gmlearn.evaluation.yardstick import resolve_gmpes
from gmlearn.store import FeatureStore

IMTS = ["PGA", "PGV", "SA(0.2)", "SA(1.0)", "SA(3.0)"]
CASES = {
    "nzsmd_crustal": {"dataset": "nzsmd", "region": "crustal", "gmpes": ["ASK14", "BSSA14", "CB14", "CY14", "Bradley2013"]},
    "ngawest2_subset": {"dataset": "ngawest2_subset", "region": None, "gmpes": ["ASK14", "BSSA14", "CB14", "CY14"]},
}
HYBRID_BASE = "CampbellBozorgnia2014"  # defined for all five IMTs (Bradley2013 has no PGV)
EXTRAPOLATION_MAG = 6.5
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


def _print(name: str, scores: pd.DataFrame, n_rec: int, n_ev: int, folds: int) -> None:
    print(f"\n== {name}: {n_rec} records, {n_ev} events; event-grouped {folds}-fold CV for learned models ==")
    for metric in ["rms", "tau", "phi", "phi_ss", "llh", "edr", "coverage_68", "coverage_95"]:
        pivot = scores.pivot(index="model", columns="imt", values=metric)[[i for i in IMTS if i in set(scores.imt)]]
        print(f"\n{metric}:")
        print(pivot.to_string(float_format=lambda v: f"{v:.3f}", na_rep="-"))


def _extrapolation(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Train on M < 6.5, test on M >= 6.5: total RMS per model and IMT."""
    train = table[table["mag"] < EXTRAPOLATION_MAG].reset_index(drop=True)
    test = table[table["mag"] >= EXTRAPOLATION_MAG].reset_index(drop=True)
    rows = []
    models = {**gmlearn_models(hybrid_base=HYBRID_BASE, non_ergodic=False, bnn=True, data_only=True, random_state=seed),
              **default_models({"CB14": HYBRID_BASE}, xgboost=True, random_state=seed)}
    for label, factory in models.items():
        model = factory().fit(train, IMTS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = model.predict(test, IMTS)
        sc = score(test, pred, IMTS)
        for r in sc.itertuples():
            rows.append({"model": label, "imt": r.imt, "rms": r.rms, "n_records": r.n_records})
    out = pd.DataFrame(rows)
    print(f"\n== extrapolation: train M < {EXTRAPOLATION_MAG} ({len(train)} records), test M >= {EXTRAPOLATION_MAG} "
          f"({len(test)} records, {test['event_id'].nunique()} events); total RMS ==")
    print(out.pivot(index="model", columns="imt", values="rms")[IMTS].to_string(float_format=lambda v: f"{v:.3f}"))
    return out


def _ratios(scores: pd.DataFrame, best_gmpe: dict[str, float]) -> dict:
    ml = scores[(scores["kind"] == "ml") & (scores["model"] != "XGBoost")]
    ergodic = ml[~ml["model"].str.contains("known-station")]
    out: dict = {"best_gmlearn_ratio": {}, "best_gmlearn_model": {}, "worst_gmlearn_ratio": {}, "worst_gmlearn_model": {},
                 "best_gmlearn_ratio_ergodic": {}, "coverage68_best": {}}
    for imt, ref in best_gmpe.items():
        sub = ml[ml["imt"] == imt].set_index("model")
        erg = ergodic[ergodic["imt"] == imt].set_index("model")
        if sub.empty:
            continue
        best, worst = sub["rms"].idxmin(), sub["rms"].idxmax()
        out["best_gmlearn_ratio"][imt] = round(float(sub.loc[best, "rms"] / ref), 4)
        out["best_gmlearn_model"][imt] = best
        out["worst_gmlearn_ratio"][imt] = round(float(sub.loc[worst, "rms"] / ref), 4)
        out["worst_gmlearn_model"][imt] = worst
        out["best_gmlearn_ratio_ergodic"][imt] = round(float(erg["rms"].min() / ref), 4)
        out["coverage68_best"][imt] = round(float(sub.loc[best, "coverage_68"]), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plots", type=Path, default=None, help="Folder for residual plots (optional).")
    args = parser.parse_args()
    rows, summary, timing = [], {}, {}
    extrapolation = None
    with tempfile.TemporaryDirectory() as tmp:
        for name, case in CASES.items():
            t0 = time.perf_counter()
            table = _table(Path(tmp), case)
            models = {**default_models(resolve_gmpes(case["gmpes"]), xgboost=True, random_state=args.seed),
                      **gmlearn_models(hybrid_base=HYBRID_BASE, bnn=True, data_only=True, random_state=args.seed)}
            result = compare_models(table, IMTS, models, n_splits=args.folds, random_state=args.seed)
            timing[name] = round(time.perf_counter() - t0, 1)
            if args.plots:
                from gmlearn.evaluation.plots import plot_model_comparison

                plot_model_comparison(result.scores, args.plots / f"rms_{name}.png")
            scores = result.scores.copy()
            scores.insert(0, "data", name)
            rows += json.loads(scores.to_json(orient="records"))
            _print(name, result.scores, len(table), table["event_id"].nunique(), args.folds)
            best = result.best("rms", kind="gmpe")
            best_rms = {r.imt: round(float(r.rms), 4) for r in best.itertuples()}
            xgb = result.scores[result.scores["model"] == "XGBoost"].set_index("imt")["rms"]
            summary[name] = {
                "n_records": int(len(table)),
                "n_events": int(table["event_id"].nunique()),
                "best_gmpe_rms": best_rms,
                "best_gmpe": {r.imt: r.model for r in best.itertuples()},
                "xgboost_baseline_rms": {i: round(float(v), 4) for i, v in xgb.items()},
                **_ratios(result.scores, best_rms),
                "seconds": timing[name],
            }
            if name == "nzsmd_crustal":
                extrapolation = _extrapolation(table, args.seed)
    ext = extrapolation.pivot(index="model", columns="imt", values="rms")
    hybrid_label = [m for m in ext.index if m.startswith("hybrid")][0]
    summary["nzsmd_crustal"]["extrapolation_hybrid_minus_base"] = {i: round(float(ext.loc[hybrid_label, i] - ext.loc["CB14", i]), 4) for i in IMTS}
    summary["nzsmd_crustal"]["extrapolation_rms"] = {m: {i: round(float(ext.loc[m, i]), 4) for i in IMTS} for m in ext.index}
    nz = summary["nzsmd_crustal"]
    payload = {
        "benchmark": "accuracy",
        "command": "python benchmarks/accuracy.py" + (f" --folds {args.folds}" if args.folds != 5 else "") + (f" --seed {args.seed}" if args.seed else ""),
        "data": "gmlearn.datasets nzsmd (GeoNet NZSMD RotD50, crustal records) and ngawest2_subset (PEER NGA-West2 1000-record subset)",
        "split": (f"GMPEs: all records (not fitted); learned models: event-grouped {args.folds}-fold CV, seed {args.seed}; "
                  f"extrapolation: train M < {EXTRAPOLATION_MAG}, test M >= {EXTRAPOLATION_MAG}"),
        "machine": _machine(),
        "rows": rows,
        "summary": {
            "best_gmpe_rms": nz["best_gmpe_rms"],
            "best_gmpe": nz["best_gmpe"],
            "xgboost_baseline_rms": nz["xgboost_baseline_rms"],
            "best_gmlearn_ratio": nz["best_gmlearn_ratio"],
            "best_gmlearn_model": nz["best_gmlearn_model"],
            "best_gmlearn_ratio_ergodic": nz["best_gmlearn_ratio_ergodic"],
            "worst_gmlearn_ratio": nz["worst_gmlearn_ratio"],
            "worst_gmlearn_model": nz["worst_gmlearn_model"],
            "coverage68_best": nz["coverage68_best"],
            "extrapolation_hybrid_minus_base": nz["extrapolation_hybrid_minus_base"],
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
    print(pd.DataFrame({"best GMPE": nz["best_gmpe"], "best GMPE rms": nz["best_gmpe_rms"], "XGBoost rms": nz["xgboost_baseline_rms"],
                        "best gmlearn": nz["best_gmlearn_model"], "best ratio": nz["best_gmlearn_ratio"],
                        "best ergodic ratio": nz["best_gmlearn_ratio_ergodic"], "worst ratio": nz["worst_gmlearn_ratio"],
                        "coverage68 best": nz["coverage68_best"], "extrap. hybrid-base": nz["extrapolation_hybrid_minus_base"]}).to_string())
    print(f"\nwrote {path}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
