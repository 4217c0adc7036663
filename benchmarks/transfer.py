"""Transfer benchmark: models on data they never saw (leave-one-region-out yardstick).

Run from the repository root::

    python benchmarks/transfer.py [--seed 0] [--repeats 5] [--no-bnn]

Data: the bundled NZSMD flatfile (crustal records, RotD50) and the bundled
NGA-West2 subset. Experiments (functions in :mod:`gmlearn.evaluation.transfer`):

1. Cross-region: train on NZSMD crustal, score on the NGA-West2 subset, and the
   reverse. Every published GMPE of the accuracy table is scored on the same rows,
   and so is each learned model's own physics base.
2. Held-out bins: train on both datasets outside a bin (M >= 7, M < 5,
   Rrup > 150 km, vs30 < 250 m/s), score inside it; the data-imbalance remedies
   (density weights, pseudo-records) are switched on one at a time.
3. Consistent scenarios: every model class trained on both datasets, ln IM on the
   grid of :func:`gmlearn.evaluation.consistency.consistent_scenarios`.
4. Adaptation: the cross-region models adapted to the target with k = 1, 3, 10
   and all target events (event draws repeated), against the GMPE unadjusted, the
   GMPE plus a constant fitted on the same k events and a model trained from
   scratch on them.

Prints tables and writes benchmarks/results/transfer.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gmlearn import datasets
from gmlearn.evaluation.consistency import consistent_scenarios, scaling_violations
from gmlearn.evaluation.transfer import adaptation_curve, combine_regions, cross_region, held_out_bins

IMTS = ["PGA", "PGV", "SA(0.2)", "SA(1.0)", "SA(3.0)"]
GMPES = {"ASK14": "ASK14", "BSSA14": "BSSA14", "CB14": "CB14", "CY14": "CY14", "Bradley2013": "Bradley2013"}
RESULTS = Path(__file__).resolve().parent / "results"


def _models(seed: int, bnn: bool) -> dict:
    from gmlearn.gmpe.hybrid import HybridGMM
    from gmlearn.gmpe.monotone import MonotoneGMM
    from gmlearn.gmpe.tree import TreeGMM

    models = {
        "tree": lambda: TreeGMM(random_state=seed),
        "monotone": lambda: MonotoneGMM(random_state=seed),
        "hybrid(CB14)": lambda: HybridGMM("CB14", random_state=seed),
    }
    if bnn:
        from gmlearn.gmpe.bnn import BayesianNNGMM

        models["bnn"] = lambda: BayesianNNGMM(random_state=seed)
    return models


def _remedies(seed: int) -> dict:
    from gmlearn.gmpe.tree import TreeGMM

    return {
        "tree+density": lambda: TreeGMM(sample_weight="density", random_state=seed),
        "tree+pseudo": lambda: TreeGMM(pseudo_records=0.1, random_state=seed),
        "tree(data only)": lambda: TreeGMM(base=None, scaling="free", random_state=seed),
    }


def _data() -> dict[str, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nz = datasets.load("nzsmd")
        nz = nz[nz["tectonic_region"] == "crustal"].reset_index(drop=True)
        nga = datasets.load("ngawest2_subset")
    return {"nzsmd_crustal": nz, "ngawest2_subset": nga}


def _log(msg: str) -> None:
    print(f"  .. {msg}", flush=True)


def _pivot(frame: pd.DataFrame, value: str) -> str:
    pivot = frame.pivot_table(index="model", columns="imt", values=value, aggfunc="first")
    return pivot[[i for i in IMTS if i in pivot.columns]].to_string(float_format=lambda v: f"{v:.3f}", na_rep="-")


def _cross(data: dict, models: dict) -> tuple[dict, pd.DataFrame, dict]:
    names = list(data)
    out, frames, fitted = {}, [], {}
    for src, dst in ((names[0], names[1]), (names[1], names[0])):
        direction = f"{src}->{dst}"
        print(f"\n== cross-region {direction}: train {len(data[src])} records, score {len(data[dst])} ==", flush=True)
        sc, models_fitted = cross_region(data[src], data[dst], models, GMPES, IMTS, train_region=src, test_region=dst,
                                         progress=_log)
        sc["direction"] = direction
        fitted[direction] = models_fitted
        frames.append(sc)
        for metric in ("rms", "bias", "tau", "phi", "coverage_68"):
            print(f"\n{metric}:\n{_pivot(sc, metric)}")
        out[direction] = sc
    return out, pd.concat(frames, ignore_index=True), fitted


def _cross_summary(scores: dict) -> tuple[dict, float, dict, dict]:
    best_ratio, coverage, worst_vs_base, best_model = {}, {}, 0.0, {}
    for direction, sc in scores.items():
        best_ratio[direction], coverage[direction], best_model[direction] = {}, {}, {}
        for imt in IMTS:
            s = sc[sc["imt"] == imt]
            gm = s[s["kind"] == "gmpe"]["rms"].min()
            learned = s[s["kind"] == "gmlearn"].set_index("model")
            best = learned["rms"].idxmin()
            best_ratio[direction][imt] = round(float(learned.loc[best, "rms"] / gm), 4)
            coverage[direction][imt] = round(float(learned.loc[best, "coverage_68"]), 4)
            best_model[direction][imt] = best
            for label, row in learned.iterrows():
                base = s[s["model"] == f"{label}:base"]
                if len(base):
                    worst_vs_base = max(worst_vs_base, float(row["rms"] / base["rms"].iloc[0]))
    return best_ratio, round(worst_vs_base, 4), coverage, best_model


def _grid(both: pd.DataFrame, models: dict, counted: set) -> tuple[int, list]:
    """Violations of every model; the total counts the models in ``counted`` (the classes' defaults)."""
    grid = consistent_scenarios()
    total, rows = 0, []
    for label, factory in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = factory().fit(both, IMTS)
            pred = model.predict(grid, IMTS)
        v = scaling_violations(grid, pred.mean)
        if label in counted:
            total += v["magnitude"] + v["distance"]
        rows.append({"model": label, "magnitude_violations": v["magnitude"], "distance_violations": v["distance"],
                     "worst_magnitude": round(v["worst_magnitude"], 4), "worst_distance": round(v["worst_distance"], 4),
                     "steps": v["steps"]})
        print(f"  {label:18s} magnitude {v['magnitude']:5d} (worst {v['worst_magnitude']:.3f})  "
              f"distance {v['distance']:5d} (worst {v['worst_distance']:.3f})  of {v['steps']} steps", flush=True)
    return total, rows


def _adaptation(data: dict, fitted: dict, cross: dict, seed: int, repeats: int) -> tuple[pd.DataFrame, dict]:
    from gmlearn.gmpe.tree import TreeGMM

    frames, ratio = [], {imt: 0.0 for imt in IMTS}
    for direction, models in fitted.items():
        dst = direction.split("->")[1]
        sc = cross[direction]
        gm = sc[sc["kind"] == "gmpe"].groupby("model")["rms"].mean()
        full = sc[sc["kind"] == "gmpe"].groupby("model")["imt"].nunique()
        gmpe = gm[full[full == len(IMTS)].index].idxmin()
        print(f"\n== adaptation {direction} (reference GMPE {gmpe}) ==", flush=True)
        per_model = []
        for j, (label, model) in enumerate(models.items()):
            curve = adaptation_curve(model, data[dst], IMTS, gmpe=gmpe, region=dst,
                                     scratch=(lambda: TreeGMM(random_state=seed)) if j == 0 else None,
                                     repeats=repeats, random_state=seed, progress=None)
            curve["model"] = label
            curve["direction"] = direction
            per_model.append(curve)
        curve = pd.concat(per_model, ignore_index=True)
        frames.append(curve)
        mean = curve.groupby(["k", "approach", "model", "imt"])["rms"].mean().reset_index()
        for k in ("1", "3", "10", "all"):
            part = mean[mean["k"] == k]
            if part.empty:
                continue
            adapted = part[part["approach"] == "adapted"].pivot(index="model", columns="imt", values="rms")
            other = part[part["approach"].isin(["gmpe", "gmpe+constant", "scratch"])].drop_duplicates(["approach", "imt"])
            other = other.pivot(index="approach", columns="imt", values="rms")
            table = pd.concat([other, adapted.rename(index=lambda m: f"adapted {m}")])
            print(f"\nk = {k}: mean RMS on the remaining target events\n"
                  + table[[i for i in IMTS if i in table.columns]].to_string(float_format=lambda v: f"{v:.3f}"))
        k3 = mean[mean["k"] == "3"]
        for imt in IMTS:
            s = k3[k3["imt"] == imt]
            best = s[s["approach"] == "adapted"]["rms"].min()
            const = s[s["approach"] == "gmpe+constant"]["rms"].iloc[0]
            ratio[imt] = max(ratio[imt], round(float(best / const), 4))
    return pd.concat(frames, ignore_index=True), ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5, help="event draws per k in the adaptation curve")
    parser.add_argument("--no-bnn", action="store_true", help="leave out the Bayesian NN (PyMC)")
    args = parser.parse_args(argv)
    start = time.time()
    data = _data()
    models = _models(args.seed, not args.no_bnn)
    cross, cross_frame, fitted = _cross(data, models)
    best_ratio, worst_vs_base, coverage, best_model = _cross_summary(cross)
    both = combine_regions(data, IMTS)
    print(f"\n== held-out bins (train on both datasets outside the bin; {len(both)} records) ==", flush=True)
    bins = held_out_bins(both, {**models, **_remedies(args.seed)}, GMPES, IMTS, progress=_log)
    bin_summary = {}
    for name, part in bins.groupby("bin", sort=False):
        learned = part[part["kind"] == "gmlearn"].groupby("model")["rms"].mean()
        gm = part[part["kind"] == "gmpe"].groupby("model")["rms"].mean()
        bin_summary[name] = {"best_model": learned.idxmin(), "best_model_mean_rms": round(float(learned.min()), 4),
                             "best_gmpe": gm.idxmin(), "best_gmpe_mean_rms": round(float(gm.min()), 4),
                             "mean_rms": {k: round(float(v), 4) for k, v in learned.items()}}
    for name, part in bins.groupby("bin", sort=False):
        print(f"\n-- bin {name}: {int(part['n_records'].iloc[0])} records --\nrms:\n{_pivot(part, 'rms')}\nbias:\n{_pivot(part, 'bias')}")
    print("\n== consistent-scenario grid (models trained on both datasets) ==", flush=True)
    remedies = _remedies(args.seed)
    violations, grid_rows = _grid(both, {**models, **remedies}, {k for k in [*models, *remedies] if "data only" not in k})
    curve, adapt_ratio = _adaptation(data, fitted, cross, args.seed, args.repeats)
    summary = {
        "cross_region_best_ratio": best_ratio,
        "cross_region_best_model": best_model,
        "worst_model_vs_base": worst_vs_base,
        "consistent_grid_violations": int(violations),
        "adapt_k3_ratio_vs_adjusted_gmpe": adapt_ratio,
        "coverage68_cross_region": coverage,
        "held_out_bins": bin_summary,
        "seconds": round(time.time() - start, 1),
    }
    print("\n== summary ==\n" + json.dumps(summary, indent=2))
    rows = []
    for frame, experiment in ((cross_frame, "cross_region"), (bins, "held_out_bin")):
        for r in frame.to_dict("records"):
            rows.append({"experiment": experiment, **{k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                                                      for k, v in r.items() if k in {"model", "kind", "imt", "n_records",
                                                      "n_events", "rms", "bias", "tau", "phi", "coverage_68", "direction", "bin"}}})
    rows += [{"experiment": "consistent_grid", **r} for r in grid_rows]
    agg = curve.groupby(["direction", "k", "approach", "model", "imt"])["rms"].mean().reset_index()
    rows += [{"experiment": "adaptation", **r} for r in agg.to_dict("records")]
    result = {
        "benchmark": "transfer",
        "command": "python benchmarks/transfer.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "data": "bundled NZSMD flatfile (crustal records, RotD50) and NGA-West2 subset; ln PGA, PGV, SA(0.2), SA(1.0), SA(3.0)",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "rows": rows,
        "summary": summary,
    }
    from gmlearn.store.atomic import atomic_write_json

    RESULTS.mkdir(exist_ok=True)
    atomic_write_json(RESULTS / "transfer.json", result)
    print(f"\nwrote {RESULTS / 'transfer.json'} in {summary['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
