"""Waveform benchmark: GAN, diffusion and stochastic simulator against real records and OpenQuake GMPEs.

Run from the repository root::

    python benchmarks/waveforms.py [--samples 20] [--grid-samples 50] [--threads 2]

* Verification of the response spectrum: 5 %-damped PSA of every PEER AT2 component
  against the PEER "as recorded" spectra shipped with the records (111 periods,
  0.01-20 s), RotD50 of 12 records against the PEER RotD50 spectra, Arias intensity
  and D5-95 against the PEER metadata.
* Held-out real records: the events held out by ``gmlearn.waveform.dataset.event_split``
  (seed 0, as in ``data_recipes/train_waveforms.py``) were never seen in training.
  For each held-out record, ``--samples`` records are generated at its (mag, rrup,
  vs30); the median over records of (median generated ln IM - recorded ln IM) is the
  bias (RotD50 PSA at 0.1-3 s, PGV, Arias intensity, D5-95). Also the Fréchet distance
  between the generated and recorded log-PSA vectors.
* Scenario grid: M 5.5/6.5/7.5 x rrup 10/30/80 km x vs30 300/760 m/s, ``--grid-samples``
  records each; median ln bias vs BSSA14 (PSA, PGV), Travasarou et al. (2003) (Arias)
  and Afshari and Stewart (2016) (D5-95), and the ratio of the generated ln standard
  deviation to the GMPE total sigma; the median over the grid is reported per period.
* With a target (``generate(..., target="BooreEtAl2014")``) on the same grid,
  ``--target-samples`` records each: median ln RotD50 minus the BSSA14 median at
  0.05-5 s and the ratio of the generated ln standard deviation to BSSA14's sigma.
* Realism of every grid record (with and without a target): residual end velocity /
  PGV, median D5-95 against Afshari and Stewart (2016), S-P time from AIC picks against
  the travel-time S-P (R >= 20 km), kappa from the FAS slope (R <= 80 km).
* Near-fault pulses (``generate(..., pulse=...)``), M 6.5/7.0/7.5 at rrup 5 km, vs30
  400 m/s, strike-slip: with ``pulse=True`` (``--pulse-samples`` records each) the pulse
  period identified from the generated fault-normal (H1) record (PSV-peak period / 0.88,
  ``gmlearn.waveform.pulse.identify_period``) against the Shahi and Baker (2014) median
  and against each record's own drawn period, and the end velocity / PGV; with
  ``pulse="auto"`` (2 x ``--pulse-samples`` records each, default directivity distance)
  the fraction of records with a pulse against the Shahi and Baker (2014) probability.
* Throughput: three-component records per second (300 records at random conditions,
  100 at a time) with the realism layer (100 Hz, variable length) and without it
  (the generator's 40-s, 50-Hz window), on ``--threads`` CPU threads, and on CUDA
  when available.

Writes benchmarks/results/waveforms.json and PNGs under benchmarks/results/waveforms/.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("OQ_DISTRIBUTE", "no")

RESULTS = Path(__file__).resolve().parent / "results"
FIGS = RESULTS / "waveforms"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MODELS = ("cgan", "diffusion", "stochastic")
GRID = list(itertools.product([5.5, 6.5, 7.5], [10.0, 30.0, 80.0], [300.0, 760.0]))


def verify_psa() -> dict:
    """PSA/RotD50/Arias/D5-95 of the PEER records vs the values PEER ships."""
    import pandas as pd

    from gmlearn.waveform import metrics as M
    from gmlearn.waveform.records import read_peer_folder

    folder = SHARED / "waveforms_peer_at2"
    records = read_peer_folder(folder)
    spec = pd.read_csv(folder / "spectra_asrecorded_h1_h2_v_psa_g.csv.gz")
    rotd = pd.read_csv(folder / "spectra_rotd50_psa_g.csv.gz")
    periods = spec.iloc[:, 0].to_numpy()
    errs = {"horizontal": [], "vertical": []}
    full: list[float] = []
    worst = (0.0, "")
    for rec in records:
        for i, comp in enumerate(("Horizontal-1", "Horizontal-2", "Vertical")):
            col = f"RSN-{rec.record_id} {comp} pSa (g)"
            if col not in spec or not rec.has_component[i]:
                continue
            acc = rec.acc[i, : rec.meta["component_npts"][i]]  # unpadded component
            e = np.abs(M.psa(acc[:-1], rec.dt, periods) / spec[col].to_numpy() - 1.0)  # PEER: NPTS - 1 samples
            errs["vertical" if i == 2 else "horizontal"].append(e)
            if i < 2:
                full.append(np.abs(M.psa(acc, rec.dt, periods) / spec[col].to_numpy() - 1.0).max())
            if i < 2 and e.max() > worst[0]:
                worst = (float(e.max()), f"RSN {rec.record_id} {comp} T={periods[e.argmax()]:g} s")
    h = np.array(errs["horizontal"])
    v = np.array(errs["vertical"])
    within = h[:, periods <= 10.0]
    second = np.sort(h.ravel())[-2]
    rot_err = []
    for rec in records[:12]:
        mine = M.rotd(rec.acc[0], rec.acc[1], rec.dt, periods, n_angles=180)
        rot_err.append(np.abs(mine / rotd[f"RSN-{rec.record_id} RotD50 pSa (g)"].to_numpy() - 1.0))
    ia = np.array([M.arias(rec.acc[:2], rec.dt).mean() for rec in records])
    d595 = np.array([M.significant_duration(rec.acc[:2], rec.dt).mean() for rec in records])
    peer_ia = np.array([rec.meta["peer_arias_m_s"] for rec in records])
    peer_d = np.array([rec.meta["peer_d5_95"] for rec in records])
    ok = (peer_ia >= 0.5) & np.isfinite(peer_ia)
    return {
        "psa_max_rel_error_horizontal": float(h.max()),
        "psa_convention": "each component at its own length, integrated over NPTS - 1 samples as PEER does",
        "psa_max_rel_error_horizontal_including_last_sample": float(np.max(full)),
        "psa_entries_within_half_pct_horizontal": float(np.mean(h <= 0.005)),
        "psa_worst_entry": worst[1],
        "psa_second_largest_rel_error_horizontal": float(second),
        "psa_max_rel_error_horizontal_T_le_10s": float(within.max()),
        "psa_max_rel_error_horizontal_T_le_3s": float(h[:, periods <= 3.0].max()),
        "psa_p99_rel_error_horizontal": float(np.percentile(h, 99)),
        "psa_entries_within_1pct_horizontal": float(np.mean(h <= 0.01)),
        "psa_n_components_horizontal": int(len(h)),
        "psa_median_rel_error_vertical": float(np.median(v)),
        "psa_max_rel_error_vertical": float(v.max()),
        "psa_vertical_files_over_1pct": int(np.sum(v.max(axis=1) > 0.01)),
        "rotd50_max_rel_error_12_records": float(np.max(rot_err)),
        "arias_median_ratio_vs_peer_(>=0.5 m/s)": float(np.median(ia[ok] / peer_ia[ok])),
        "d5_95_mean_H1_H2_median_ratio_vs_peer": float(np.nanmedian(d595 / peer_d)),
    }


def held_out(model, real, held, samples: int, seed: int) -> dict:  # noqa: ANN001
    from gmlearn.waveform.evaluate import measures
    from gmlearn.waveform.scores import frechet_distance

    sub = real.subset(held)
    obs = measures(sub.acc)
    n = len(sub.mag)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acc = model.generate(np.repeat(sub.mag, samples), np.repeat(sub.rrup, samples), np.repeat(sub.vs30, samples),
                             random_state=seed)
    gen = measures(acc, model.dt)
    out = {}
    for key in ("psa", "pgv", "arias", "d5_95"):
        g = gen[key].reshape(n, samples, -1)
        o = obs[key].reshape(n, 1, -1)
        out[key] = np.median(np.median(g, axis=1) - o[:, 0], axis=0)
    out["frechet"] = frechet_distance(gen["psa"], obs["psa"])
    out["example"] = acc[::samples][:1]
    return out


def gmpe_vs_real(real, held) -> dict:  # noqa: ANN001
    """BSSA14 medians minus the held-out recordings (the same statistic as for the generators)."""
    import pandas as pd

    from gmlearn.gmpe.reference import OpenQuakeGMPE
    from gmlearn.waveform.evaluate import EVAL_PERIODS, measures

    sub = real.subset(held)
    obs = measures(sub.acc)
    table = pd.DataFrame({"mag": sub.mag, "rake": 0.0, "rjb": sub.rjb, "vs30": sub.vs30})
    pred = OpenQuakeGMPE("BooreEtAl2014").predict(table, [f"SA({t:g})" for t in EVAL_PERIODS] + ["PGV"])
    return {"psa": np.median(pred.mean[:-1].T - obs["psa"], axis=0), "pgv": np.median(pred.mean[-1] - obs["pgv"])}


def grid_scores(model, samples: int, seed: int) -> dict:  # noqa: ANN001
    """Without a target: bias and sigma ratio vs BSSA14, plus the realism checks, on the scenario grid."""
    from gmlearn.waveform.evaluate import gmpe_reference, measures, scenario_scores

    rows, spectra, real = [], {}, []
    for k, (m, r, v) in enumerate(GRID):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acc, info = model.generate(m, r, v, n=samples, random_state=seed + k, return_info=True)
        ln = measures(acc, model.dt)
        ref = gmpe_reference(m, r, v)
        rows.append(scenario_scores(ln, ref))
        spectra[(m, r, v)] = (np.exp(ln["psa"]), ref["psa"])
        real.append(realism_checks(acc, info, model.dt, m, r, v, ln["d5_95"]))
    agg = {key: np.median([row[key] for row in rows], axis=0) for key in rows[0]}
    agg["spectra"] = spectra
    agg["realism"] = real
    return agg


def realism_checks(acc, info, dt: float, m: float, r: float, v: float, ln_d595) -> dict:  # noqa: ANN001
    """End velocity / PGV, D5-95 vs Afshari and Stewart (2016), picked S-P vs travel times, kappa from the FAS."""
    from gmlearn.waveform.realism import end_velocity_ratio, kappa_from_fas, pick_onsets
    from gmlearn.waveform.timing import duration_as16

    ln_as16, _ = duration_as16(m, r, v)
    sp_err = np.array([abs((s - p) / sp - 1.0) for (p, s), sp in
                       zip((pick_onsets(a, dt) for a in acc), info["sp_time"])])
    kappa = np.median(kappa_from_fas(acc[:, :2], dt), axis=-1)
    return {"scenario": [m, r, v], "end_velocity_ratio_max": float(end_velocity_ratio(acc, dt).max()),
            "d5_95_ln_bias_vs_as16": float(np.median(ln_d595) - ln_as16[0]),
            "sp_time_median_rel_error": float(np.median(sp_err)),
            "sp_time_fraction_within_20pct": float(np.mean(sp_err <= 0.2)),
            "kappa_median_ratio": float(np.median(kappa / info["kappa"])),
            "length_s_median": float(np.median(info["length_s"]))}


def target_scores(model, samples: int, seed: int, gsim: str = "BooreEtAl2014") -> dict:  # noqa: ANN001
    """With ``target=gsim``: median bias and sigma ratio of ln RotD50 (0.05-5 s) against the GSIM, per scenario."""
    from gmlearn.gmpe.reference import OpenQuakeGMPE
    from gmlearn.waveform.evaluate import measures
    from gmlearn.waveform.metrics import DEFAULT_PERIODS
    from gmlearn.waveform.timing import scenario_table

    bias, ratio, real = [], [], []
    for k, (m, r, v) in enumerate(GRID):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acc, info = model.generate(m, r, v, n=samples, random_state=seed + k, target=gsim, return_info=True)
            pred = OpenQuakeGMPE(gsim).predict(scenario_table(m, r, v), [f"SA({t:g})" for t in DEFAULT_PERIODS])
        ln = measures(acc, model.dt, DEFAULT_PERIODS)
        bias.append(np.median(ln["psa"], axis=0) - pred.mean[:, 0])
        ratio.append(ln["psa"].std(axis=0, ddof=1) / pred.sigma[:, 0])
        real.append(realism_checks(acc, info, model.dt, m, r, v, ln["d5_95"]))
    return {"bias": np.array(bias), "sigma_ratio": np.array(ratio), "realism": real}


PULSE_SCENARIOS = ((6.5, 5.0, 400.0), (7.0, 5.0, 400.0), (7.5, 5.0, 400.0))


def pulse_checks(model, samples: int = 20, seed: int = 0) -> dict:  # noqa: ANN001
    """Pulse period identified from generated fault-normal records vs Shahi and Baker (2014); pulse fractions."""
    from gmlearn.waveform.pulse import identify_period, pulse_period
    from gmlearn.waveform.realism import end_velocity_ratio

    rows = []
    for k, (m, r, v) in enumerate(PULSE_SCENARIOS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acc, info = model.generate(m, r, v, n=samples, random_state=seed + k, pulse=True, return_info=True)
            _, auto = model.generate(m, r, v, n=2 * samples, random_state=seed + 100 + k, pulse="auto",
                                     return_info=True)
        ident = identify_period(acc[:, 0], model.dt)
        median = float(pulse_period(m)[0][0])
        rows.append({"scenario": [m, r, v], "records": samples, "model_median_tp_s": median,
                     "identified_median_tp_s": float(np.median(ident)),
                     "drawn_median_tp_s": float(np.median(info["pulse_period_s"])),
                     "period_ratio": float(np.median(ident) / median),
                     "period_ratio_per_record_median": float(np.median(ident / info["pulse_period_s"])),
                     "period_within_20pct": float(np.mean(np.abs(ident / info["pulse_period_s"] - 1) <= 0.2)),
                     "pulse_pgv_cm_s_median": float(np.median(info["pulse_pgv_cm_s"])),
                     "end_velocity_ratio_max": float(end_velocity_ratio(acc, model.dt).max()),
                     "auto_records": 2 * samples, "auto_fraction": float(np.mean(auto["pulse"])),
                     "auto_probability": float(np.mean(auto["pulse_probability"]))})
    n_auto = sum(row["auto_records"] for row in rows)
    fraction = sum(row["auto_fraction"] * row["auto_records"] for row in rows) / n_auto
    prob = sum(row["auto_probability"] * row["auto_records"] for row in rows) / n_auto
    return {"rows": rows, "period_ratio": {f"M{row['scenario'][0]:g}": row["period_ratio"] for row in rows},
            "fraction_vs_probability": {"fraction": fraction, "probability": prob, "records": n_auto,
                                        "binomial_se": float(np.sqrt(prob * (1 - prob) / n_auto))},
            "end_velocity_ratio_max": max(row["end_velocity_ratio_max"] for row in rows)}


def print_pulse_table(name: str, checks: dict) -> None:
    """Print the pulse checks of one model."""
    header = ["model", "M", "SB14 Tp", "ident. Tp", "ratio", "per rec.", "≤20%", "Vp cm/s", "v_end/PGV", "auto frac",
              "P(SB14)"]
    print(" | ".join(f"{h:>9s}" for h in header))
    for row in checks["rows"]:
        vals = [name, row["scenario"][0], row["model_median_tp_s"], row["identified_median_tp_s"], row["period_ratio"],
                row["period_ratio_per_record_median"], row["period_within_20pct"], row["pulse_pgv_cm_s_median"],
                row["end_velocity_ratio_max"], row["auto_fraction"], row["auto_probability"]]
        print(" | ".join(f"{v:>9.3g}" if isinstance(v, float) else f"{v!s:>9s}" for v in vals))


def throughput(model, threads: int, n: int = 300, dev: str = "cpu", realism: bool = True) -> float:  # noqa: ANN001
    """Three-component records per second at random conditions (generated 100 at a time)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    rng = np.random.default_rng(1)
    mag, rrup, vs30 = rng.uniform(5, 7.5, n), np.exp(rng.uniform(0, 5, n)), np.exp(rng.uniform(5.3, 7, n))
    if hasattr(model, "net"):
        model.net.to(dev)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.generate(mag[:20], rrup[:20], vs30[:20], random_state=0, realism=realism)
        t0 = time.perf_counter()
        for i in range(0, n, 100):
            model.generate(mag[i:i + 100], rrup[i:i + 100], vs30[i:i + 100], random_state=i, realism=realism)
        elapsed = time.perf_counter() - t0
    if hasattr(model, "net"):
        model.net.to("cpu")
    torch.set_num_threads(previous)
    return n / elapsed


def plots(res: dict) -> list[str]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from gmlearn.store.atomic import atomic_write_with
    from gmlearn.waveform.evaluate import EVAL_PERIODS
    from gmlearn.waveform.plots import plot_traces

    FIGS.mkdir(parents=True, exist_ok=True)
    files = []
    colors = {"cgan": "tab:red", "diffusion": "tab:blue", "stochastic": "tab:green"}

    fig = Figure(figsize=(11, 4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    for name, r in res.items():
        axes[0].plot(EVAL_PERIODS, r["held"]["psa"], "o-", color=colors[name], label=name)
        axes[1].plot(EVAL_PERIODS, r["grid"]["psa_bias"], "o-", color=colors[name], label=name)
        axes[2].plot(EVAL_PERIODS, r["grid"]["psa_sigma_ratio"], "o-", color=colors[name], label=name)
    for ax, title, band in ((axes[0], "bias vs held-out real records", (-0.15, 0.15)),
                            (axes[1], "bias vs BSSA14 (scenario grid)", (-0.15, 0.15)),
                            (axes[2], "σ generated / σ BSSA14", (0.75, 1.25))):
        ax.axhspan(*band, color="0.9")
        ax.set_xscale("log")
        ax.set_xlabel("period (s)")
        ax.set_title(title, fontsize=10)
        ax.grid(True, lw=0.3)
    axes[0].set_ylabel("median ln PSA bias")
    axes[0].legend(fontsize=8)
    files.append(atomic_write_with(FIGS / "bias_sigma.png", lambda t: fig.savefig(t, format="png", bbox_inches="tight")))

    fig = Figure(figsize=(12, 7))
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, 3, sharex=True)
    for (i, m), (j, r) in itertools.product(enumerate([5.5, 6.5, 7.5]), enumerate([10.0, 30.0, 80.0])):
        ax = axes[i, j]
        v = 760.0
        for name, res_m in res.items():
            spec, ref = res_m["grid"]["spectra"][(m, r, v)]
            ax.plot(EVAL_PERIODS, np.exp(np.median(np.log(spec), axis=0)), color=colors[name], label=name)
        ax.plot(EVAL_PERIODS, np.exp(ref[0]), "k-", lw=2, label="BSSA14")
        ax.fill_between(EVAL_PERIODS, np.exp(ref[0] - ref[1]), np.exp(ref[0] + ref[1]), color="0.88")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"M{m:g}, {r:g} km, vs30 {v:g}", fontsize=9)
        ax.grid(True, which="both", lw=0.3)
    axes[0, 0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("period (s)")
    for ax in axes[:, 0]:
        ax.set_ylabel("PSA (g)")
    files.append(atomic_write_with(FIGS / "grid_spectra.png", lambda t: fig.savefig(t, format="png", bbox_inches="tight")))
    files.append(plot_traces({k: r["held"]["example"] for k, r in res.items()}, 0.01, FIGS / "traces.png",
                             "first held-out condition"))
    return [str(Path(f).relative_to(RESULTS.parent.parent)) for f in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--grid-samples", type=int, default=50)
    parser.add_argument("--target-samples", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pulse-samples", type=int, default=20)
    args = parser.parse_args()

    import torch

    from gmlearn.store.atomic import atomic_write_json
    from gmlearn.waveform import load
    from gmlearn.waveform.dataset import event_split, real_records
    from gmlearn.waveform.evaluate import EVAL_PERIODS

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    verification = verify_psa()
    print(f"PSA vs PEER: max rel. error (horizontal) {verification['psa_max_rel_error_horizontal']:.4f} "
          f"at {verification['psa_worst_entry']}; ({time.perf_counter() - t0:.0f} s)")
    real = real_records(SHARED)
    held = event_split(real.event_id, seed=0)
    res = {}
    for k, name in enumerate(MODELS):
        t1 = time.perf_counter()
        model = load(name)
        res[name] = {"held": held_out(model, real, held, args.samples, seed=100 + k),
                     "grid": grid_scores(model, args.grid_samples, seed=1000 * (k + 1)),
                     "target": target_scores(model, args.target_samples, seed=5000 * (k + 1)),
                     "pulse": pulse_checks(model, args.pulse_samples, seed=7000 * (k + 1)),
                     "cpu": throughput(model, args.threads),
                     "cpu_raw": throughput(model, args.threads, realism=False),
                     "cpu_1thread": throughput(model, 1)}
        if torch.cuda.is_available() and name != "stochastic":
            res[name]["gpu"] = throughput(model, args.threads, dev="cuda")
        res[name]["meta"] = getattr(model, "meta", {})
        print(f"{name}: {time.perf_counter() - t1:.0f} s")
    gmpe_real = gmpe_vs_real(real, held)
    band = (EVAL_PERIODS >= 0.1) & (EVAL_PERIODS <= 3.0)
    rows, summary = [], {k: {} for k in ("max_abs_median_bias", "max_abs_median_bias_vs_gmpe", "sigma_ratio_min",
                                         "sigma_ratio_max", "waveforms_per_second_cpu",
                                         "waveforms_per_second_cpu_without_realism", "target_max_abs_median_bias",
                                         "end_velocity_ratio_max", "duration_bias_vs_as16", "sp_time_error_max",
                                         "sp_time_fraction_within_20pct_min", "kappa_ratio_range",
                                         "pulse_period_ratio", "pulse_fraction_vs_probability",
                                         "pulse_end_velocity_ratio_max")}
    t_ratio: list[np.ndarray] = []
    for name, r in res.items():
        g, h = r["grid"], r["held"]
        row = {"model": name,
               "max_abs_bias_vs_real": float(np.max(np.abs(h["psa"][band]))),
               "max_abs_bias_vs_gmpe": float(np.max(np.abs(g["psa_bias"][band]))),
               "sigma_ratio_min": float(g["psa_sigma_ratio"][band].min()),
               "sigma_ratio_max": float(g["psa_sigma_ratio"][band].max()),
               "frechet_vs_real": float(h["frechet"]),
               **{f"{key}_bias_vs_real": float(h[key][0]) for key in ("pgv", "arias", "d5_95")},
               **{f"{key}_bias_vs_gmpe": float(g[f"{key}_bias"]) for key in ("pgv", "arias", "d5_95")},
               **{f"{key}_sigma_ratio": float(g[f"{key}_sigma_ratio"]) for key in ("pgv", "arias", "d5_95")},
               "psa_bias_vs_real_by_period": dict(zip(map(str, EVAL_PERIODS), np.round(h["psa"], 4).tolist())),
               "psa_bias_vs_gmpe_by_period": dict(zip(map(str, EVAL_PERIODS), np.round(g["psa_bias"], 4).tolist())),
               "psa_sigma_ratio_by_period": dict(zip(map(str, EVAL_PERIODS),
                                                     np.round(g["psa_sigma_ratio"], 4).tolist())),
               "waveforms_per_second_cpu": float(r["cpu"]),
               "waveforms_per_second_cpu_without_realism": float(r["cpu_raw"]),
               "waveforms_per_second_cpu_1_thread": float(r["cpu_1thread"]),
               "waveforms_per_second_gpu": float(r["gpu"]) if "gpu" in r else None,
               "training": {k: r["meta"].get(k) for k in ("pretrain_steps", "finetune_steps", "pretrain_seconds",
                                                          "finetune_seconds", "device")} if r["meta"] else None}
        rows.append(row)
        summary["max_abs_median_bias"][name] = row["max_abs_bias_vs_real"]
        summary["max_abs_median_bias_vs_gmpe"][name] = row["max_abs_bias_vs_gmpe"]
        summary["sigma_ratio_min"][name] = row["sigma_ratio_min"]
        summary["sigma_ratio_max"][name] = row["sigma_ratio_max"]
        summary["waveforms_per_second_cpu"][name] = row["waveforms_per_second_cpu"]
        summary["waveforms_per_second_cpu_without_realism"][name] = row["waveforms_per_second_cpu_without_realism"]
        t = r["target"]
        t_ratio.append(t["sigma_ratio"])
        checks = g["realism"] + t["realism"]
        far = [c for c in checks if c["scenario"][1] >= 20.0]
        near = [c for c in checks if c["scenario"][1] <= 80.0]
        row.update({
            "target_max_abs_median_bias": float(np.abs(t["bias"]).max()),
            "target_bias_by_scenario": [float(x) for x in np.abs(t["bias"]).max(axis=1)],
            "target_sigma_ratio_min": float(t["sigma_ratio"].min()),
            "target_sigma_ratio_max": float(t["sigma_ratio"].max()),
            "target_sigma_ratio_median_by_period": [float(x) for x in np.median(t["sigma_ratio"], axis=0)],
            "end_velocity_ratio_max": max(c["end_velocity_ratio_max"] for c in checks),
            "duration_bias_vs_as16_max_abs": max(abs(c["d5_95_ln_bias_vs_as16"]) for c in checks),
            "sp_time_error_max": max(c["sp_time_median_rel_error"] for c in far),
            "sp_time_fraction_within_20pct_min": min(c["sp_time_fraction_within_20pct"] for c in far),
            "kappa_ratio_min": min(c["kappa_median_ratio"] for c in near),
            "kappa_ratio_max": max(c["kappa_median_ratio"] for c in near),
            "realism_by_scenario": checks,
        })
        summary["target_max_abs_median_bias"][name] = row["target_max_abs_median_bias"]
        summary["end_velocity_ratio_max"][name] = row["end_velocity_ratio_max"]
        summary["duration_bias_vs_as16"][name] = row["duration_bias_vs_as16_max_abs"]
        summary["sp_time_error_max"][name] = row["sp_time_error_max"]
        summary["sp_time_fraction_within_20pct_min"][name] = row["sp_time_fraction_within_20pct_min"]
        summary["kappa_ratio_range"][name] = [row["kappa_ratio_min"], row["kappa_ratio_max"]]
        pc = r["pulse"]
        row.update({"pulse_period_ratio": pc["period_ratio"], "pulse_fraction_vs_probability":
                    pc["fraction_vs_probability"], "pulse_end_velocity_ratio_max": pc["end_velocity_ratio_max"],
                    "pulse_by_scenario": pc["rows"]})
        summary["pulse_period_ratio"][name] = pc["period_ratio"]
        summary["pulse_fraction_vs_probability"][name] = pc["fraction_vs_probability"]
        summary["pulse_end_velocity_ratio_max"][name] = pc["end_velocity_ratio_max"]
    rows.append({"model": "BSSA14 (GMPE itself)", "max_abs_bias_vs_real": float(np.max(np.abs(gmpe_real["psa"][band]))),
                 "pgv_bias_vs_real": float(gmpe_real["pgv"]),
                 "psa_bias_vs_real_by_period": dict(zip(map(str, EVAL_PERIODS), np.round(gmpe_real["psa"], 4).tolist()))})
    summary["psa_max_rel_error_vs_peer"] = verification["psa_max_rel_error_horizontal"]
    summary["target_sigma_ratio_min"] = float(np.min(t_ratio))
    summary["target_sigma_ratio_max"] = float(np.max(t_ratio))
    figures = plots(res)
    header = ["model", "bias real", "bias GMPE", "σ ratio", "PGV b", "AI b", "D595 b", "PGV σr", "AI σr", "D595 σr",
              "FD", "wf/s CPU"]
    print(" | ".join(f"{h:>10s}" for h in header))
    for row in rows[:-1]:
        vals = [row["model"], row["max_abs_bias_vs_real"], row["max_abs_bias_vs_gmpe"],
                f"{row['sigma_ratio_min']:.2f}-{row['sigma_ratio_max']:.2f}", row["pgv_bias_vs_gmpe"],
                row["arias_bias_vs_gmpe"], row["d5_95_bias_vs_gmpe"], row["pgv_sigma_ratio"], row["arias_sigma_ratio"],
                row["d5_95_sigma_ratio"], row["frechet_vs_real"], row["waveforms_per_second_cpu"]]
        print(" | ".join(f"{v:>10.3f}" if isinstance(v, float) else f"{v:>10s}" for v in vals))
    header2 = ["model", "tgt |bias|", "tgt σr min", "tgt σr max", "v_end/PGV", "D595 vs AS16", "S-P err", "S-P ≤20%",
               "κ ratio", "wf/s real.", "wf/s raw"]
    print(" | ".join(f"{h:>11s}" for h in header2))
    for row in rows[:-1]:
        vals = [row["model"], row["target_max_abs_median_bias"], row["target_sigma_ratio_min"],
                row["target_sigma_ratio_max"], row["end_velocity_ratio_max"], row["duration_bias_vs_as16_max_abs"],
                row["sp_time_error_max"], row["sp_time_fraction_within_20pct_min"],
                f"{row['kappa_ratio_min']:.2f}-{row['kappa_ratio_max']:.2f}", row["waveforms_per_second_cpu"],
                row["waveforms_per_second_cpu_without_realism"]]
        print(" | ".join(f"{v:>11.4f}" if isinstance(v, float) else f"{v:>11s}" for v in vals))
    for name, r in res.items():
        print_pulse_table(name, r["pulse"])
    print(f"BSSA14 itself vs the held-out records: max |median bias| {rows[-1]['max_abs_bias_vs_real']:.3f} "
          f"(PGV {rows[-1]['pgv_bias_vs_real']:.3f})")
    out = {
        "benchmark": "waveforms",
        "command": f"python benchmarks/waveforms.py --samples {args.samples} --grid-samples {args.grid_samples} "
                   f"--target-samples {args.target_samples} --threads {args.threads} "
                   f"--pulse-samples {args.pulse_samples}",
        "data": {"real": "PEER NGA-West2 AT2 (101 records) + FEMA P695 (40 further records), joined to "
                         "ngawest2_subset on RSN; event-grouped hold-out (seed 0)",
                 "held_out_records": int(held.sum()), "held_out_events": int(len(np.unique(real.event_id[held]))),
                 "grid": GRID, "periods_s": EVAL_PERIODS.tolist(),
                 "gmpes": {"psa_pgv": "BooreEtAl2014", "arias": "TravasarouEtAl2003", "d5_95": "AfshariStewart2016"},
                 "target": "generate(..., target='BooreEtAl2014'): ln RotD50 at 0.05-5 s (15 periods, within the "
                           "0.03-8 s matching range) vs BSSA14 median and total sigma, --target-samples per scenario",
                 "realism": "every grid record, with and without target: end velocity / PGV (trapezoid), median "
                            "D5-95 vs AS16, S-P from AIC picks vs travel-time S-P (R >= 20 km; the per-scenario "
                            "median relative error, max over scenarios), kappa from the 12-40 Hz FAS slope / "
                            "conditioned kappa (R <= 80 km)",
                 "pulse": "generate(..., pulse=True) at M 6.5/7.0/7.5, rrup 5 km, vs30 400 m/s, rake 0, "
                          "--pulse-samples records each: Tp identified from H1 (PSV-peak period / 0.88) vs "
                          "Shahi and Baker (2014) median exp(-6.207 + 1.075 M); pulse='auto' (2 x --pulse-samples "
                          "each, default s = half the Wells and Coppersmith 1994 length): fraction with a pulse vs "
                          "the Shahi and Baker (2014) probability"},
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpu_count": os.cpu_count(),
                    "torch_threads": args.threads, "cuda": bool(torch.cuda.is_available()),
                    "load_average": list(os.getloadavg()),
                    "note": "shared machine; timings are noisy"},
        "verification": verification,
        "rows": rows,
        "summary": summary,
        "figures": figures,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    atomic_write_json(RESULTS / "waveforms.json", out)
    print(f"wrote {RESULTS / 'waveforms.json'} ({out['seconds']} s)")


if __name__ == "__main__":
    main()
