"""Shakemap benchmark: leave-stations-out gain, 100 k-site speed vs OpenQuake, site-term phi, bad input.

Run from the repository root::

    python benchmarks/shakemap.py [--repeats 20] [--threads 2]

1. Leave-stations-out on NZSMD events (2016 Kaikoura Mw 7.8, 2010 Darfield Mw 7.1,
   2013 Lake Grassmere Mw 6.6): 20 % of the stations held out ``--repeats`` times;
   RMS of ln residuals at the held-out stations, conditioned / unconditioned,
   pooled over PGA, SA(0.3), SA(1.0), SA(3.0). Distances and site columns are the
   flatfile's (rrup, rjb, rx, ry0, vs30, z1pt0). Models: OpenQuake's Bradley2013
   (ergodic) and Bradley2013 with the data-driven station term fitted on the other
   NZSMD crustal events (no record of the tested event is used).
2. Speed: 101 124 grid sites over New Zealand conditioned on 300 NZSMD station locations (PGA and
   SA(1.0), synthetic observations drawn from the model), end to end; OpenQuake's
   ``conditioned_gmfs.get_mean_covs`` (the engine's conditioned scenario) on subsets
   of the same grid, with the largest difference between the two.
3. Site model: station-grouped 5-fold CV of within-event phi on the NZSMD crustal
   records, no site term vs a vs30-only term vs all site features.
4. Bad input: what each case raises.

Writes benchmarks/results/shakemap.json and PNGs under benchmarks/results/shakemap/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
FIGURES = RESULTS / "shakemap"
EVENTS = {"kaikoura_2016": "2016p858000", "darfield_2010": "3366146", "grassmere_2013": "2013p613797"}
LOSO_IMTS = ["PGA", "SA(0.3)", "SA(1.0)", "SA(3.0)"]
SPEED_IMTS = ["PGA", "SA(1.0)"]
#: New Zealand: 318 x 318 = 101 124 sites at 0.041 degrees.
SPEED_BOX = (166.0, -47.5, 179.0, -34.5)
SPEED_SPACING = 0.041


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def loso(table: pd.DataFrame, repeats: int) -> tuple[list[dict], dict, dict]:
    from gmlearn.gmpe.reference import OpenQuakeGMPE
    from gmlearn.shakemap.validation import leave_stations_out, rms_ratio
    from gmlearn.site import DataDrivenSiteTerm, SiteAmplificationModel

    base = OpenQuakeGMPE("Bradley2013")
    crustal = table[table["tectonic_region"] == "crustal"]
    rows, headline, ergodic = [], {}, {}
    for name, event in EVENTS.items():
        records = table[table["event_id"] == event]
        site = SiteAmplificationModel(base).fit(crustal[crustal["event_id"] != event], LOSO_IMTS)
        frames = {"Bradley2013": leave_stations_out(records, base, LOSO_IMTS, repeats=repeats, seed=0),
                  "Bradley2013 + station term": leave_stations_out(records, DataDrivenSiteTerm(site, known_stations=True),
                                                                   LOSO_IMTS, repeats=repeats, seed=0)}
        ref = _rms(frames["Bradley2013"]["resid_prior"])
        for model, frame in frames.items():
            ratios = rms_ratio(frame)
            rows.append({"part": "leave_stations_out", "event": name, "event_id": event, "model": model,
                         "records": int(len(records)), "stations_held_out": int(frame.groupby("repeat").size().iloc[0]
                                                                                 // len(LOSO_IMTS)),
                         "rms_unconditioned": round(_rms(frame["resid_prior"]), 4),
                         "rms_conditioned": round(_rms(frame["resid_conditioned"]), 4),
                         "ratio": round(ratios["all"], 4),
                         "ratio_vs_ergodic_unconditioned": round(_rms(frame["resid_conditioned"]) / ref, 4),
                         **{f"ratio_{k}": round(v, 4) for k, v in ratios.items() if k != "all"}})
        headline[name] = rows[-1]["ratio"]
        ergodic[name] = rows[-2]["ratio"]
    return rows, headline, ergodic


def _synthetic_stations(table: pd.DataFrame, rupture, model, n: int, seed: int) -> pd.DataFrame:  # noqa: ANN001
    from gmlearn.shakemap.sites import complete_site_columns
    from gmlearn.shakemap.stations import validate_stations

    sta = table.drop_duplicates("station_id").drop_duplicates(["lon", "lat"])  # OpenQuake refuses co-located sites
    lon0, lat0, lon1, lat1 = SPEED_BOX
    sta = sta[sta["lon"].between(lon0, lon1) & sta["lat"].between(lat0, lat1)]
    sta = sta.sample(n=n, random_state=seed)[["station_id", "lon", "lat", "vs30"]].reset_index(drop=True)
    pred = model.predict(rupture.context(complete_site_columns(sta)), SPEED_IMTS)
    rng = np.random.default_rng(seed)
    eta = rng.normal(0, 1) * pred.tau
    for i, imt in enumerate(SPEED_IMTS):
        sta[imt] = pred.mean[i] + eta[i] + rng.normal(0, 1, n) * pred.phi[i]
    return validate_stations(sta, SPEED_IMTS, values="ln")


def speed(table: pd.DataFrame, threads: int) -> tuple[list[dict], float]:
    from threadpoolctl import threadpool_limits

    from gmlearn.gmpe.reference import OpenQuakeGMPE
    from gmlearn.shakemap.demo import kaikoura_rupture
    from gmlearn.shakemap.scenario import compute_shakemap
    from gmlearn.shakemap.sites import grid_sites

    model = OpenQuakeGMPE("BooreEtAl2014")
    rupture = kaikoura_rupture()
    stations = _synthetic_stations(table, rupture, model, 300, 1)
    sites = grid_sites(SPEED_BOX, SPEED_SPACING, vs30=400.0)
    rows = []
    times = []
    with threadpool_limits(threads):
        for _ in range(3):
            t0 = time.perf_counter()
            result = compute_shakemap(rupture, sites, model, SPEED_IMTS, stations)
            times.append(time.perf_counter() - t0)
    seconds = float(np.median(times))
    rows.append({"part": "speed", "implementation": "gmlearn compute_shakemap", "sites": len(sites), "stations": 300,
                 "imts": SPEED_IMTS, "threads": threads, "seconds": round(seconds, 3),
                 "seconds_runs": [round(t, 3) for t in times]})
    full_mean = result.dataset["mean"].to_numpy().reshape(2, -1)
    full_sigma = result.dataset["sigma"].to_numpy().reshape(2, -1)
    rows += _openquake_rows(rupture, sites, stations, full_mean, full_sigma, threads)
    return rows, seconds


def _openquake_rows(rupture, sites, stations, full_mean, full_sigma, threads) -> list[dict]:  # noqa: ANN001
    from openquake.hazardlib import correlation, cross_correlation
    from openquake.hazardlib.calc.conditioned_gmfs import get_mean_covs
    from openquake.hazardlib.calc.filters import IntegrationDistance
    from openquake.hazardlib.contexts import ContextMaker
    from openquake.hazardlib.gsim.boore_2014 import BooreEtAl2014
    from openquake.hazardlib.imt import from_string
    from openquake.hazardlib.site import SiteCollection
    from threadpoolctl import threadpool_limits

    def sitecol(lon, lat, vs30):  # noqa: ANN001, ANN202
        s = SiteCollection.from_points(np.asarray(lon), np.asarray(lat), req_site_params=("vs30",))
        s.array["vs30"] = vs30
        return s

    rng = np.random.default_rng(0)
    sta_col = sitecol(stations["lon"], stations["lat"], stations["vs30"])
    data = pd.DataFrame({f"{i}_mean": np.exp(stations[i]) for i in SPEED_IMTS} | {f"{i}_std": 0.0 for i in SPEED_IMTS})
    cm = ContextMaker("*", [BooreEtAl2014()], {"imtls": {i: [0] for i in SPEED_IMTS},
                                               "maximum_distance": IntegrationDistance.new("2000")})
    rows = []
    for n in (1000, 2000, 3000):
        idx = np.sort(rng.choice(len(sites), n, replace=False))
        f = sites.frame.iloc[idx]
        target = sitecol(f["lon"], f["lat"], f["vs30"])
        oq_mean, oq_sigma, seconds = [], [], 0.0
        # one target IMT per call: with several, OpenQuake 3.25.1 uses the first IMT's mean, tau and phi at the
        # target sites for every target (get_mu_tau_phi reads mean_stds[0, 0])
        for imt in SPEED_IMTS:
            with threadpool_limits(threads):
                t0 = time.perf_counter()
                me, cov_a, cov_b = get_mean_covs(rupture.to_openquake(), cm, sta_col, data, SPEED_IMTS, target,
                                                 [from_string(imt)], correlation.JB2009CorrelationModel(True),
                                                 cross_correlation.GodaAtkinson2009(),
                                                 cross_correlation.BakerJayaram2008(), sigma=False)
                seconds += time.perf_counter() - t0
            oq_mean.append(me[0, 0, :, 0])
            oq_sigma.append(np.sqrt(np.diag(cov_a[0, 0]) + np.diag(cov_b[0, 0])))
        oq_mean, oq_sigma = np.stack(oq_mean), np.stack(oq_sigma)
        rows.append({"part": "speed", "implementation": "OpenQuake conditioned_gmfs.get_mean_covs", "sites": n,
                     "stations": 300, "imts": SPEED_IMTS, "threads": threads, "seconds": round(seconds, 3),
                     "max_abs_diff_mean": float(np.abs(oq_mean - full_mean[:, idx]).max()),
                     "max_abs_diff_sigma": float(np.abs(oq_sigma - full_sigma[:, idx]).max()),
                     "dense_matrix_gb_at_100k": round(3 * 8 * 100_000**2 / 1e9, 1)})
    return rows


def site_phi(table: pd.DataFrame) -> tuple[list[dict], dict]:
    from gmlearn.gmpe.reference import OpenQuakeGMPE
    from gmlearn.site.evaluate import station_cv_phi

    crustal = table[table["tectonic_region"] == "crustal"]
    cv = station_cv_phi(crustal, OpenQuakeGMPE("Bradley2013"), LOSO_IMTS, n_splits=5)
    pivot = cv.pivot(index="imt", columns="site_term", values="phi").loc[LOSO_IMTS]
    rows, reduction = [], {}
    for imt, r in pivot.iterrows():
        reduction[imt] = round(1 - r["all"] / r["vs30"], 4)
        rows.append({"part": "site_phi", "imt": imt, "phi_no_site_term": round(r["none"], 4),
                     "phi_vs30_term": round(r["vs30"], 4), "phi_all_features": round(r["all"], 4),
                     "reduction_vs_vs30": reduction[imt]})
    reduction["mean"] = round(float(np.mean([reduction[i] for i in LOSO_IMTS])), 4)
    return rows, reduction


def bad_input(table: pd.DataFrame) -> list[dict]:
    from typer.testing import CliRunner

    from gmlearn.cli import app

    records = table[table["event_id"] == EVENTS["grassmere_2013"]].drop_duplicates("station_id")
    base = records[["station_id", "lon", "lat", "vs30"]].assign(PGA=np.exp(records["PGA"]))
    sa1 = np.exp(records["SA(1.0)"].to_numpy())
    rup = {"mag": 6.6, "rake": 21, "lon": 174.1522, "lat": -41.734, "depth": 8.16, "strike": 331, "dip": 81,
           "length": 18.34, "width": 18.34}
    cases = {
        "stations outside the grid (--outside error)": (base, rup, ["--outside", "error"]),
        "stations outside the grid (default: used)": (base, rup, []),
        "duplicate station ids": (base.assign(station_id=[base["station_id"].iloc[0]] * len(base)), rup, []),
        "missing vs30": (base.assign(vs30=np.where(np.arange(len(base)) == 3, np.nan, base["vs30"])), rup, []),
        "NaN observation (PGA of one station; SA(1.0) kept)": (
            base.assign(PGA=np.where(np.arange(len(base)) == 3, np.nan, base["PGA"]), **{"SA(1.0)": sa1}), rup, []),
        "NaN observations (all of a station's IMTs)": (base.assign(PGA=np.where(np.arange(len(base)) < 2, np.nan,
                                                                                 base["PGA"])), rup, ["--imts", "PGA"]),
        "rupture: hypocentre off the plane": (base, rup | {"depth": 30.0, "ztor": 0.0}, []),
        "rupture: dip 0": (base, rup | {"dip": 0.0}, []),
    }
    rows = []
    for label, (stations, rupture, extra) in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            stations.to_csv(tmp_path / "st.csv", index=False)
            (tmp_path / "rup.json").write_text(json.dumps(rupture))
            out = tmp_path / "map"
            res = CliRunner().invoke(app, ["shakemap", "--rupture", str(tmp_path / "rup.json"), "--stations",
                                           str(tmp_path / "st.csv"), "--bbox", "173.5,-42.2,174.8,-41.2", "--spacing",
                                           "0.1", "--formats", "netcdf", "--out", str(out), *extra])
            message = " ".join(res.output.split())
            rows.append({"part": "bad_input", "case": label, "exit_code": res.exit_code,
                         "outputs_written": sorted(p.name for p in out.iterdir()) if out.exists() else [],
                         "message": message[message.find("error:"):][:220] if res.exit_code else "ok"})
    return rows


def figures(table: pd.DataFrame, loso_rows: list[dict]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from gmlearn.shakemap.demo import run

    FIGURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp))
        for name in ("map_PGA.png", "map_SA1p0.png"):
            os.replace(Path(tmp) / name, FIGURES / f"kaikoura_{name}")
    frame = pd.DataFrame([r for r in loso_rows if r["part"] == "leave_stations_out"])
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    events = list(EVENTS)
    for k, model in enumerate(frame["model"].unique()):
        vals = [frame[(frame["event"] == e) & (frame["model"] == model)]["ratio"].iloc[0] for e in events]
        ax.bar(np.arange(len(events)) + 0.38 * k, vals, width=0.36, label=model)
    ax.axhline(0.7, color="k", ls="--", lw=1, label="goal 0.7")
    ax.set_xticks(np.arange(len(events)) + 0.19, events)
    ax.set_ylabel("held-out RMS: conditioned / unconditioned")
    ax.set_title("Leave 20 % of stations out, NZSMD (PGA, SA(0.3), SA(1.0), SA(3.0))")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "leave_stations_out.png", dpi=110)
    return ["kaikoura_map_PGA.png", "kaikoura_map_SA1p0.png", "leave_stations_out.png"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="Random 20 %% hold-outs per event.")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for the speed test.")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from gmlearn import datasets
    from gmlearn.store.atomic import atomic_write_json

    table = datasets.load("nzsmd")
    t0 = time.perf_counter()
    loso_rows, headline, ergodic = loso(table, args.repeats)
    speed_rows, seconds = speed(table, args.threads)
    site_rows, reduction = site_phi(table)
    bad_rows = bad_input(table)
    figs = figures(table, loso_rows)
    rows = loso_rows + speed_rows + site_rows + bad_rows
    for r in loso_rows:
        print(f"{r['event']:15s} {r['model']:28s} unconditioned {r['rms_unconditioned']:.3f} conditioned "
              f"{r['rms_conditioned']:.3f} ratio {r['ratio']:.3f} (vs ergodic prior {r['ratio_vs_ergodic_unconditioned']:.3f})")
    for r in speed_rows:
        extra = f" max|diff| mean {r['max_abs_diff_mean']:.1e} sigma {r['max_abs_diff_sigma']:.1e}" if "max_abs_diff_mean" in r else ""
        print(f"{r['implementation']:42s} {r['sites']:7d} sites x {r['stations']} stations: {r['seconds']:.2f} s{extra}")
    for r in site_rows:
        print(f"site phi {r['imt']:8s} none {r['phi_no_site_term']:.3f} vs30 {r['phi_vs30_term']:.3f} all "
              f"{r['phi_all_features']:.3f} reduction {r['reduction_vs_vs30']:.3f}")
    for r in bad_rows:
        print(f"bad input: {r['case']:45s} exit {r['exit_code']} outputs {r['outputs_written']} {r['message'][:90]}")
    result = {
        "benchmark": "shakemap",
        "command": f"python benchmarks/shakemap.py --repeats {args.repeats} --threads {args.threads}",
        "data": "gmlearn.datasets nzsmd: events 2016p858000 (Kaikoura), 3366146 (Darfield), 2013p613797 (Grassmere); "
                "crustal records for the site model; 300 NZSMD station locations for the speed test",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "seconds_total": round(time.perf_counter() - t0, 1),
        "figures": [f"benchmarks/results/shakemap/{f}" for f in figs],
        "rows": rows,
        "summary": {
            "heldout_rms_ratio": headline,
            "heldout_rms_ratio_model": "Bradley2013 + data-driven station term (fitted without the event), "
                                       "conditioned / unconditioned, PGA, SA(0.3), SA(1.0), SA(3.0)",
            "heldout_rms_ratio_ergodic": ergodic,
            "seconds_100k_sites_300_stations": round(seconds, 3),
            "site_phi_reduction": reduction,
        },
    }
    atomic_write_json(RESULTS / "shakemap.json", result)
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
