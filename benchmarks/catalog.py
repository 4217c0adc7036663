"""Catalogue benchmark on the full GeoNet MLNZ20 catalogue (2024 to mid-2026, 53,060 unique events).

Run from the repository root::

    python benchmarks/catalog.py [--runs 5] [--spacing 0.2]

Compares gmlearn.catalog with the reference implementations on the same data:
Mc (maximum curvature, b-value stability) against seismostats; Aki-Utsu and
Weichert b-values against OpenQuake hmtk; Gardner-Knopoff declustering
(three windows) against hmtk's GardnerKnopoffType1 (same removed events and
run time); Reasenberg, Zaliapin and DBSCAN fractions; and a smoothed-seismicity
source model run through OpenQuake's classical PSHA. Prints a table and writes
benchmarks/results/catalog.json.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from gmlearn.catalog.bvalue import aki_utsu, b_positive, weichert
from gmlearn.catalog.clustering import cluster_space_time
from gmlearn.catalog.completeness import mc_b_stability, mc_goodness_of_fit, mc_max_curvature
from gmlearn.catalog.declustering_gk import gardner_knopoff
from gmlearn.catalog.declustering_reasenberg import reasenberg
from gmlearn.catalog.declustering_zaliapin import zaliapin
from gmlearn.catalog.fmd import bin_magnitudes
from gmlearn.catalog.psha import hazard_curves
from gmlearn.catalog.readers import read_mlnz20
from gmlearn.catalog.smoothing import smoothed_seismicity
from gmlearn.catalog.sources import SourceSettings, write_source_model
from gmlearn.store.atomic import atomic_write_json

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "catalog_geonet_nz"
RESULTS = ROOT / "benchmarks" / "results"
WINDOWS = {"gardner_knopoff": "GardnerKnopoffWindow", "uhrhammer": "UhrhammerWindow", "gruenthal": "GruenthalWindow"}
SITES = {"Wellington": (174.78, -41.29), "Christchurch": (172.64, -43.53), "Tauranga": (176.17, -37.69)}
NZ_REGION = (165.0, 190.0, -50.0, -30.0)


def _machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {load:.1f} at start")


def _timed(func: Callable[[], Any], runs: int = 1) -> tuple[Any, float]:
    """Result of the last call and the median wall time (s) of ``runs`` calls."""
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def _hmtk_catalogue(catalog: pd.DataFrame, mags: np.ndarray | None = None) -> Any:
    from openquake.hmtk.seismicity.catalogue import Catalogue

    t = catalog["time"].dt
    return Catalogue.make_from_dict({
        "eventID": catalog["event_id"].astype(str).to_numpy(), "year": t.year.to_numpy(), "month": t.month.to_numpy(),
        "day": t.day.to_numpy(), "hour": t.hour.to_numpy(), "minute": t.minute.to_numpy(),
        "second": t.second.to_numpy() + t.microsecond.to_numpy() / 1e6, "longitude": catalog["lon"].to_numpy(),
        "latitude": catalog["lat"].to_numpy(), "depth": catalog["depth"].to_numpy(),
        "magnitude": catalog["mag"].to_numpy() if mags is None else mags,
    })


def _row(step: str, method: str, value: Any, reference: str = "", reference_value: Any = None,
         seconds: float | None = None, reference_seconds: float | None = None, note: str = "") -> dict[str, Any]:
    diff = None
    if isinstance(value, (int, float)) and isinstance(reference_value, (int, float)):
        diff = round(abs(float(value) - float(reference_value)), 6)
    return {"step": step, "method": method, "value": value, "reference": reference, "reference_value": reference_value,
            "abs_diff": diff, "seconds": None if seconds is None else round(seconds, 4),
            "reference_seconds": None if reference_seconds is None else round(reference_seconds, 4), "note": note}


def bench_mc(catalog: pd.DataFrame) -> tuple[list[dict], dict]:
    from seismostats.analysis import UtsuBValueEstimator, estimate_mc_b_stability, estimate_mc_maxc

    mags = bin_magnitudes(catalog["mag"].to_numpy(), 0.1)
    rows, summary = [], {}
    for corr in (0.0, 0.2):
        ours, sec = _timed(lambda c=corr: mc_max_curvature(mags, 0.1, c).mc, 3)
        ref, ref_sec = _timed(lambda c=corr: estimate_mc_maxc(mags, 0.1, correction_factor=c)[0], 3)
        rows.append(_row("mc", f"max_curvature (+{corr})", ours, "seismostats estimate_mc_maxc", float(ref), sec, ref_sec))
        summary[f"mc_max_curvature_{corr}"] = {"gmlearn": ours, "seismostats": float(ref)}
    ours, sec = _timed(lambda: mc_b_stability(mags, 0.1).mc, 3)
    with contextlib.redirect_stdout(io.StringIO()):  # seismostats prints
        ref, ref_sec = _timed(lambda: estimate_mc_b_stability(mags, 0.1, b_method=UtsuBValueEstimator)[0], 3)
    rows.append(_row("mc", "b_stability", ours, "seismostats estimate_mc_b_stability (Utsu)", float(ref), sec, ref_sec))
    summary["mc_b_stability"] = {"gmlearn": ours, "seismostats": float(ref)}
    gof, sec = _timed(lambda: mc_goodness_of_fit(mags, 0.1), 1)
    rows.append(_row("mc", f"goodness_of_fit ({gof.details['level']:.0f} %)", gof.mc, seconds=sec, note="no reference"))
    summary["mc_goodness_of_fit"] = {"gmlearn": gof.mc, "level": gof.details["level"]}
    summary["mc_same_as_seismostats"] = all(abs(v["gmlearn"] - v["seismostats"]) < 1e-9
                                            for k, v in summary.items() if isinstance(v, dict) and "seismostats" in v)
    return rows, summary


def bench_bvalue(catalog: pd.DataFrame, mc: float) -> tuple[list[dict], dict]:
    from openquake.hmtk.seismicity.occurrence.b_maximum_likelihood import BMaxLikelihood
    from openquake.hmtk.seismicity.occurrence.weichert import Weichert

    binned = catalog.assign(mag=bin_magnitudes(catalog["mag"].to_numpy(), 0.1))
    rows, diffs = [], []
    aki, sec = _timed(lambda: aki_utsu(binned, mc, 0.1), 3)
    config = {"Average Type": "Weighted", "magnitude_interval": 0.1, "reference_magnitude": None}
    hmtk_cat = _hmtk_catalogue(binned, binned["mag"].to_numpy() + 0.025)  # quarter-bin offset: see tests
    with contextlib.redirect_stdout(io.StringIO()):
        (b_ref, *_), ref_sec = _timed(lambda: BMaxLikelihood().calculate(hmtk_cat, dict(config), completeness=np.array([[2024.0, mc]])), 3)
    rows.append(_row("b-value", f"aki_utsu (Mc {mc})", round(aki.b, 6), "hmtk BMaxLikelihood", round(float(b_ref), 6), sec, ref_sec,
                     note=f"sigma_b {aki.sigma_b:.4f} (Shi & Bolt), n {aki.n}"))
    diffs.append(abs(aki.b - b_ref))
    table = [("2025-01-01", mc), ("2024-01-01", mc + 0.4)]
    hmtk_table = np.array([[2025.0, mc], [2024.0, mc + 0.4]])
    wfit, sec = _timed(lambda: weichert(binned, table, 0.1, end_time="2027-01-01"), 3)
    wconf = {"magnitude_interval": 0.1, "reference_magnitude": 0.0, "bvalue": 1.0, "itstab": 1e-5, "maxiter": 1000}
    (w_ref, *_), ref_sec = _timed(lambda: Weichert().calculate(_hmtk_catalogue(binned), dict(wconf), completeness=hmtk_table), 1)
    rows.append(_row("b-value", f"weichert (M>={mc} since 2025, M>={mc + 0.4:.1f} since 2024)", round(wfit.b, 6),
                     "hmtk Weichert", round(float(w_ref), 6), sec, ref_sec, note=f"sigma_b {wfit.sigma_b:.4f}, n {wfit.n}"))
    diffs.append(abs(wfit.b - w_ref))
    bpos, sec = _timed(lambda: b_positive(binned, 0.1, mc=mc, dmc=0.2), 3)
    rows.append(_row("b-value", f"b_positive (M>={mc}, dM'>=0.2)", round(bpos.b, 6), seconds=sec,
                     note=f"sigma_b {bpos.sigma_b:.4f}, n {bpos.n}; no reference"))
    summary = {"b_value_diff_vs_hmtk": round(float(max(diffs)), 8),
               "b_values": {"aki_utsu": round(aki.b, 4), "aki_utsu_hmtk": round(float(b_ref), 4),
                            "weichert": round(wfit.b, 4), "weichert_hmtk": round(float(w_ref), 4),
                            "b_positive": round(bpos.b, 4), "mc": mc}}
    return rows, summary


def _hmtk_gk(catalog: pd.DataFrame, window: str) -> np.ndarray:
    from openquake.hmtk.seismicity.declusterer import distance_time_windows as windows
    from openquake.hmtk.seismicity.declusterer.dec_gardner_knopoff import GardnerKnopoffType1

    config = {"time_distance_window": getattr(windows, WINDOWS[window])(), "fs_time_prop": 1.0}
    with np.errstate(invalid="ignore"):
        return GardnerKnopoffType1().decluster(_hmtk_catalogue(catalog), config)[1]


def bench_gk(catalog: pd.DataFrame, runs: int) -> tuple[list[dict], dict]:
    rows, summary, same = [], {}, []
    for window in WINDOWS:
        compat, sec_compat = _timed(lambda w=window: gardner_knopoff(catalog, w, hmtk_compatible=True), runs)
        exact, sec_exact = _timed(lambda w=window: gardner_knopoff(catalog, w), runs)
        flag, ref_sec = _timed(lambda w=window: _hmtk_gk(catalog, w), 1)
        equal = bool(np.array_equal(compat.flag, flag))
        same.append(equal)
        rows.append(_row("decluster", f"gardner_knopoff[{window}] hmtk_compatible", compat.n_removed,
                         "hmtk GardnerKnopoffType1 (removed events)", int(np.count_nonzero(flag)), sec_compat, ref_sec,
                         note=f"same removed events: {equal}; fraction {compat.fraction_removed:.4f}"))
        rows.append(_row("decluster", f"gardner_knopoff[{window}] exact times", exact.n_removed, seconds=sec_exact,
                         note=f"{int(np.count_nonzero(exact.removed != compat.removed))} events differ from hmtk's day-resolution result"))
        summary[window] = {"seconds": round(sec_exact, 4), "seconds_hmtk_compatible": round(sec_compat, 4),
                           "seconds_hmtk": round(ref_sec, 3), "same_events_as_hmtk": equal,
                           "fraction_removed": round(exact.fraction_removed, 4)}
    gk = summary["gardner_knopoff"]
    return rows, {
        "decluster_same_events_as_hmtk": all(same),
        "decluster_seconds": gk["seconds"],
        "decluster_seconds_hmtk_compatible": gk["seconds_hmtk_compatible"],
        "decluster_seconds_hmtk": gk["seconds_hmtk"],
        "decluster_goal_1s_met": gk["seconds"] <= 1.0,
        "decluster_by_window": summary,
    }


def bench_fractions(catalog: pd.DataFrame, mc: float) -> tuple[list[dict], dict]:
    above = catalog[bin_magnitudes(catalog["mag"].to_numpy(), 0.1) >= mc].reset_index(drop=True)
    rows, fractions = [], {}
    for name, func in {"gardner_knopoff": lambda: gardner_knopoff(above), "reasenberg": lambda: reasenberg(above),
                       "zaliapin": lambda: zaliapin(above, random_state=0)}.items():
        result, sec = _timed(func, 1)
        fractions[name] = round(result.fraction_removed, 4)
        extra = f"; log10 eta0 {result.extra['threshold']:.2f}" if name == "zaliapin" else ""
        rows.append(_row("decluster", f"{name} (M>={mc}, {len(above)} events)", round(result.fraction_removed, 4),
                         seconds=sec, note=f"fraction removed; {result.n_clusters} clusters{extra}"))
    dbscan, sec = _timed(lambda: cluster_space_time(above, "dbscan"), 1)
    fractions["dbscan_clustered"] = round(dbscan.fraction_clustered, 4)
    kinds = dbscan.summary["kind"].value_counts().to_dict()
    rows.append(_row("cluster", f"dbscan (M>={mc})", round(dbscan.fraction_clustered, 4), seconds=sec,
                     note=f"fraction clustered; {dbscan.n_clusters} clusters: {kinds}"))
    return rows, {"declustered_fraction": fractions, "events_above_mc": int(len(above))}


def bench_psha(catalog: pd.DataFrame, mc: float, spacing: float, out_dir: Path) -> tuple[list[dict], dict]:
    above = catalog[bin_magnitudes(catalog["mag"].to_numpy(), 0.1) >= mc].reset_index(drop=True)
    declustered = gardner_knopoff(above).declustered(above)
    span = (catalog["time"].max() - catalog["time"].min()) / pd.Timedelta(days=365.25)
    b = aki_utsu(above, mc, 0.1).b  # b of all events above Mc (as gmlearn.catalog.workflow), rates declustered
    rates, sec_smooth = _timed(lambda: smoothed_seismicity(declustered, mc, b, kernel="adaptive", spacing_deg=spacing,
                                                           region=NZ_REGION, max_depth_km=40, duration_years=span), 1)
    settings = SourceSettings(mmin=4.5, mmax=8.0, min_rate=1e-6)
    path, sec_write = _timed(lambda: write_source_model(out_dir / "nz_smoothed.xml", rates, settings), 1)
    n_sources = path.read_text().count("<pointSource")
    imtls = {"PGA": list(np.geomspace(0.005, 2.0, 20))}
    curves, sec_psha = _timed(lambda: hazard_curves(path, list(SITES.values()), imtls, gsim="Bradley2013"), 1)
    rows = [
        _row("smooth", f"adaptive kernel, {spacing} deg, M>={mc} declustered, depth<=40 km", round(rates.total_rate, 2),
             seconds=sec_smooth, note=f"events/yr >= Mc; b {b:.3f}; {rates.n_events} events"),
        _row("smooth", "NRML point sources (M 4.5-8.0)", n_sources, seconds=sec_write, note=str(path.name)),
    ]
    pga475 = {}
    for sid, name in enumerate(SITES):
        curve = curves[(curves["site"] == sid) & (curves["imt"] == "PGA")].sort_values("iml")
        poe = curve["poe"].to_numpy()
        monotone = bool(np.all(np.diff(poe) <= 0))
        pga475[name] = round(float(np.exp(np.interp(np.log(0.1), np.log(poe[::-1] + 1e-300), np.log(curve["iml"].to_numpy()[::-1])))), 4)
        rows.append(_row("psha", f"{name} PGA, 10 % in 50 yr (g), Bradley2013", pga475[name],
                         seconds=sec_psha if sid == 0 else None, note=f"curve decreasing: {monotone}"))
    return rows, {"psha_seconds": round(sec_psha, 2), "smoothing_seconds": round(sec_smooth, 3),
                  "nrml_write_seconds": round(sec_write, 2), "psha_n_sources": n_sources, "psha_sites": len(SITES),
                  "psha_pga_10pc_50yr_g": pga475, "psha_b_value": round(b, 4)}


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _print(rows: list[dict]) -> None:
    cols = ["step", "method", "value", "reference_value", "abs_diff", "seconds", "reference_seconds", "note"]
    frame = pd.DataFrame([{c: _fmt(r[c]) for c in cols} for r in rows])
    with pd.option_context("display.width", 250, "display.max_colwidth", 80, "display.max_rows", 100):
        print(frame.to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Timed runs of each gmlearn declustering (median reported).")
    parser.add_argument("--spacing", type=float, default=0.2, help="Grid spacing (deg) of the PSHA source model.")
    args = parser.parse_args()
    machine = _machine()
    files = sorted(DATA.glob("MLNZ20_RapidEvents_*.csv.gz"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        catalog, sec_read = _timed(lambda: read_mlnz20(files), 1)
    report = catalog.attrs["catalog_report"]
    rows = [_row("read", "read_mlnz20 (3 files)", len(catalog), seconds=sec_read,
                 note=f"{report['n_read']} rows, {report['duplicates']['n_removed']} duplicates removed, "
                      f"{sum(v['count'] for v in report['bad_rows'].values() if v['action'] == 'dropped')} bad rows dropped")]
    summary: dict[str, Any] = {"events": len(catalog), "read_seconds": round(sec_read, 3)}
    mc_rows, mc_summary = bench_mc(catalog)
    rows += mc_rows
    summary.update(mc_summary)
    mc = float(mc_summary["mc_b_stability"]["gmlearn"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with tempfile.TemporaryDirectory() as tmp:
            for part in (bench_bvalue(catalog, mc), bench_gk(catalog, args.runs), bench_fractions(catalog, mc),
                         bench_psha(catalog, mc, args.spacing, Path(tmp))):
                rows += part[0]
                summary.update(part[1])
    command = "python benchmarks/catalog.py" + (f" --runs {args.runs}" if args.runs != 5 else "") + (
        f" --spacing {args.spacing}" if args.spacing != 0.2 else "")
    payload = {
        "benchmark": "catalog",
        "command": command,
        "data": "GeoNet MLNZ20 rapid-event catalogue 2024-01-01 to 2026-06-30 (3 yearly CSVs, GeoNet/data "
                "de25c45), magnitudes MLNZ20; see ../shared/data/catalog_geonet_nz/PROVENANCE.md",
        "machine": machine,
        "rows": rows,
        "summary": summary,
    }
    _print(rows)
    print(f"\nsummary: b_value_diff_vs_hmtk {summary['b_value_diff_vs_hmtk']:.2e}, decluster_same_events_as_hmtk "
          f"{summary['decluster_same_events_as_hmtk']}, decluster_seconds {summary['decluster_seconds']:.3f} "
          f"(hmtk {summary['decluster_seconds_hmtk']:.2f}), Mc same as seismostats {summary['mc_same_as_seismostats']}, "
          f"PSHA {summary['psha_seconds']:.1f} s for {summary['psha_n_sources']} sources x {summary['psha_sites']} sites")
    path = atomic_write_json(RESULTS / "catalog.json", payload)
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
