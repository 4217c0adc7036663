"""Hazard benchmark: classical PSHA job time with native, gmlearn and OpenQuake machine-learning GSIMs.

Run from the repository root::

    python benchmarks/hazard.py [--repeats 3] [--spacing 10]

Job: OpenQuake's AreaSourceClassicalPSHA demo (one area source, Mw 5-6.5,
the demo's site grid at ``--spacing`` km, 45 levels per IMT, 50 years), run in
process by :func:`gmlearn.hazard.run` with ``OQ_DISTRIBUTE=no``.

* Verification: the demo as shipped (8 IMTs) with its native BooreAtkinson2008
  and with ``[GMLearnGSIM]`` pointing at ``save_model(OpenQuakeGMPE("BooreAtkinson2008"))``;
  the largest relative difference of the hazard curves (levels with poe > 0)
  and of the hazard maps.
* Timing: the demo's IMTs less SA(0.025) (NZSMD has no SA(0.025), so the tree
  model cannot predict it) with (a) native BooreEtAl2014 (BSSA14), (b) a
  TreeGMM (default settings) trained on NZSMD crustal records, through
  GMLearnGSIM, (c) OpenQuake's Taherian2024Inland (ONNX network; needs
  onnxruntime) and DerrasEtAl2014 (neural network). Same sources and sites;
  one warm-up run each, then the median of ``--repeats`` runs. Time is split
  into ``tasks`` (OpenQuake's classical and post-classical tasks), ``gsim``
  (inside GSIM ``compute``, part of ``tasks``) and ``startup`` (the rest:
  reading inputs, preclassical, storing). A last row runs BSSA14 itself
  through GMLearnGSIM (``OpenQuakeGMPE``) to separate the adapter's overhead
  from the tree model's own cost, and another runs the tree model with
  XGBoost's own prediction (``GMLEARN_COMPILE_TREES=0``) instead of the
  compiled lookup tables the adapter uses by default (gmlearn.gmpe.compiled).

Writes benchmarks/results/hazard.json.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import platform
import shutil
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

os.environ.setdefault("OQ_DISTRIBUTE", "no")

RESULTS = Path(__file__).resolve().parent / "results"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEMO = SHARED / "openquake_demos" / "hazard" / "AreaSourceClassicalPSHA"
TIMED_IMTS = ["PGA", "SA(0.05)", "SA(0.1)", "SA(0.2)", "SA(0.5)", "SA(1.0)", "SA(2.0)"]
LT = """<?xml version="1.0" encoding="UTF-8"?>
<nrml xmlns:gml="http://www.opengis.net/gml" xmlns="http://openquake.org/xmlns/nrml/0.4">
  <logicTree logicTreeID="lt1">
    <logicTreeBranchSet uncertaintyType="gmpeModel" branchSetID="bs1" applyToTectonicRegionType="Active Shallow Crust">
      <logicTreeBranch branchID="b1">
        <uncertaintyModel>{model}</uncertaintyModel>
        <uncertaintyWeight>1.0</uncertaintyWeight>
      </logicTreeBranch>
    </logicTreeBranchSet>
  </logicTree>
</nrml>
"""


def _copy_demo(work: Path, spacing: float) -> Path:
    folder = work / "AreaSourceClassicalPSHA"
    shutil.copytree(DEMO, folder)
    for file in folder.iterdir():
        file.chmod(0o644)
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.optionxform = str
    cfg.read(folder / "job.ini")
    cfg.remove_option("output", "export_dir")
    cfg.set("geometry", "region_grid_spacing", str(spacing))
    with (folder / "job.ini").open("w") as fh:
        cfg.write(fh)
    return folder / "job.ini"


def _lt(folder: Path, name: str, model: str) -> str:
    (folder / f"{name}.xml").write_text(LT.format(model=model))
    return f"{name}.xml"


def _rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    scale = np.maximum(np.abs(a), np.abs(b))
    ok = scale > 0
    return float(np.max(np.abs(a - b)[ok] / scale[ok])) if ok.any() else 0.0


def _verify(job: Path, data_dir: Path) -> dict:
    from gmlearn import hazard
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    save_model(OpenQuakeGMPE("BooreAtkinson2008"), job.parent / "ba08")
    lt = _lt(job.parent, "verify_lt", '[GMLearnGSIM]\n        model_file = "ba08/metadata.json"')
    native = hazard.run(job, data_dir=data_dir)  # the demo's own gmpe_logic_tree.xml
    wrapped = hazard.run(job, data_dir=data_dir, params={"gsim_logic_tree_file": lt})
    a, b = native.hazard_curves, wrapped.hazard_curves
    return {
        "sites": len(native.sites), "imts": int(a["imt"].nunique()), "curve_values": len(a),
        "max_rel_diff_curves": _rel_diff(a["poe"].to_numpy(), b["poe"].to_numpy()),
        "max_rel_diff_maps": _rel_diff(native.hazard_maps["iml"].to_numpy(), wrapped.hazard_maps["iml"].to_numpy()),
        "wall_native_s": native.timings["wall"], "wall_gmlearn_s": wrapped.timings["wall"],
    }


def _train_tree(folder: Path, seed: int) -> tuple[Path, float, dict]:
    from gmlearn import datasets
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.tree import TreeGMM

    table = datasets.load("nzsmd")
    table = table[table["tectonic_region"] == "crustal"].reset_index(drop=True)
    t0 = time.perf_counter()
    model = TreeGMM(random_state=seed).fit(table, TIMED_IMTS)
    seconds = time.perf_counter() - t0
    rounds = {imt: int(model.effects_[imt]["rounds"]) for imt in TIMED_IMTS}
    return save_model(model, folder / "tree"), seconds, rounds


def _time(job: Path, data_dir: Path, lt: str, repeats: int) -> dict:
    from gmlearn import hazard

    params = {"gsim_logic_tree_file": lt,
              "intensity_measure_types_and_levels": json.dumps({i: "LEVELS" for i in TIMED_IMTS}).replace(
                  '"LEVELS"', "logscale(0.005, 2.13, 45)")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = hazard.run(job, data_dir=data_dir, params=params)  # warm-up: imports, numba, model load
        runs = [hazard.run(job, data_dir=data_dir, params=params) for _ in range(repeats)]
    med = {k: float(np.median([r.timings[k] for r in runs])) for k in ("wall", "tasks", "gsim", "startup")}
    curves = first.hazard_curves
    return {**{f"{k}_s": round(v, 3) for k, v in med.items()},
            "wall_runs_s": [round(r.timings["wall"], 3) for r in runs],
            "warmup_wall_s": round(first.timings["wall"], 3),
            "mean_poe_PGA_0.1g": float(np.interp(0.1, *curves[curves["imt"] == "PGA"].groupby("iml")["poe"].mean()
                                                 .reset_index().to_numpy().T))}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--spacing", type=float, default=10.0, help="site grid spacing, km (the demo's is 10)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gmlearn-hazard-bench-"))
    os.environ["GMLEARN_DATA_DIR"] = str(work / "data")
    data_dir = work / "oq"
    try:
        job = _copy_demo(work, args.spacing)
        check = _verify(job, data_dir)
        print(f"verification: max rel diff curves {check['max_rel_diff_curves']:.2e}, maps {check['max_rel_diff_maps']:.2e} "
              f"({check['sites']} sites, {check['imts']} IMTs)")
        tree, train_s, rounds = _train_tree(job.parent, args.seed)
        from gmlearn.gmpe.persistence import save_model
        from gmlearn.gmpe.reference import OpenQuakeGMPE

        save_model(OpenQuakeGMPE("BooreEtAl2014"), job.parent / "bssa14")
        candidates = {
            "native BooreEtAl2014 (BSSA14)": "BooreEtAl2014",
            "gmlearn TreeGMM via GMLearnGSIM": '[GMLearnGSIM]\n        model_file = "tree/metadata.json"',
            "Taherian2024Inland (ONNX)": "Taherian2024Inland",
            "DerrasEtAl2014 (neural network)": "DerrasEtAl2014",
            "BSSA14 wrapped: OpenQuakeGMPE via GMLearnGSIM": '[GMLearnGSIM]\n        model_file = "bssa14/metadata.json"',
            "TreeGMM via GMLearnGSIM, trees not compiled": '[GMLearnGSIM]\n        model_file = "tree/metadata.json"',
        }
        from gmlearn.hazard.gsim import clear_cache
        rows = []
        for k, (label, model) in enumerate(candidates.items()):
            row: dict = {"model": label, "gsim": model.split("\n")[0], "sites": check["sites"], "imts": len(TIMED_IMTS),
                         "levels_per_imt": 45, "repeats": args.repeats}
            clear_cache()  # each candidate loads its model afresh
            if "not compiled" in label:
                os.environ["GMLEARN_COMPILE_TREES"] = "0"  # XGBoost's own predict (gmlearn.gmpe.compiled off)
            else:
                os.environ.pop("GMLEARN_COMPILE_TREES", None)
            try:
                row.update(_time(job, data_dir, _lt(job.parent, f"lt{k}", model), args.repeats), status="ok")
            except Exception as exc:  # noqa: BLE001 - a model that cannot run is reported, not fatal
                row.update(status="failed", reason=f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300]}")
            if "TreeGMM" in label and "not compiled" not in label:
                row.update(train_s=round(train_s, 2), boosting_rounds=rounds)
            rows.append(row)
            print(f"{label:36s} " + (f"wall {row['wall_s']:7.2f} s  tasks {row['tasks_s']:7.2f} s  gsim {row['gsim_s']:7.2f} s  "
                                     f"startup {row['startup_s']:6.2f} s" if row["status"] == "ok" else row["reason"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    wall = {r["model"]: r.get("wall_s") for r in rows}
    gsim = {r["model"]: r.get("gsim_s") for r in rows}
    names = list(candidates)

    def ratio(table: dict, a: str, b: str) -> float | None:
        return round(table[a] / table[b], 3) if table.get(a) and table.get(b) else None

    summary = {
        "verification_max_rel_diff": max(check["max_rel_diff_curves"], check["max_rel_diff_maps"]),
        "time_ratio_tree_vs_native": ratio(wall, names[1], names[0]),
        "time_ratio_tree_vs_onnx": ratio(wall, names[1], names[2]),
        "time_ratio_tree_vs_derras": ratio(wall, names[1], names[3]),
        "gsim_time_ratio_tree_vs_native": ratio(gsim, names[1], names[0]),
        "gsim_time_ratio_tree_vs_onnx": ratio(gsim, names[1], names[2]),
        "gsim_time_ratio_tree_vs_derras": ratio(gsim, names[1], names[3]),
        "time_ratio_wrapped_bssa14_vs_native": ratio(wall, names[4], names[0]),
        "gsim_time_ratio_uncompiled_vs_compiled_tree": ratio(gsim, names[5], names[1]),
    }
    out = {
        "benchmark": "hazard",
        "command": f"python benchmarks/hazard.py --repeats {args.repeats} --spacing {args.spacing:g}",
        "data": ("OpenQuake demo AreaSourceClassicalPSHA (../shared/data/openquake_demos/hazard), site grid "
                 f"{args.spacing:g} km; TreeGMM trained on gmlearn.datasets nzsmd crustal records"),
        "machine": (f"{platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}, "
                    f"openquake-engine {_version('openquake.engine')}, xgboost {_version('xgboost')}, "
                    f"onnxruntime {_version('onnxruntime')}, OQ_DISTRIBUTE={os.environ.get('OQ_DISTRIBUTE')}"),
        "rows": [{"model": "verification: native BooreAtkinson2008 vs GMLearnGSIM(OpenQuakeGMPE)",
                  "status": "ok", **check}, *rows],
        "summary": summary,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "hazard.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
