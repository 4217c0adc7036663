"""Ecosystem checks, scikit-learn and ShakeMap parts: estimator checks, GroupKFold CV, CF compliance, MMI.

Run from the repository root::

    python benchmarks/ecosystem_sklearn_shakemap.py

1. scikit-learn's estimator checks (``check_estimator``, sklearn as installed) on
   TreeGMM, MonotoneGMM, HybridGMM, XGBoostBaseline, BayesianNNGMM and
   OpenQuakeGMPE, with the checks that named physical columns make impossible
   listed in :mod:`gmlearn.gmpe.estimator_checks` (a listed check that passes
   counts as unexplained too).
2. ``cross_val_score`` and ``GridSearchCV`` with ``GroupKFold`` and
   ``groups=event_id`` on the NZSMD crustal records (2319 records, 135 events),
   TreeGMM with few trees.
3. CF-1.8 compliance (IOOS compliance-checker) of the netCDF of the 2013 Lake
   Grassmere map conditioned on its 99 NZSMD records (grid and site list).
4. MMI (Worden et al. 2012 GMICE) in every output format, and grid.xml /
   uncertainty.xml read back by OpenQuake's ShakeMap parser.

The functions ``sklearn_checks``, ``cf_compliance_errors`` and ``gmice_mmi``
(or ``summary_figures``, all four at once) return the figures of ``benchmarks/results/ecosystem.json``'s summary
(``sklearn_checks_passed``, ``sklearn_checks_failed_unexplained``,
``cf_compliance_errors``, ``gmice_mmi``). Writes
benchmarks/results/ecosystem_sklearn_shakemap.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
GRASSMERE = "2013p613797"
SHAKEMAP_IMTS = ["PGA", "PGV", "SA(0.3)", "SA(1.0)", "SA(3.0)"]
FAST = {"n_estimators": 200, "learning_rate": 0.1, "n_validation_splits": 1, "early_stopping_rounds": 20, "n_jobs": 1}


def _machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def sklearn_checks() -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One row per estimator (passed, expected failures, unexplained failures) and the totals."""
    from gmlearn.gmpe.baseline import XGBoostBaseline
    from gmlearn.gmpe.bnn import BayesianNNGMM
    from gmlearn.gmpe.estimator_checks import run_checks
    from gmlearn.gmpe.hybrid import HybridGMM
    from gmlearn.gmpe.monotone import MonotoneGMM
    from gmlearn.gmpe.reference import OpenQuakeGMPE
    from gmlearn.gmpe.tree import TreeGMM

    estimators = [TreeGMM(**FAST), MonotoneGMM(**FAST), HybridGMM(**FAST), XGBoostBaseline(**FAST),
                  BayesianNNGMM(n_iter=50, draws=10), OpenQuakeGMPE("BooreEtAl2014")]
    rows = []
    for est in estimators:
        res = run_checks(est)
        rows.append({"part": "sklearn_checks", "estimator": type(est).__name__, "passed": res["passed"],
                     "expected_failures": res["expected_failures"], "failed_unexplained": res["failed_unexplained"],
                     "skipped": res["skipped"], "unexplained": res["unexplained"]})
    totals = {"sklearn_checks_passed": sum(r["passed"] for r in rows),
              "sklearn_checks_failed_unexplained": sum(r["failed_unexplained"] for r in rows),
              "sklearn_checks_expected_failures": sum(r["expected_failures"] for r in rows)}
    return rows, totals


def sklearn_cv(table: Any) -> list[dict[str, Any]]:
    """cross_val_score and GridSearchCV with GroupKFold(5), groups=event_id, on the crustal records."""
    from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score

    from gmlearn.gmpe.tree import TreeGMM

    imts = ["PGA", "SA(1.0)"]
    X, y = table.drop(columns=imts), table[imts]
    groups = X["event_id"]
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        scores = cross_val_score(TreeGMM(**FAST), X, y, groups=groups, cv=GroupKFold(n_splits=5))
        t1 = time.perf_counter()
        search = GridSearchCV(TreeGMM(**FAST), {"max_depth": [1, 2, 3]}, cv=GroupKFold(n_splits=5)).fit(X, y, groups=groups)
        t2 = time.perf_counter()
    rows.append({"part": "sklearn_cv", "call": "cross_val_score(TreeGMM, cv=GroupKFold(5), groups=event_id)",
                 "scores": [round(float(s), 4) for s in scores], "mean_score": round(float(scores.mean()), 4),
                 "seconds": round(t1 - t0, 1)})
    rows.append({"part": "sklearn_cv", "call": "GridSearchCV(TreeGMM, {'max_depth': [1, 2, 3]}, cv=GroupKFold(5))",
                 "mean_test_score": [round(float(s), 4) for s in search.cv_results_["mean_test_score"]],
                 "best_params": search.best_params_, "seconds": round(t2 - t1, 1)})
    return rows


def _grassmere_map(imts: list[str], *, sites: Any = None, gmice: str = "WordenEtAl2012") -> Any:
    from gmlearn import datasets
    from gmlearn.gmpe.reference import OpenQuakeGMPE
    from gmlearn.shakemap.rupture import Rupture
    from gmlearn.shakemap.scenario import compute_shakemap
    from gmlearn.shakemap.sites import grid_sites
    from gmlearn.shakemap.stations import stations_from_records

    table = datasets.load("nzsmd")
    records = table[table["event_id"] == GRASSMERE].reset_index(drop=True)
    ev = records.iloc[0]
    rupture = Rupture.from_parameters(lon=ev["hypo_lon"], lat=ev["hypo_lat"], depth=ev["hypo_depth"], mag=ev["mag"],
                                      strike=ev["strike"], dip=ev["dip"], rake=ev["rake"], length=ev["length"],
                                      width=ev["width"])
    stations = stations_from_records(records, ["PGA", "SA(1.0)"])
    sites = sites if sites is not None else grid_sites((173.4, -42.2, 174.8, -41.0), 0.05, vs30=400.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compute_shakemap(rupture, sites, OpenQuakeGMPE("BooreEtAl2014"), imts, stations, gmice=gmice)


def cf_compliance_errors() -> tuple[list[dict[str, Any]], int]:
    """compliance-checker (cf:1.8) errors of the Grassmere map's netCDF, grid and site list."""
    import pandas as pd

    from gmlearn.shakemap.export import cf_compliance, write_netcdf
    from gmlearn.shakemap.sites import read_sites

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        grid = _grassmere_map(SHAKEMAP_IMTS)
        site_csv = Path(tmp) / "sites.csv"
        pd.DataFrame({"lon": [173.9, 174.2, 174.0], "lat": [-41.6, -41.8, -41.4], "vs30": [250.0, 500.0, 760.0]}).to_csv(
            site_csv, index=False)
        site_list = _grassmere_map(["PGA", "SA(1.0)"], sites=read_sites(site_csv))
        for label, sm in (("grid", grid), ("site list", site_list)):
            report = cf_compliance(write_netcdf(sm.dataset, Path(tmp) / f"{label.replace(' ', '_')}.nc"))
            rows.append({"part": "cf_compliance", "netcdf": label, "errors": report["errors"],
                         "score": f"{report['scored']}/{report['possible']}", "messages": report["messages"]})
    return rows, sum(r["errors"] for r in rows)


def gmice_mmi() -> tuple[list[dict[str, Any]], bool]:
    """MMI in every output format of the Grassmere map, and OpenQuake reading grid.xml + uncertainty.xml."""
    import pandas as pd
    from openquake.hazardlib.shakemap.parsers import get_shakemap_array

    from gmlearn.shakemap.export import read_netcdf

    sm = _grassmere_map(SHAKEMAP_IMTS)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "map"
        sm.write(out)
        nc = read_netcdf(out / "shakemap.nc")
        csv = pd.read_csv(out / "shakemap.csv")
        contours = json.loads((out / "contours_MMI.geojson").read_text())["features"]
        arr = get_shakemap_array(str(out / "grid.xml"), str(out / "uncertainty.xml"))

        def north_to_south(layer: Any) -> np.ndarray:  # ShakeMap rows run from the north-west corner
            return layer.sortby("lat", ascending=False).to_numpy().ravel()

        present = {
            "netcdf": "mmi" in nc and "mmi_sigma" in nc,
            "csv": {"mmi", "mmi_sigma"} <= set(csv.columns),
            "geojson": len(contours) > 0,
            "png": (out / "map_MMI.png").stat().st_size > 1000,
            "grid.xml": bool(np.allclose(arr["val"]["MMI"], north_to_south(nc["mmi"]), rtol=1e-4)),
            "uncertainty.xml": bool(np.allclose(arr["std"]["MMI"], north_to_south(nc["mmi_sigma"]), rtol=1e-4)),
        }
        north_west = nc["mmi"].isel(lat=-1, lon=0).item()
        row = {"part": "gmice_mmi", "gmice": "WordenEtAl2012", "source_imt": json.loads(nc.attrs["gmice"])["imt"],
               "mmi_min": round(float(nc["mmi"].min()), 2), "mmi_max": round(float(nc["mmi"].max()), 2),
               "mmi_sigma_range": [round(float(nc["mmi_sigma"].min()), 3), round(float(nc["mmi_sigma"].max()), 3)],
               "openquake_mmi_north_west": round(float(arr["val"]["MMI"][0]), 3), "netcdf_mmi_north_west": round(north_west, 3),
               "openquake_fields": list(arr["val"].dtype.names), "present": present}
    ok = all(present.values()) and abs(row["openquake_mmi_north_west"] - row["netcdf_mmi_north_west"]) < 1e-3
    return [row], ok


def summary_figures() -> dict[str, Any]:
    """The four figures of ``ecosystem.json``'s summary, from :func:`sklearn_checks`,
    :func:`cf_compliance_errors` and :func:`gmice_mmi` (about 15 s; for ``benchmarks/ecosystem.py``)."""
    _, totals = sklearn_checks()
    _, cf_errors = cf_compliance_errors()
    _, mmi_ok = gmice_mmi()
    return {"sklearn_checks_passed": totals["sklearn_checks_passed"],
            "sklearn_checks_failed_unexplained": totals["sklearn_checks_failed_unexplained"],
            "cf_compliance_errors": cf_errors, "gmice_mmi": mmi_ok}


def main() -> None:
    from gmlearn import datasets

    t0 = time.perf_counter()
    check_rows, totals = sklearn_checks()
    table = datasets.load("nzsmd")
    crustal = table[table["tectonic_region"] == "crustal"].reset_index(drop=True)
    cv_rows = sklearn_cv(crustal)
    cf_rows, cf_errors = cf_compliance_errors()
    mmi_rows, mmi_ok = gmice_mmi()
    summary = {**totals, "cf_compliance_errors": cf_errors, "gmice_mmi": mmi_ok,
               "group_kfold_cross_val_score_mean": cv_rows[0]["mean_score"], "seconds": round(time.perf_counter() - t0, 1)}
    print(f"{'estimator':<16}{'passed':>8}{'expected':>10}{'unexplained':>13}{'skipped':>9}")
    for r in check_rows:
        print(f"{r['estimator']:<16}{r['passed']:>8}{r['expected_failures']:>10}{r['failed_unexplained']:>13}{r['skipped']:>9}")
    for r in cv_rows:
        print(f"{r['call']}: {r.get('scores', r.get('mean_test_score'))} ({r['seconds']} s)")
    for r in cf_rows:
        print(f"CF-1.8 {r['netcdf']}: {r['errors']} errors, score {r['score']}")
    print(f"MMI from {mmi_rows[0]['source_imt']}: {mmi_rows[0]['mmi_min']}-{mmi_rows[0]['mmi_max']}, "
          f"sigma {mmi_rows[0]['mmi_sigma_range']}, in {mmi_rows[0]['present']}")
    print(json.dumps(summary))
    RESULTS.mkdir(exist_ok=True)
    result = {"benchmark": "ecosystem_sklearn_shakemap", "command": "python benchmarks/ecosystem_sklearn_shakemap.py",
              "data": "NZSMD bundled dataset: crustal records (2319, 135 events) for CV; 2013 Lake Grassmere Mw 6.6 "
                      "(99 records) for the shakemap",
              "machine": _machine(), "rows": [*check_rows, *cv_rows, *cf_rows, *mmi_rows], "summary": summary}
    (RESULTS / "ecosystem_sklearn_shakemap.json").write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    sys.exit(main())
