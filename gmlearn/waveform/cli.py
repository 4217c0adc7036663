"""``gmlearn waveforms``: generate, evaluate, train and select accelerograms (Typer sub-app ``app``).

Commands: ``generate`` (records for one scenario as NPZ/CSV/AT2 plus PNG plots, optionally
matched to a GMPE with ``--target``), ``evaluate`` (median bias and sigma ratio against
OpenQuake GMPEs for a scenario grid), ``train`` (a generator retrained on a record
folder and metadata CSV) and ``suite`` (records matched to a target spectrum in mean
and spread). All call the public API (:func:`gmlearn.waveform.load`, ``generate``,
:mod:`gmlearn.waveform.evaluate`, :mod:`gmlearn.waveform.training`,
:mod:`gmlearn.waveform.suite`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gmlearn.cli_errors import fail

app = typer.Typer(
    help="Waveform generators: conditional GAN, diffusion and stochastic simulation of 3-component accelerograms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)
_MODELS = ("cgan", "diffusion", "stochastic")


_fail = fail
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output folder that gmlearn wrote, whole.")]


_PULSE = {"off": False, "on": True, "auto": "auto"}


def _check_pulse(value: str) -> str | float:
    if value in _PULSE:
        return value
    try:
        prob = float(value)
    except ValueError:
        prob = float("nan")
    if not 0.0 <= prob <= 1.0:
        raise typer.BadParameter(f"--pulse must be one of {list(_PULSE)} or a probability in [0, 1]. "
                                 f"Got {value!r} instead.")
    return prob


def _check_model(model: str) -> str:
    if model not in _MODELS and not Path(model).with_suffix(".json").exists() and not (Path(model) / "model.json").exists():
        raise typer.BadParameter(f"--model must be one of {list(_MODELS)}, a saved model path or a model folder "
                                 f"(gmlearn waveforms train). Got {model!r} instead.")
    return model


@app.command("generate")
def generate(
    mag: Annotated[float, typer.Option("--mag", help="Moment magnitude.")],
    rrup: Annotated[float, typer.Option("--rrup", help="Rupture distance (km).")],
    vs30: Annotated[float, typer.Option("--vs30", help="Vs30 (m/s).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    n: Annotated[int, typer.Option("-n", help="Number of three-component records.", min=1, max=100000)] = 10,
    model: Annotated[str, typer.Option("--model", "-m", help="cgan | diffusion | stochastic | saved path.",
                                       callback=_check_model)] = "cgan",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    formats: Annotated[str, typer.Option("--formats", help="Comma-separated: npz,csv,at2.")] = "npz,csv,at2",
    plots: Annotated[bool, typer.Option(help="Write PNG plots of traces and spectra.")] = True,
    overwrite: Overwrite = False,
    rake: Annotated[float, typer.Option("--rake", help="Rake (degrees): style of faulting.", min=-180, max=180)] = 0.0,
    target: Annotated[str | None, typer.Option("--target", help="Match spectra to an OpenQuake GSIM (e.g. "
                                                                 "BooreEtAl2014): its median, tau and phi.")] = None,
    realism: Annotated[bool, typer.Option(help="Arrivals, AS16 duration, coda, kappa, zero baseline (100 Hz); "
                                               "--no-realism gives the generator's own 40-s, 50-Hz window.")] = True,
    pulse: Annotated[str, typer.Option("--pulse", help="Near-fault velocity pulse on H1 (fault normal): off | on "
                                                       "(every record) | auto (Shahi and Baker 2014 probability) | "
                                                       "a probability in [0, 1].",
                                       callback=_check_pulse)] = "off",
    pulse_distance: Annotated[float | None, typer.Option("--pulse-distance", help="With --pulse auto: s (strike-slip) "
                                                         "or d (others) in km; default half the rupture length or "
                                                         "width.", min=0)] = None,
) -> None:
    """Generate N three-component accelerograms (g) for one scenario."""
    import numpy as np

    from gmlearn.exceptions import GMLearnError
    from gmlearn.outputs import check_output, output_folder
    from gmlearn.waveform import load
    from gmlearn.waveform.export import write_records

    try:
        check_output(out, overwrite=overwrite, kind="folder", inputs=[Path(model)])
        fmt = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
        with console.status(f"generating {n} records with {model}"):
            gen = load(model)
            acc, info = gen.generate(mag, rrup, vs30, n=n, random_state=seed, rake=rake, target=target,
                                     realism=realism, pulse=_PULSE.get(pulse, pulse), s_or_d=pulse_distance,
                                     return_info=True)
            dt = gen.dt if realism else gen.base_dt
            with output_folder(out, overwrite=overwrite, inputs=[Path(model)], command="waveforms generate") as tmp:
                cond = {"mag": mag, "rrup": rrup, "vs30": vs30, "rake": rake}
                if "pulse" in info:
                    cond.update({k: np.asarray(info[k], dtype=float) for k in ("pulse", "pulse_period_s",
                                                                                "pulse_pgv_cm_s")})
                files = write_records(acc, dt, tmp, name=f"{gen.kind}_M{mag:g}_R{rrup:g}_V{vs30:g}", formats=fmt,
                                      conditions=cond, lengths=info.get("length_s"))
                if plots:
                    files += _plots(gen.kind, acc, dt, tmp, mag, rrup, vs30)
    except (GMLearnError, ValueError, OSError) as exc:
        _fail(exc)
    table = Table(title=f"{n} records, {gen.kind}, M{mag:g} R{rrup:g} km vs30 {vs30:g} m/s")
    table.add_column("measure")
    table.add_column("median", justify="right")
    from gmlearn.waveform.metrics import summary

    s = summary(acc, dt, np.array([0.2, 1.0, 3.0]), n_angles=36)
    for key, label in (("pga", "PGA (g)"), ("pgv", "PGV (cm/s)"), ("arias", "Arias (m/s)"), ("d5_95", "D5-95 (s)")):
        table.add_row(label, f"{np.median(s[key]):.4g}")
    for i, t in enumerate((0.2, 1.0, 3.0)):
        table.add_row(f"PSA({t:g} s) RotD50 (g)", f"{np.median(s['psa'][:, i]):.4g}")
    if info:
        table.add_row("length (s)", f"{np.min(info['length_s']):g}-{np.max(info['length_s']):g}")
    if "pulse" in info:
        table.add_row("records with a pulse", f"{int(np.sum(info['pulse']))} of {n}")
        if np.any(info["pulse"]):
            table.add_row("pulse period (s)", f"{np.nanmedian(info['pulse_period_s']):.3g}")
    table.add_row("files", f"{len(files)} in {out}")
    Console().print(table)


def _plots(kind: str, acc, dt: float, out: Path, mag: float, rrup: float, vs30: float) -> list[Path]:  # noqa: ANN001
    from gmlearn.waveform.evaluate import EVAL_PERIODS, gmpe_reference
    from gmlearn.waveform.metrics import summary
    from gmlearn.waveform.plots import plot_spectra, plot_traces

    title = f"M{mag:g}, rrup {rrup:g} km, vs30 {vs30:g} m/s"
    spec = summary(acc, dt, EVAL_PERIODS, n_angles=36)["psa"]
    ref = gmpe_reference(mag, rrup, vs30, EVAL_PERIODS)
    return [plot_traces({kind: acc}, dt, out / f"{kind}_traces.png", title),
            plot_spectra(EVAL_PERIODS, {kind: spec}, out / f"{kind}_spectra.png", gmpe=ref["psa"], title=title)]


@app.command("evaluate")
def evaluate(
    models: Annotated[list[str] | None, typer.Option("--model", "-m", help="Models to evaluate (repeatable).")] = None,
    n: Annotated[int, typer.Option("-n", help="Samples per scenario.", min=2)] = 50,
    mag: Annotated[list[float] | None, typer.Option("--mag", help="Magnitudes of the grid (repeatable).")] = None,
    rrup: Annotated[list[float] | None, typer.Option("--rrup", help="Distances (km) of the grid.")] = None,
    vs30: Annotated[list[float] | None, typer.Option("--vs30", help="Vs30 values (m/s) of the grid.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for scores.json.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    overwrite: Overwrite = False,
) -> None:
    """Median ln-PSA bias (T 0.1-3 s) and sigma ratio vs BSSA14 (and PGV, Arias, D5-95 GMPEs) on a scenario grid."""
    import itertools

    import numpy as np

    from gmlearn.exceptions import GMLearnError
    from gmlearn.waveform import load
    from gmlearn.waveform.evaluate import gmpe_reference, measures, scenario_scores

    models = models or list(_MODELS)
    grid = list(itertools.product(mag or [5.5, 6.5, 7.5], rrup or [10.0, 30.0, 80.0], vs30 or [300.0, 760.0]))
    results = {}
    try:
        if out is not None:
            from gmlearn.outputs import check_output

            check_output(out, overwrite=overwrite, kind="folder", inputs=[Path(m) for m in models])
        for name in models:
            _check_model(name)
            gen = load(name)
            rows = []
            with console.status(f"evaluating {name} on {len(grid)} scenarios"):
                for k, (m, r, v) in enumerate(grid):
                    ln = measures(gen.generate(m, r, v, n=n, random_state=seed + k), gen.dt)
                    rows.append(scenario_scores(ln, gmpe_reference(m, r, v)))
            bias = np.median([row["psa_bias"] for row in rows], axis=0)
            ratio = np.median([row["psa_sigma_ratio"] for row in rows], axis=0)
            results[name] = {"max_abs_median_bias": float(np.max(np.abs(bias))), "sigma_ratio_min": float(ratio.min()),
                             "sigma_ratio_max": float(ratio.max()),
                             **{f"{key}_median_bias": float(np.median([row[f"{key}_bias"] for row in rows]))
                                for key in ("pgv", "arias", "d5_95")}}
    except (GMLearnError, ValueError, OSError) as exc:
        _fail(exc)
    table = Table(title=f"vs OpenQuake GMPEs, {len(grid)} scenarios x {n} samples (ln units; σ ratio vs BSSA14)")
    keys = list(next(iter(results.values())))
    labels = {"max_abs_median_bias": "max |PSA bias|", "sigma_ratio_min": "σ ratio min", "sigma_ratio_max": "σ ratio max",
              "pgv_median_bias": "PGV bias", "arias_median_bias": "Arias bias", "d5_95_median_bias": "D5-95 bias"}
    table.add_column("model")
    for key in keys:
        table.add_column(labels.get(key, key), justify="right")
    for name, row in results.items():
        table.add_row(name, *(f"{row[k]:.3f}" for k in keys))
    Console().print(table)
    if out is not None:
        from gmlearn.outputs import output_folder
        from gmlearn.store.atomic import atomic_write_json

        try:
            with output_folder(out, overwrite=overwrite, command="waveforms evaluate") as tmp:
                atomic_write_json(tmp / "scores.json", {"grid": grid, "samples": n, "results": results})
        except (GMLearnError, OSError) as exc:
            _fail(exc)
        console.print(f"[green]wrote[/] {Path(out) / 'scores.json'}")


@app.command("train")
def train(
    records: Annotated[Path, typer.Option("--records", help="Folder of component files (AT2, FEMA CSV, "
                                                            "two-column text or NPZ).")],
    metadata: Annotated[Path, typer.Option("--metadata", help="CSV: record_id, event_id, mag, rrup, vs30, h1 "
                                                              "[, h2, v, rake]; file paths relative to --records.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write (model.json + model.safetensors).")],
    kind: Annotated[str, typer.Option("--kind", help="cgan | diffusion.")] = "cgan",
    seed: Annotated[int, typer.Option(help="Seed (networks, split, simulations, batches).")] = 0,
    steps: Annotated[int, typer.Option("--steps", help="Fine-tuning steps on the records.", min=0)] = 300,
    pretrain_steps: Annotated[int, typer.Option("--pretrain-steps", help="Pretraining steps on simulations.",
                                                min=0)] = 300,
    n_sim: Annotated[int, typer.Option("--n-sim", help="Stochastic simulations for pretraining (0: none).",
                                       min=0)] = 1000,
    held_out: Annotated[float, typer.Option("--held-out", help="Fraction of events held out.", min=0.0,
                                            max=0.9)] = 0.25,
    channels: Annotated[int | None, typer.Option("--channels", help="Network width (default per kind).",
                                                 min=4)] = None,
    threads: Annotated[int, typer.Option("--threads", help="Torch CPU threads.", min=1)] = 1,
    overwrite: Overwrite = False,
) -> None:
    """Train a generator on your records; the model folder loads with `--model DIR` and waveform.load(DIR)."""
    import torch
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from gmlearn.exceptions import GMLearnError
    from gmlearn.outputs import check_output, output_folder
    from gmlearn.waveform.persistence import save_folder
    from gmlearn.waveform.records import read_metadata_folder
    from gmlearn.waveform.training import KINDS
    from gmlearn.waveform.training import train as train_model

    if kind not in KINDS:
        raise typer.BadParameter(f"--kind must be one of {list(KINDS)}. Got {kind!r} instead.")
    torch.set_num_threads(threads)
    try:
        check_output(out, overwrite=overwrite, kind="folder", inputs=[records, metadata])
        with console.status(f"reading records listed in {metadata}"):
            recs = read_metadata_folder(records, metadata)
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn())
        with Progress(*columns, console=console) as bar:
            tasks = {"pretrain": bar.add_task("pretrain (simulations)", total=pretrain_steps if n_sim else 0,
                                              loss=float("nan")),
                     "finetune": bar.add_task(f"fine-tune ({len(recs)} records)", total=steps, loss=float("nan"))}
            model = train_model(recs, kind=kind, seed=seed, n_sim=n_sim, pretrain_steps=pretrain_steps, steps=steps,
                                held_out_fraction=held_out,
                                architecture={"channels": channels} if channels else None,
                                progress=lambda phase, step, loss: bar.update(tasks[phase], completed=step + 1,
                                                                              loss=loss))
        with output_folder(out, overwrite=overwrite, inputs=[records, metadata], command="waveforms train") as tmp:
            save_folder(model, tmp)
        folder = out
    except (GMLearnError, ValueError, OSError) as exc:
        _fail(exc)
        return
    console.print(f"{kind}: {model.n_parameters()} parameters, {len(model.meta['train_records'])} training records, "
                  f"{len(model.meta['held_out_records'])} held out -> {folder}")


@app.command("suite")
def suite(
    target_spectrum: Annotated[Path, typer.Option("--target-spectrum", help="CSV: period_s, psa_g [, sigma_ln] "
                                                                             "(mean spectrum and ln spread).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (AT2 files, spectra CSV).")],
    n: Annotated[int, typer.Option("-n", help="Records in the suite.", min=1, max=1000)] = 11,
    mag: Annotated[float, typer.Option("--mag", help="Magnitude of the scenario (time structure).")] = 6.5,
    rrup: Annotated[float, typer.Option("--rrup", help="Rupture distance (km).")] = 20.0,
    vs30: Annotated[float, typer.Option("--vs30", help="Vs30 (m/s).")] = 400.0,
    rake: Annotated[float, typer.Option("--rake", help="Rake (degrees).", min=-180, max=180)] = 0.0,
    model: Annotated[str, typer.Option("--model", "-m", help="cgan | diffusion | stochastic | saved path.",
                                       callback=_check_model)] = "cgan",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    overwrite: Overwrite = False,
) -> None:
    """Records matched to a target spectrum in mean and spread (a uniform hazard or conditional mean spectrum)."""
    import numpy as np

    from gmlearn.exceptions import GMLearnError
    from gmlearn.outputs import check_output, output_folder
    from gmlearn.waveform.suite import build_suite, read_target_spectrum

    try:
        with console.status(f"building a suite of {n} records with {model}"):
            check_output(out, overwrite=overwrite, kind="folder", inputs=[target_spectrum])
            spectrum = read_target_spectrum(target_spectrum)
            with output_folder(out, overwrite=overwrite, inputs=[target_spectrum], command="waveforms suite") as tmp:
                result = build_suite(spectrum, n=n, mag=mag, rrup=rrup, vs30=vs30, rake=rake, model=model, seed=seed,
                                     out=tmp)
    except (GMLearnError, ValueError, OSError) as exc:
        _fail(exc)
        return
    table = Table(title=f"suite of {n} records vs {target_spectrum.name} (ln units)")
    for col in ("period (s)", "target", "suite mean", "target σ", "suite σ"):
        table.add_column(col, justify="right")
    for row in result["rows"]:
        table.add_row(f"{row['period_s']:g}", f"{row['target_psa_g']:.4g}", f"{row['suite_mean_psa_g']:.4g}",
                      f"{row['target_sigma_ln']:.3f}", f"{row['suite_sigma_ln']:.3f}")
    table.add_row("files", f"{len(result['files'])} in {out}", "", "", f"max |ln mean err| "
                  f"{np.max(np.abs(result['ln_mean_error'])):.3f}")
    Console().print(table)
