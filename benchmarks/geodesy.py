"""Geodesy benchmark: Euler poles, velocity clustering, strain and moment rates on synthetic and PBO fields.

Run from the repository root::

    python benchmarks/geodesy.py [--bootstrap 50] [--seed 0]

Synthetic checks: Euler poles recovered from noise-free and noisy rigid blocks
(error in degrees; coverage of the formal 2-sigma intervals), two interleaved
blocks separated by Euler-vector clustering, a uniform strain field recovered
by triangles and by the gridded estimator. Real data: the EarthScope/PBO NAM08
velocity field (2017 release, ../shared/data/gnss_pbo_nam08): the four
clustering methods split California (k=2) into Pacific and North American
motion across the San Andreas fault; bootstrap cluster stability; the
Pacific-North America pole from Pacific-plate sites compared with MORVEL
(DeMets et al. 2010); strain rates and the geodetic moment rate of central and
southern California. Prints a table and writes benchmarks/results/geodesy.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gmlearn import geodesy as geo
from gmlearn.geodesy.euler import RAD_YR_TO_DEG_MYR
from gmlearn.geodesy.reference import MORVEL_PA_REL_NA_DEG_MYR, MORVEL_SOURCE, san_andreas_offset_km
from gmlearn.geodesy.synthetic import rigid_block_field, uniform_strain_field
from gmlearn.store.atomic import atomic_write_json

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "gnss_pbo_nam08"
VEL = DATA / "pbo.final_nam08.vel.gz"
RESULTS = ROOT / "benchmarks" / "results"
CALIFORNIA = (-125.0, -114.0, 32.0, 42.0)
STRAIN_REGION = (-123.0, -115.0, 33.0, 38.0)
PACIFIC_SITES = ["KOKB", "MKEA", "MAUI", "GUAX", "MSD1"]  # Kauai, Mauna Kea, Maui, Isla Guadalupe, Los Cabos
POLE = (48.9, -71.7, 0.75)
METHODS = ("kmeans", "gmm", "hierarchical", "euler")
rows: list[dict[str, Any]] = []


def _row(section: str, name: str, value: Any, goal: str = "", met: bool | None = None, seconds: float | None = None) -> None:
    rows.append({"section": section, "name": name, "value": value, "goal": goal, "goal_met": None if met is None else bool(met),
                 "seconds": None if seconds is None else round(seconds, 3)})  # fmt: skip


def synthetic_euler(seed: int) -> float:
    t0 = time.perf_counter()
    errors = []
    for s in range(5):
        p = geo.fit_euler_pole(rigid_block_field(POLE, (-124, -116, 32, 40), 30, random_state=seed + s))
        errors.append(max(abs(p.lat - POLE[0]), abs(p.lon - POLE[1]), geo.angle_between_deg(p.omega, geo.pole_to_omega(*POLE))))
    err = float(max(errors))
    _row("synthetic", "noise-free Euler pole error (deg, max of 5 blocks)", f"{err:.1e}", "< 1e-6", err < 1e-6, time.perf_counter() - t0)
    rng = np.random.default_rng(seed)
    hits, t0 = np.zeros(3), time.perf_counter()
    for _ in range(200):
        p = geo.fit_euler_pole(rigid_block_field(POLE, (-124, -116, 32, 40), 25, sigma=1.0, rho=-0.4, random_state=rng))
        hits += np.abs(np.array([p.lat, p.lon, p.rate]) - POLE) < 2 * np.array([p.sigma_lat, p.sigma_lon, p.sigma_rate])
    cover = (hits / 200).round(3).tolist()
    ok = all(0.9 <= c <= 0.99 for c in cover)
    _row("synthetic", "noisy poles within 2 sigma (lat, lon, rate; 200 blocks)", cover, "about 0.95", ok, time.perf_counter() - t0)
    return err


def synthetic_clustering_and_strain(seed: int) -> None:
    t0, aris = time.perf_counter(), []
    from sklearn.metrics import adjusted_rand_score

    for s in range(10):
        region = (-122.0, -118.0, 33.0, 38.0)
        a = rigid_block_field(POLE, region, 40, sigma=0.5, prefix="W", random_state=seed + s)
        b = rigid_block_field((55.0, -95.0, 0.15), region, 40, sigma=0.5, prefix="E", random_state=seed + 100 + s)
        res = geo.cluster_velocities(pd.concat([a, b], ignore_index=True), "euler", 2, random_state=s)
        aris.append(adjusted_rand_score(np.r_[np.ones(40), np.zeros(40)], res.labels))
    _row("synthetic", "Euler clustering of 2 interleaved blocks, min ARI (10 seeds)", float(min(aris)), "= 1", min(aris) == 1.0,
         time.perf_counter() - t0)  # fmt: skip
    grad = np.array([[100e-9, 60e-9], [-20e-9, -50e-9]])
    exact = geo.strain_invariants(100e-9, -50e-9, 20e-9)
    vel = uniform_strain_field(grad, (-118.0, 36.0), 80, radius_km=100.0, translation=(-20.0, 25.0), random_state=seed)
    for name, func in (("triangles", lambda v: geo.strain_triangles(v)),
                       ("grid", lambda v: geo.strain_grid(v, spacing_deg=0.25, region=(-118.5, -117.5, 35.5, 36.5))),):  # fmt: skip
        t0 = time.perf_counter()
        s = func(vel)
        s = s[s.get("valid", pd.Series(True, index=s.index)).astype(bool)]
        err = float(max(np.abs(s[c] - exact[c]).max() for c in ("e1", "e2", "dilatation", "max_shear")) * 1e9)
        _row("synthetic", f"uniform strain, {name}: max invariant error (nanostrain/yr, field 100/-50/20)", round(err, 4),
             "< 0.5", err < 0.5, time.perf_counter() - t0)  # fmt: skip


def pbo_read() -> pd.DataFrame:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geo.BadRowsWarning)
        vel = geo.read_velocities(VEL)
    rep = vel.attrs["report"]
    _row("pbo", "read .vel: segment rows -> stations (duplicates dropped, conflicting)",
         f"{rep['n_rows']} -> {rep['n_kept']} ({rep['dropped']['duplicate_station']['count']}, {rep['duplicates']['conflicting_stations']})",
         "2208 stations", rep["n_kept"] == 2208, time.perf_counter() - t0)  # fmt: skip
    return vel


def pbo_clustering(ca: pd.DataFrame) -> tuple[bool, dict]:
    off = san_andreas_offset_km(ca["lon"], ca["lat"])
    band = ca["lat"].between(33.5, 39.5).to_numpy()
    west, east = band & (off > 30), band & (off < -100)
    all_ok, per = True, {}
    for method in METHODS:
        t0 = time.perf_counter()
        res = geo.cluster_velocities(ca, method, 2, random_state=0)
        dt = time.perf_counter() - t0
        summ = res.summary(ca).set_index("cluster")
        w = float((res.labels[west] == 1).mean())
        e = float((res.labels[east] == 0).mean())
        ok = w >= 0.98 and e >= 0.98 and summ.loc[1, "speed"] > 30 and -60 < summ.loc[1, "azimuth"] < -20 and summ.loc[0, "speed"] < 15
        all_ok &= bool(ok)
        per[method] = {"west_in_fast": w, "east_in_slow": e, "fast_speed": float(summ.loc[1, "speed"]),
                       "fast_azimuth": float(summ.loc[1, "azimuth"]), "slow_speed": float(summ.loc[0, "speed"]),
                       "n_fast": int(summ.loc[1, "n"]), "seconds": dt}  # fmt: skip
        _row("pbo", f"{method} k=2: west>30 km in fast / east>100 km in slow; fast speed, az; slow speed",
             f"{w:.3f} / {e:.3f}; {summ.loc[1, 'speed']:.1f} mm/yr, {summ.loc[1, 'azimuth']:.0f}°; {summ.loc[0, 'speed']:.1f} mm/yr",
             ">= 0.98, > 30 NW, < 15", bool(ok), dt)  # fmt: skip
    return all_ok, per


def pbo_stability(ca: pd.DataFrame, n_boot: int, seed: int) -> dict:
    out = {}
    for method, k in [(m, 2) for m in METHODS] + [("kmeans", 3), ("euler", 3)]:
        t0 = time.perf_counter()
        st = geo.cluster_stability(ca, method, k, n_bootstrap=n_boot, random_state=seed)
        s = st.summary
        out[f"{method}_k{k}"] = {key: s[key] for key in ("mean_consistency", "mean_entropy", "fraction_stable", "mean_ari")}
        _row("stability", f"{method} k={k}: consistency, entropy, stable fraction, ARI ({n_boot} bootstraps)",
             f"{s['mean_consistency']:.3f}, {s['mean_entropy']:.3f}, {s['fraction_stable']:.3f}, {s['mean_ari']:.3f}",
             seconds=time.perf_counter() - t0)  # fmt: skip
    return out


def _pole_summary(p: geo.EulerPole, ref: np.ndarray) -> dict:
    return {"lat": p.lat, "lon": p.lon, "rate_deg_myr": p.rate, "sigma_lat": p.sigma_lat, "sigma_lon": p.sigma_lon,
            "sigma_rate": p.sigma_rate, "n_stations": len(p.stations), "wrms_mm_yr": p.wrms, "reduced_chi2": p.reduced_chi2,
            "axis_angle_to_morvel_deg": geo.angle_between_deg(p.omega, ref),
            "rate_difference_deg_myr": p.rate - float(np.linalg.norm(ref) * RAD_YR_TO_DEG_MYR),
            "omega_difference_deg_myr": float(np.linalg.norm(p.omega - ref) * RAD_YR_TO_DEG_MYR)}  # fmt: skip


def pa_na_pole(vel: pd.DataFrame, ca: pd.DataFrame) -> dict:
    ref = np.array(MORVEL_PA_REL_NA_DEG_MYR) / RAD_YR_TO_DEG_MYR
    rlat, rlon, rrate = geo.omega_to_pole(ref)
    t0 = time.perf_counter()
    plate = _pole_summary(geo.fit_euler_pole(vel, PACIFIC_SITES), ref)
    ok = plate["axis_angle_to_morvel_deg"] < 5.0 and abs(plate["rate_difference_deg_myr"]) < 0.05 * rrate
    _row("pole", f"PA-NA from {'+'.join(PACIFIC_SITES)}: lat, lon, rate (MORVEL {rlat:.2f}, {rlon:.2f}, {rrate:.3f})",
         f"{plate['lat']:.2f} ± {plate['sigma_lat']:.2f}, {plate['lon']:.2f} ± {plate['sigma_lon']:.2f}, {plate['rate_deg_myr']:.3f} ± {plate['sigma_rate']:.3f}",
         "axis < 5°, rate within 5 %", ok, time.perf_counter() - t0)  # fmt: skip
    _row("pole", "  axis angle to MORVEL (deg), rate difference (deg/Myr), WRMS (mm/yr)",
         f"{plate['axis_angle_to_morvel_deg']:.2f}, {plate['rate_difference_deg_myr']:+.4f}, {plate['wrms_mm_yr']:.2f}")  # fmt: skip
    res = geo.cluster_velocities(ca, "euler", 2, random_state=0)
    cl = _pole_summary(geo.fit_euler_pole(ca, res.labels == 1), ref)
    _row("pole", "pole of the fast (coastal) California Euler cluster: lat, lon, rate; axis angle to MORVEL",
         f"{cl['lat']:.2f}, {cl['lon']:.2f}, {cl['rate_deg_myr']:.3f}; {cl['axis_angle_to_morvel_deg']:.1f}°",
         "not rigid Pacific: expected to differ")  # fmt: skip
    return {"reference": {"lat": rlat, "lon": rlon, "rate_deg_myr": rrate, "omega_deg_myr": list(MORVEL_PA_REL_NA_DEG_MYR),
                          "source": MORVEL_SOURCE}, "pacific_sites": {"stations": PACIFIC_SITES, **plate, "goal_met": bool(ok)},
            "california_fast_cluster": cl}  # fmt: skip


def pbo_strain(vel: pd.DataFrame) -> dict:
    sel = geo.select_stations(vel, region=STRAIN_REGION, max_sigma=1.5, max_speed=60.0)
    t0 = time.perf_counter()
    grid = geo.strain_grid(sel, spacing_deg=0.25, region=STRAIN_REGION)
    tg = time.perf_counter() - t0
    t0 = time.perf_counter()
    tri = geo.strain_triangles(sel, max_edge_km=100.0)
    tt = time.perf_counter() - t0
    ns = geo.to_nanostrain(grid[grid["valid"]])
    _row("strain", f"grid 0.25° over {STRAIN_REGION}: valid nodes, median / 90th pct second invariant (nanostrain/yr)",
         f"{len(ns)} of {len(grid)}, {ns['second_invariant'].median():.0f} / {ns['second_invariant'].quantile(0.9):.0f}", seconds=tg)  # fmt: skip
    nt = geo.to_nanostrain(tri)
    _row("strain", "triangles (edges <= 100 km): count, median second invariant (nanostrain/yr)",
         f"{len(tri)}, {nt['second_invariant'].median():.0f}", seconds=tt)  # fmt: skip
    t0 = time.perf_counter()
    total = geo.regional_moment_rate(grid, mu=3e10, thickness_km=15.0)
    gr = geo.gr_from_moment_rate(total["moment_rate"], b=1.0, m_min=5.0, m_max=8.0, coupling=0.7)
    _row("moment", "geodetic moment rate (N·m/yr; mu 30 GPa, H 15 km), area (km²), Mw per year",
         f"{total['moment_rate']:.3e}, {total['area_m2'] / 1e6:.3g}, {total['mw_per_year']:.2f}", seconds=time.perf_counter() - t0)  # fmt: skip
    _row("moment", "truncated G-R (b 1, M 5-8, coupling 0.7): rate M>=5, M>=6, M>=7 per year",
         f"{gr.cumulative_rate(5.0):.3f}, {gr.cumulative_rate(6.0):.3f}, {gr.cumulative_rate(7.0):.4f}")  # fmt: skip
    return {"grid_valid_nodes": int(grid["valid"].sum()), "grid_seconds": tg, "triangles": len(tri), "triangles_seconds": tt,
            "median_second_invariant_nanostrain_yr": float(ns["second_invariant"].median()), "moment_rate_n_m_yr": total["moment_rate"],
            "area_km2": total["area_m2"] / 1e6, "mw_per_year": total["mw_per_year"],
            "gr_rate_m5_per_yr": float(gr.cumulative_rate(5.0)), "gr_rate_m7_per_yr": float(gr.cumulative_rate(7.0))}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=50, help="bootstrap replicates for cluster stability")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not VEL.is_file():
        raise SystemExit(f"missing {VEL}: the benchmark needs ../shared/data beside the repository")
    t_all = time.perf_counter()
    err = synthetic_euler(args.seed)
    synthetic_clustering_and_strain(args.seed)
    vel = pbo_read()
    ca = geo.select_stations(vel, region=CALIFORNIA, max_sigma=1.5, max_speed=60.0)
    separated, per_method = pbo_clustering(ca)
    stability = pbo_stability(ca, args.bootstrap, args.seed)
    pole = pa_na_pole(vel, ca)
    strain = pbo_strain(vel)
    total = time.perf_counter() - t_all
    _print()
    command = "python benchmarks/geodesy.py" + ("" if args.bootstrap == 50 and args.seed == 0 else f" --bootstrap {args.bootstrap} --seed {args.seed}")
    result = {
        "benchmark": "geodesy",
        "command": command,
        "data": {"file": str(VEL.relative_to(ROOT.parent)), "stations_read": len(vel), "california_selection":
                 {"region": CALIFORNIA, "max_sigma_mm_yr": 1.5, "max_speed_mm_yr": 60.0, "stations": len(ca)},
                 "citation": "EarthScope PBO data provided by UNAVCO through the GAGE Facility with support from NSF and NASA "
                             "(PBO_vel_171202_NAM08, release 20171227)"},  # fmt: skip
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "rows": rows,
        "summary": {
            "synthetic_euler_pole_error_deg": err,
            "pbo_pacific_north_america_separated": bool(separated),
            "pbo_clustering": per_method,
            "pa_na_pole": pole,
            "cluster_stability": stability,
            "strain_and_moment": strain,
            "timings_s": {"total": total, **{f"cluster_{m}": v["seconds"] for m, v in per_method.items()}},
            "goals_met": all(r["goal_met"] for r in rows if r["goal_met"] is not None),
        },
    }
    atomic_write_json(RESULTS / "geodesy.json", result)
    print(f"\nwrote {RESULTS / 'geodesy.json'} in {total:.1f} s")


def _print() -> None:
    frame = pd.DataFrame(rows)
    frame["goal_met"] = frame["goal_met"].map({True: "yes", False: "NO", None: ""})
    frame["seconds"] = frame["seconds"].map(lambda s: "" if s is None or pd.isna(s) else f"{s:.2f}")
    with pd.option_context("display.max_colwidth", 120, "display.width", 250):
        print(frame[["section", "name", "value", "goal", "goal_met", "seconds"]].to_string(index=False))


if __name__ == "__main__":
    main()
